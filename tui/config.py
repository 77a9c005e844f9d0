"""Settings and named remotes: a TOML file in the XDG config dir; the environment beats the file.

The file is ``config_dir()/config.toml``::

    concurrency = 8            # parts in flight per file
    part_size = "16MiB"        # or a plain number of bytes
    max_files_in_flight = 16
    default_s3_remote = "minio"

    [remotes.minio]
    type = "s3"
    endpoint_url = "http://127.0.0.1:9000"
    profile = "minio"          # take credentials from this AWS profile

    [remotes.blobs]
    type = "azure"
    connection_string = "..."

Environment variables: ``CLOUDPANE_CONCURRENCY``, ``CLOUDPANE_PART_SIZE``,
``CLOUDPANE_MAX_FILES_IN_FLIGHT``, and ``CLOUDPANE_CONFIG_DIR`` / ``CLOUDPANE_STATE_DIR`` /
``CLOUDPANE_CACHE_DIR`` for the directories.

The command line's global flags ``--profile``, ``--endpoint-url`` and ``--region`` beat both, for ``s3://`` only
(``S3Override``, set by the CLI's group with ``set_cli_override``).

No Textual here. Errors are ``UsageError`` with one line naming the file and the problem, never a
secret's value.
"""

from __future__ import annotations

import configparser
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import platformdirs

from tui.errors import UsageError
from tui.text import display_text

APP_NAME = "cloudpane"
CONFIG_FILE_NAME = "config.toml"

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

#: S3 refuses parts smaller than this (all but the last), and larger than MAX_PART_SIZE
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
#: a sanity bound for the two concurrency settings
MAX_CONCURRENCY = 1024

RemoteType = Literal["s3", "azure"]

#: the names a remote may have: it is typed as ``NAME:bucket/key``, so no ``:`` or ``/``
_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# --- directories ---------------------------------------------------------------------------------


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _dir(env: Mapping[str, str] | None, var: str, default: Path) -> Path:
    override = _env(env).get(var)
    if override:
        return Path(override).expanduser()
    return default


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where ``config.toml`` lives: ``$CLOUDPANE_CONFIG_DIR``, else ``~/.config/cloudpane``."""
    return _dir(env, "CLOUDPANE_CONFIG_DIR", platformdirs.user_config_path(APP_NAME, appauthor=False))


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where state lives (the resume journal): ``$CLOUDPANE_STATE_DIR``, else
    ``~/.local/state/cloudpane``."""
    return _dir(env, "CLOUDPANE_STATE_DIR", platformdirs.user_state_path(APP_NAME, appauthor=False))


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where disposable data lives: ``$CLOUDPANE_CACHE_DIR``, else ``~/.cache/cloudpane``."""
    return _dir(env, "CLOUDPANE_CACHE_DIR", platformdirs.user_cache_path(APP_NAME, appauthor=False))


# --- records -------------------------------------------------------------------------------------

#: fields whose values never appear in a repr or an error message
SECRET_FIELDS = frozenset({"secret_access_key", "session_token", "account_key", "connection_string", "sas_token"})
_S3_FIELDS = frozenset(
    {
        "endpoint_url",
        "region",
        "profile",
        "access_key_id",
        "secret_access_key",
        "session_token",
        "addressing_style",
    }
)
_AZURE_FIELDS = frozenset({"connection_string", "account_name", "account_key", "account_url", "sas_token"})


@dataclass(frozen=True, repr=False)
class RemoteConfig:
    """A named remote from cloudpane's config, typed as ``NAME:bucket/key``.

    Fields left at ``None`` fall back to the SDK's own chain (AWS: environment, profile, SSO,
    instance role; Azure: ``AZURE_STORAGE_CONNECTION_STRING``).
    """

    name: str
    """The name used in locations (``NAME:bucket/key``)."""
    type: RemoteType
    """``"s3"`` for AWS and S3-compatible servers (MinIO, B2, R2), ``"azure"`` for Azure Blob."""

    # s3
    endpoint_url: str | None = None
    """S3: the server's URL (``https://s3.us-west-004.backblazeb2.com``); ``None`` means AWS."""
    region: str | None = None
    """S3: the region to sign for (``us-east-1`` when neither this nor the profile says)."""
    profile: str | None = None
    """S3: an AWS profile (``~/.aws/config``) to take credentials and defaults from."""
    access_key_id: str | None = None
    """S3: a static access key id (use with ``secret_access_key``)."""
    secret_access_key: str | None = None
    """S3: the static secret key. Secret: never shown."""
    session_token: str | None = None
    """S3: a session token for temporary credentials. Secret: never shown."""
    addressing_style: Literal["path", "virtual", "auto"] | None = None
    """S3: ``"path"`` (``host/bucket/key``, what most self-hosted servers want), ``"virtual"``
    (``bucket.host/key``) or ``"auto"`` (botocore decides)."""

    # azure
    connection_string: str | None = None
    """Azure: a storage connection string (account, key or SAS, endpoints). Secret: never shown."""
    account_name: str | None = None
    """Azure: the storage account's name (with ``account_key``, or alone for Azure AD)."""
    account_key: str | None = None
    """Azure: the storage account's shared key. Secret: never shown."""
    account_url: str | None = None
    """Azure: the blob endpoint (``https://ACCOUNT.blob.core.windows.net``, or Azurite's URL)."""
    sas_token: str | None = None
    """Azure: a shared access signature (``sv=...&sig=...``) instead of the key. Secret: never shown."""

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value is not None:
                parts.append(f"{f.name}='***'")
            elif f.name in ("name", "type") or value is not None:
                parts.append(f"{f.name}={value!r}")
        return f"RemoteConfig({', '.join(parts)})"

    __str__ = __repr__


@dataclass
class Settings:
    """Everything cloudpane reads from its config file and the environment."""

    concurrency: int = 8
    """Parts in flight per file (``CLOUDPANE_CONCURRENCY``). Memory: concurrency x part size."""
    part_size: int = 8 * MiB
    """Bytes per multipart part or Azure block, before it grows for huge files
    (``CLOUDPANE_PART_SIZE``; accepts ``8MiB``, ``16M``, plain bytes)."""
    part_size_chosen: bool = False
    """The user set ``part_size``: it then applies to every store, Azure's 4 MiB default block included."""
    max_files_in_flight: int = 16
    """Files transferred at once (``CLOUDPANE_MAX_FILES_IN_FLIGHT``)."""
    remotes: dict[str, RemoteConfig] = field(default_factory=dict)
    """Named remotes from the ``[remotes.NAME]`` tables, by name."""
    default_s3_remote: str | None = None
    """What ``s3://`` means: a remote or an AWS profile; ``None`` means the standard AWS chain."""
    default_azure_remote: str | None = None
    """What ``az://`` means: an azure remote; ``None`` means ``AZURE_STORAGE_CONNECTION_STRING``."""
    s3_override: S3Override = field(default_factory=lambda: S3Override())
    """The command line's ``--profile``, ``--endpoint-url`` and ``--region``: they shape ``s3://``."""
    streamed_listings: bool = False
    """Folders are listed page by page, for a pane that shows rows as they arrive (the TUI sets it)."""


@dataclass(frozen=True)
class S3Override:
    """What the command line's global flags (``--profile``, ``--endpoint-url``, ``--region``, spelled as the aws
    cli spells them) say about the default S3 remote, ``s3://``. A ``NAME:bucket`` location keeps the settings of
    its remote: the flags never redirect a remote the user named.

    ``profile`` makes ``s3://`` mean that name, as ``default_s3_remote`` does: a remote of cloudpane's config of
    type s3 when one has that name, else an AWS profile (``~/.aws/config``). ``endpoint_url`` and ``region`` then
    replace what that remote, profile or the environment (``AWS_ENDPOINT_URL``, ``AWS_REGION``) says.
    """

    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        url = self.endpoint_url
        if url is not None and not url.startswith(("http://", "https://")):
            raise UsageError(f"--endpoint-url must start with http:// or https://, not {display_text(url)}")
        if url is not None and not urlsplit(url).hostname:
            raise UsageError(f"--endpoint-url {display_text(url)} names no host")
        if self.profile is not None and not self.profile.strip():
            raise UsageError("--profile needs a name")
        if self.region is not None and not _REGION.fullmatch(self.region):
            raise UsageError(f"--region {display_text(self.region)} is not a region name (like us-east-1)")


#: what a region may be named (AWS: us-east-1; other servers: their own words, never a space or a slash)
_REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")

#: set once by the command line's group (``set_cli_override``), applied by every ``load_settings`` of the process
_cli_override = S3Override()


def set_cli_override(override: S3Override) -> None:
    """The global flags of this process's command line: ``load_settings`` applies them (the TUI's too)."""
    global _cli_override
    _cli_override = override


# --- parsing -------------------------------------------------------------------------------------

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*")
_UNITS = {
    "": 1,
    "b": 1,
    "k": KiB,
    "kb": KiB,
    "kib": KiB,
    "m": MiB,
    "mb": MiB,
    "mib": MiB,
    "g": GiB,
    "gb": GiB,
    "gib": GiB,
}


def parse_size(text: str) -> int:
    """Bytes from ``"8MiB"``, ``"16M"``, ``"1.5G"`` or ``"1048576"``.

    Units are binary whatever their spelling (``MB`` = ``MiB``), as in the AWS CLI and rclone.
    Raises ``ValueError`` with the reason.
    """
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size (try 8MiB, 16M or a number of bytes)")
    try:
        return int(Decimal(match.group(1)) * _UNITS[unit])
    except InvalidOperation:  # pragma: no cover - the regex only lets decimals through
        raise ValueError(f"{text!r} is not a size") from None


def _int_setting(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high}, not {value}")
    return value


def _size_setting(value: object, what: str) -> int:
    if isinstance(value, str):
        try:
            value = parse_size(value)
        except ValueError as exc:
            raise ValueError(f"{what}: {exc}") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a size such as 8MiB or a number of bytes, not {value!r}")
    if not MIN_PART_SIZE <= value <= MAX_PART_SIZE:
        raise ValueError(f"{what} must be between 5MiB and 5GiB (S3's limits), not {value} bytes")
    return value


def _env_int(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"{what} must be a whole number, not {text!r}") from None
    return _int_setting(value, what, low, high)


_TOP_KEYS = frozenset(
    {
        "concurrency",
        "part_size",
        "max_files_in_flight",
        "remotes",
        "default_s3_remote",
        "default_azure_remote",
    }
)


def _remote(name: str, table: object) -> RemoteConfig:
    """One ``[remotes.NAME]`` table; ``ValueError`` names the key, never a secret's value."""
    where = f"[remotes.{name}]"
    if not _REMOTE_NAME.fullmatch(name):
        raise ValueError(
            f"remote name {name!r} may hold only letters, digits, '.', '_' and '-', and starts with a letter or digit"
        )
    if not isinstance(table, dict):
        raise ValueError(f"remotes.{name} must be a table ({where})")
    kind = table.get("type")
    if kind not in ("s3", "azure"):
        shown = "missing" if kind is None else repr(kind)
        raise ValueError(f'{where}: type must be "s3" or "azure" ({shown})')
    allowed = _S3_FIELDS if kind == "s3" else _AZURE_FIELDS
    other = _AZURE_FIELDS if kind == "s3" else _S3_FIELDS
    values: dict[str, str] = {}
    for key, value in table.items():
        if key == "type":
            continue
        if key in other:
            raise ValueError(f"{where}: {key} does not apply to a remote of type {kind}")
        if key not in allowed:
            raise ValueError(f"{where}: unknown key {key!r}")
        if not isinstance(value, str):
            shown = "" if key in SECRET_FIELDS else f", not {value!r}"
            raise ValueError(f"{where}: {key} must be a string{shown}")
        values[key] = value
    for key in ("endpoint_url", "account_url"):
        url = values.get(key)
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"{where}: {key} must start with http:// or https://, not {url!r}")
    style = values.get("addressing_style")
    if style is not None and style not in ("path", "virtual", "auto"):
        raise ValueError(f'{where}: addressing_style must be "path", "virtual" or "auto", not {style!r}')
    if ("access_key_id" in values) != ("secret_access_key" in values):
        raise ValueError(f"{where}: access_key_id and secret_access_key go together")
    if "session_token" in values and "access_key_id" not in values:
        raise ValueError(f"{where}: session_token needs access_key_id and secret_access_key")
    if "profile" in values and "access_key_id" in values:
        raise ValueError(f"{where}: give either profile or access_key_id/secret_access_key, not both")
    if "account_key" in values and "account_name" not in values and "account_url" not in values:
        raise ValueError(f"{where}: account_key needs account_name or account_url")
    if "account_key" in values and "sas_token" in values:
        raise ValueError(f"{where}: give either account_key or sas_token, not both")
    return RemoteConfig(name=name, type=cast(RemoteType, kind), **cast(dict[str, Any], values))


def _settings_from(data: Mapping[str, object]) -> Settings:
    """Settings from a parsed TOML document; ``ValueError`` with the problem."""
    for key in data:
        if key not in _TOP_KEYS:
            raise ValueError(f"unknown setting {key!r}")
    settings = Settings()
    if "concurrency" in data:
        settings.concurrency = _int_setting(data["concurrency"], "concurrency", 1, MAX_CONCURRENCY)
    if "max_files_in_flight" in data:
        settings.max_files_in_flight = _int_setting(
            data["max_files_in_flight"], "max_files_in_flight", 1, MAX_CONCURRENCY
        )
    if "part_size" in data:
        settings.part_size = _size_setting(data["part_size"], "part_size")
        settings.part_size_chosen = True
    remotes = data.get("remotes", {})
    if not isinstance(remotes, dict):
        raise ValueError("remotes must be a table of [remotes.NAME] tables")
    settings.remotes = {name: _remote(name, table) for name, table in remotes.items()}
    for key in ("default_s3_remote", "default_azure_remote"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} must be a string, not {value!r}")
    s3_default = data.get("default_s3_remote")
    if isinstance(s3_default, str):
        remote = settings.remotes.get(s3_default)
        if remote is not None and remote.type != "s3":
            raise ValueError(f"default_s3_remote {s3_default!r} is an {remote.type} remote")
        settings.default_s3_remote = s3_default  # may also be an AWS profile: checked when used
    az_default = data.get("default_azure_remote")
    if isinstance(az_default, str):
        remote = settings.remotes.get(az_default)
        if remote is None:
            raise ValueError(f"default_azure_remote {az_default!r} is not a remote in this file")
        if remote.type != "azure":
            raise ValueError(f"default_azure_remote {az_default!r} is an {remote.type} remote")
        settings.default_azure_remote = az_default
    return settings


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``config_dir()/config.toml`` (or ``path``) if present, then the environment over it.

    A missing default file means the defaults; a ``path`` given explicitly must exist. A malformed
    file or a bad value raises ``UsageError`` with one line naming the file (or variable) and the
    problem, never a secret's value.
    """
    env = _env(env)
    explicit = path is not None
    path = path if path is not None else config_dir(env) / CONFIG_FILE_NAME
    settings = Settings()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        if explicit:
            raise UsageError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise UsageError(f"{path}: cannot read the config file: {reason}") from None
    else:
        try:
            settings = _settings_from(data)
        except ValueError as exc:
            raise UsageError(f"{path}: {exc}") from None

    for var, what in (
        ("CLOUDPANE_CONCURRENCY", "concurrency"),
        ("CLOUDPANE_MAX_FILES_IN_FLIGHT", "max_files_in_flight"),
        ("CLOUDPANE_PART_SIZE", "part_size"),
    ):
        text = env.get(var, "")
        if not text.strip():
            continue
        try:
            if what == "part_size":
                settings.part_size = _size_setting(text, var)
                settings.part_size_chosen = True
            else:
                setattr(settings, what, _env_int(text, var, 1, MAX_CONCURRENCY))
        except ValueError as exc:
            raise UsageError(f"environment: {exc}") from None
    override = _cli_override
    if override.profile is not None:
        remote = settings.remotes.get(override.profile)
        if remote is not None and remote.type != "s3":
            raise UsageError(f"--profile {display_text(override.profile)}: that remote is of type {remote.type}")
    settings.s3_override = override
    return settings


# --- AWS profiles --------------------------------------------------------------------------------


def _aws_file(env: Mapping[str, str], var: str, default: str) -> Path:
    named = env.get(var)
    if named:
        return Path(named).expanduser()
    home = env.get("HOME")
    return Path(home) / ".aws" / default if home else Path("~/.aws", default).expanduser()


def _sections(path: Path) -> list[str]:
    """The section names of an INI file; a missing or broken file gives what could be read."""
    parser = configparser.RawConfigParser(strict=False, default_section="\x00no-default\x00")
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            parser.read_file(fh)
    except (OSError, configparser.Error):
        # botocore reports a broken file when the profile is used; listing names stays quiet
        return parser.sections()
    return parser.sections()


def aws_profiles(env: Mapping[str, str] | None = None) -> set[str]:
    """Profile names from ``~/.aws/config`` (``[profile NAME]``, ``[default]``) and
    ``~/.aws/credentials`` (``[NAME]``), honouring ``AWS_CONFIG_FILE`` and
    ``AWS_SHARED_CREDENTIALS_FILE``. Missing files are fine.
    """
    env = _env(env)
    names: set[str] = set()
    for section in _sections(_aws_file(env, "AWS_CONFIG_FILE", "config")):
        section = section.strip()
        if section == "default":
            names.add("default")
        elif section.startswith("profile ") or section.startswith("profile\t"):
            name = section[len("profile") :].strip()
            if name:
                names.add(name)
        # other sections ([sso-session X], [services X]) are not profiles
    for section in _sections(_aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials")):
        if section.strip():
            names.add(section.strip())
    return names
