"""From a Location to an open store: one client per remote, opened on first use and kept until ``close``.

Remotes come from a registry keyed by location kind (:data:`BACKENDS`): a backend says how a location's remote
name resolves (the key its one client is shared under) and how to connect it. Adding a backend (Azure: kind
``"azure"``) is one entry; nothing above the hub knows a concrete store. Local paths and https:// sources have no
remote: the hub hands out their stores directly.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from tui.config import RemoteConfig, Settings
from tui.errors import UsageError
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Remote, Store
from tui.storage.local import LocalStore
from tui.storage.options import S3Options

if TYPE_CHECKING:
    # loaded on first use: `cloudpane --help` and local-only commands never import aiobotocore or aiohttp
    import aiohttp

    from tui.storage.http import HttpSource

ROOT = Path("/")


def s3_options(name: str | None, settings: Settings) -> S3Options:
    """Options for a named remote (cloudpane config first, then an AWS profile) or the default S3 remote."""
    options = _s3_options(name, settings)
    return replace(options, streamed_listings=True) if settings.streamed_listings else options


def _s3_options(name: str | None, settings: Settings) -> S3Options:
    if name is None:
        # s3:// is shaped by the command line's --profile, --endpoint-url and --region (tui.config.S3Override)
        override = settings.s3_override
        options = _s3_named(override.profile or settings.default_s3_remote, settings)
        if override.endpoint_url is None and override.region is None:
            return options
        return replace(
            options,
            endpoint_url=override.endpoint_url or options.endpoint_url,
            region=override.region or options.region,
        )
    return _s3_named(name, settings)


def _s3_named(name: str | None, settings: Settings) -> S3Options:
    pool = max(10, settings.concurrency * settings.max_files_in_flight // 2 + 8)
    if name is None:
        return S3Options(name="s3", max_pool_connections=pool)
    cfg: RemoteConfig | None = settings.remotes.get(name)
    if cfg is None:
        return S3Options(name=name, profile=name, max_pool_connections=pool)
    if cfg.type != "s3":
        raise UsageError(f"remote {display_text(name)} is of type {cfg.type}, not s3")
    return S3Options(
        name=name,
        profile=cfg.profile,
        endpoint_url=cfg.endpoint_url,
        region=cfg.region,
        access_key_id=cfg.access_key_id,
        secret_access_key=cfg.secret_access_key,
        session_token=cfg.session_token,
        addressing_style=cfg.addressing_style,
        max_pool_connections=pool,
    )


@dataclass(frozen=True, slots=True)
class Backend:
    """How the locations of one kind reach their remote."""

    #: (the remote name typed, or None for the kind's default; settings) -> the remote's canonical name: two
    #: locations with the same name share one client, and server-side copies work between them
    resolve: Callable[[str | None, Settings], str]
    #: (the remote name typed, or None; settings) -> a connected Remote (imports its SDK on first use)
    connect: Callable[[str | None, Settings], Awaitable[Remote]]


def _s3_name(name: str | None, settings: Settings) -> str:
    return s3_options(name, settings).name


async def _s3_connect(name: str | None, settings: Settings) -> Remote:
    from tui.storage.s3_account import S3Account

    return await S3Account.connect(s3_options(name, settings))


def _azure_name(name: str | None, settings: Settings) -> str:
    # as azure_options names it, without reading credentials (same_remote must not fail on a missing key)
    return name or settings.default_azure_remote or "az"


async def _azure_connect(name: str | None, settings: Settings) -> Remote:
    from tui.storage.azure.options import azure_options
    from tui.storage.azure_account import AzureAccount

    return await AzureAccount.connect(azure_options(name, settings))


#: location kind -> backend. Local paths and https:// URLs have no remote (see StoreHub.store)
BACKENDS: dict[str, Backend] = {
    "s3": Backend(resolve=_s3_name, connect=_s3_connect),
    "azure": Backend(resolve=_azure_name, connect=_azure_connect),
}


class StoreHub:
    """Opens remotes lazily and shares them: the CLI and the TUI both go through one hub."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._remotes: dict[tuple[str, str], Remote] = {}
        self._lock = asyncio.Lock()
        self._local = LocalStore(ROOT)
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> StoreHub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def remote(self, location: Location) -> Remote:
        """The remote (account, endpoint) of ``location``, connected on first use and shared afterwards."""
        backend = BACKENDS.get(location.kind)
        if backend is None:
            raise UsageError(f"{display_text(str(location))} is not a remote location")
        key = (location.kind, backend.resolve(location.remote, self.settings))
        async with self._lock:
            remote = self._remotes.get(key)
            if remote is None:
                remote = await backend.connect(location.remote, self.settings)
                self._remotes[key] = remote
        return remote

    async def store(self, location: Location) -> Store:
        """The store that holds ``location`` (a bucket, or the local root ``/``)."""
        if location.kind == "local":
            return self._local
        if location.kind == "https":
            raise UsageError("an https:// URL can only be a source to copy from")
        if location.bucket is None:
            raise UsageError(f"{display_text(str(location))} is a bucket list, not a bucket")
        remote = await self.remote(location)
        return remote.store(location.bucket)

    async def side(self, loc: Location, *, symlinks: Literal["files", "skip", "follow"] = "files") -> tuple[Store, str]:
        """The store and key prefix of one side of a backup or sync: a local directory is its own root (so keys
        cannot leave it), a bucket location gives its bucket and the key as a prefix ending in ``/``."""
        if loc.kind == "local":
            assert loc.path is not None
            # every local side refuses writes through a symlink below its root (restore, sync, backup to disk)
            return LocalStore(loc.path, symlinks=symlinks, no_symlink_writes=True), ""
        if loc.kind not in BACKENDS or loc.bucket is None:
            raise UsageError(f"{display_text(str(loc))}: a directory or a bucket/prefix is needed here")
        store = await self.store(loc)
        key = loc.key
        return store, key + "/" if key and not key.endswith("/") else key

    async def destination(self, loc: Location, *, folder: bool) -> tuple[Store, str]:
        """The store and key to write ``loc`` into. A local destination gets a store rooted at the directory the
        user named (``folder``: the location itself; else its parent), which refuses to write through a symlink
        below that directory: a link planted in a download folder is never followed."""
        if loc.kind != "local":
            return await self.store(loc), self.key(loc)
        assert loc.path is not None
        if folder:
            return LocalStore(loc.path, no_symlink_writes=True), ""
        return LocalStore(loc.path.parent, no_symlink_writes=True), loc.path.name

    def same_remote(self, a: Location, b: Location) -> bool:
        """Both on one remote (one endpoint, one credential set): server-side copies work between them."""
        backend = BACKENDS.get(a.kind)
        if backend is None or a.kind != b.kind:
            return False
        return backend.resolve(a.remote, self.settings) == backend.resolve(b.remote, self.settings)

    @staticmethod
    def key(location: Location) -> str:
        """The key of ``location`` inside its store (local paths are keys under ``/``)."""
        if location.kind == "local":
            assert location.path is not None
            rel = Path(os.path.normpath(location.path)).relative_to(ROOT).as_posix()
            rel = "" if rel == "." else rel
            if rel and location.is_prefix and not rel.endswith("/"):
                rel += "/"
            return rel
        return location.key

    def http_source(self, location: Location) -> HttpSource:
        """A read-only source for an https:// location (one shared HTTP session)."""
        import aiohttp

        from tui.storage.http import HttpSource

        if location.kind != "https" or location.url is None:
            raise UsageError(f"{display_text(str(location))} is not an https:// URL")
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=60))
        return HttpSource(location.url, self._http)

    async def close(self) -> None:
        remotes, self._remotes = list(self._remotes.values()), {}
        for remote in remotes:
            await remote.close()
        if self._http is not None:
            await self._http.close()
            self._http = None
