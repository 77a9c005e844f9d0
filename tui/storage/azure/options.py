"""How to reach an Azure storage account: a plain record, importable without loading the SDK.

Where the default account (``az://``) comes from, first match wins, as the az cli reads it:

1. ``default_azure_remote`` in cloudpane's config (a ``type = "azure"`` remote);
2. ``AZURE_STORAGE_CONNECTION_STRING`` (``AccountName``/``AccountKey``, or ``SharedAccessSignature``, with
   ``BlobEndpoint`` or ``DefaultEndpointsProtocol``/``EndpointSuffix``; ``UseDevelopmentStorage=true`` for Azurite);
3. ``AZURE_STORAGE_ACCOUNT`` with ``AZURE_STORAGE_KEY`` or ``AZURE_STORAGE_SAS_TOKEN``; the endpoint is
   ``https://ACCOUNT.blob.core.windows.net`` unless ``AZURE_STORAGE_SERVICE_ENDPOINT`` names another (Azurite).

Keys, SAS tokens and connection strings live only in ``AzureOptions`` and the SDK's credential policy: never in a
repr, a URL we show, a log line or an error message (``secrets()`` lists them for the scrubber in ``errors``).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.config import RemoteConfig, Settings
from tui.errors import AuthError, UsageError
from tui.safety import display_text

#: Azurite's well-known development account (public, documented by Microsoft; not a secret)
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
DEV_ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"

#: the REST API version we speak. The SDK's newest (2026-10-06 in 12.31.1) is refused by Azurite 3.35 unless it runs
#: with --skipApiVersionCheck (shared/bench/results/azurite.md); this one works on both and on Azure itself.
API_VERSION = "2025-11-05"

DEFAULT_NAME = "az"

_NO_CREDENTIALS = (
    "no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY "
    "or AZURE_STORAGE_SAS_TOKEN, or a remote of type azure in cloudpane's config"
)


@dataclass(frozen=True, slots=True, repr=False)
class AzureOptions:
    """One account: its blob endpoint and one credential (shared key, or SAS token). Secrets never shown."""

    name: str = DEFAULT_NAME
    account_url: str = ""
    account_name: str | None = None
    account_key: str | None = None
    sas_token: str | None = None
    api_version: str = API_VERSION
    #: connections in the shared aiohttp pool: blocks in flight x files in flight, plus listings
    max_connections: int = 64

    def __repr__(self) -> str:
        credential = "key" if self.account_key else "sas" if self.sas_token else "none"
        return (
            f"AzureOptions(name={self.name!r}, account_url={self.account_url!r}, "
            f"account_name={self.account_name!r}, credential={credential})"
        )

    __str__ = __repr__

    def secrets(self) -> tuple[str, ...]:
        """Every secret string (and the parts a SAS token is made of) that must never be shown."""
        found: list[str] = []
        if self.account_key:
            found.append(self.account_key)
        if self.sas_token:
            token = self.sas_token.lstrip("?")
            found.append(token)
            for pair in token.split("&"):
                name, _, value = pair.partition("=")
                if name.lower() == "sig" and value:
                    found.append(value)
        return tuple(s for s in found if len(s) >= 4)


def parse_connection_string(text: str, *, name: str = DEFAULT_NAME, where: str) -> AzureOptions:
    """An ``AzureOptions`` from an Azure storage connection string. Errors name ``where`` and the missing field,
    never the value."""
    fields: dict[str, str] = {}
    for part in text.strip().split(";"):
        if not part.strip():
            continue
        field_name, eq, value = part.partition("=")
        if not eq:
            raise UsageError(f"{where}: not a connection string (expected Name=value pairs separated by ';')")
        fields[field_name.strip().lower()] = value.strip()
    if fields.get("usedevelopmentstorage", "").lower() == "true":
        proxy = fields.get("developmentstorageproxyuri")
        dev = f"{proxy.rstrip('/')}/{DEV_ACCOUNT}" if proxy else DEV_ENDPOINT
        return AzureOptions(name=name, account_url=dev, account_name=DEV_ACCOUNT, account_key=DEV_KEY)
    account: str | None = fields.get("accountname") or None
    endpoint: str = fields.get("blobendpoint") or ""
    if not endpoint:
        if account is None:
            raise UsageError(f"{where}: the connection string has neither AccountName nor BlobEndpoint")
        protocol = fields.get("defaultendpointsprotocol", "https") or "https"
        suffix = fields.get("endpointsuffix", "core.windows.net") or "core.windows.net"
        endpoint = f"{protocol}://{account}.blob.{suffix}"
    key: str | None = fields.get("accountkey") or None
    sas: str | None = fields.get("sharedaccesssignature") or None
    if key is None and sas is None:
        raise AuthError(f"{where}: the connection string has neither AccountKey nor SharedAccessSignature")
    return _checked(
        AzureOptions(name=name, account_url=endpoint, account_name=account, account_key=key, sas_token=sas), where
    )


def account_from_url(url: str) -> str | None:
    """The account an endpoint names: ``ACCOUNT.blob.core.windows.net``, or the first path segment of an emulator's
    ``http://127.0.0.1:10000/ACCOUNT`` (what the SDK does too)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.replace(".", "").isdigit() or host in ("localhost", "[::1]", "::1") or ":" in host:
        segment = parts.path.strip("/").split("/", 1)[0]
        return segment or None
    return host.split(".", 1)[0] or None


def _checked(options: AzureOptions, where: str) -> AzureOptions:
    parts = urlsplit(options.account_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{where}: the blob endpoint must be an http:// or https:// URL")
    if parts.query or "@" in parts.netloc:
        raise UsageError(f"{where}: the blob endpoint must not carry a query or credentials (use a SAS token field)")
    if options.account_name is None:
        options = AzureOptions(
            name=options.name,
            account_url=options.account_url,
            account_name=account_from_url(options.account_url),
            account_key=options.account_key,
            sas_token=options.sas_token,
        )
    if options.account_key and not options.account_name:
        raise UsageError(f"{where}: a shared key needs the account name (AccountName, or the endpoint's)")
    if options.account_key:
        try:
            base64.b64decode(options.account_key, validate=True)
        except ValueError:
            raise UsageError(f"{where}: the account key is not base64 (copy it again from the portal)") from None
    return options


def _from_remote(cfg: RemoteConfig) -> AzureOptions:
    where = f"remote {display_text(cfg.name)}"
    if cfg.connection_string:
        options = parse_connection_string(cfg.connection_string, name=cfg.name, where=where)
        if cfg.account_url:
            options = _checked(
                AzureOptions(
                    name=cfg.name,
                    account_url=cfg.account_url,
                    account_name=options.account_name,
                    account_key=options.account_key,
                    sas_token=options.sas_token,
                ),
                where,
            )
        return options
    account = cfg.account_name
    url = cfg.account_url or (f"https://{account}.blob.core.windows.net" if account else "")
    if not url:
        raise UsageError(f"{where}: give connection_string, or account_name (or account_url) with a key or SAS token")
    if not cfg.account_key and not cfg.sas_token:
        raise AuthError(
            f"{where}: no account_key or sas_token (Azure AD sign-in is not supported yet; use a key or SAS token)"
        )
    return _checked(
        AzureOptions(
            name=cfg.name, account_url=url, account_name=account, account_key=cfg.account_key, sas_token=cfg.sas_token
        ),
        where,
    )


def _from_env(env: Mapping[str, str]) -> AzureOptions:
    conn = env.get("AZURE_STORAGE_CONNECTION_STRING", "").strip()
    if conn:
        return parse_connection_string(conn, where="AZURE_STORAGE_CONNECTION_STRING")
    account = env.get("AZURE_STORAGE_ACCOUNT", "").strip() or None
    key = env.get("AZURE_STORAGE_KEY", "").strip() or None
    sas = env.get("AZURE_STORAGE_SAS_TOKEN", "").strip() or None
    endpoint = env.get("AZURE_STORAGE_SERVICE_ENDPOINT", "").strip() or None
    if account is None and endpoint is None:
        raise AuthError(_NO_CREDENTIALS)
    if key is None and sas is None:
        raise AuthError(_NO_CREDENTIALS)
    url = endpoint or f"https://{account}.blob.core.windows.net"
    return _checked(
        AzureOptions(account_url=url, account_name=account, account_key=key, sas_token=sas),
        "AZURE_STORAGE_SERVICE_ENDPOINT",
    )


def azure_options(name: str | None, settings: Settings, env: Mapping[str, str] | None = None) -> AzureOptions:
    """Options for a named azure remote, or for ``az://`` (the default remote, else the az cli environment)."""
    env = os.environ if env is None else env
    pool = max(10, settings.concurrency * settings.max_files_in_flight // 2 + 8)
    if name is None:
        name = settings.default_azure_remote
    if name is None:
        options = _from_env(env)
    else:
        cfg = settings.remotes.get(name)
        if cfg is None:
            raise UsageError(f"unknown azure remote {display_text(name)}")
        if cfg.type != "azure":
            raise UsageError(f"remote {display_text(name)} is of type {cfg.type}, not azure")
        options = _from_remote(cfg)
    return AzureOptions(
        name=options.name,
        account_url=options.account_url.rstrip("/"),
        account_name=options.account_name,
        account_key=options.account_key,
        sas_token=options.sas_token.lstrip("?") if options.sas_token else None,
        api_version=options.api_version,
        max_connections=pool,
    )
