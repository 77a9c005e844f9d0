"""From a Location to an open store: one client per remote, opened on first use and kept until ``close``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from tui.config import RemoteConfig, Settings
from tui.errors import UsageError
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Store
from tui.storage.local import LocalStore
from tui.storage.options import S3Options

if TYPE_CHECKING:
    # loaded on first use: `cloudpane --help` and local-only commands never import aiobotocore or aiohttp
    import aiohttp

    from tui.storage.azure.remote import AzureRemote
    from tui.storage.http import HttpSource
    from tui.storage.s3 import S3Remote

ROOT = Path("/")


def s3_options(name: str | None, settings: Settings) -> S3Options:
    """Options for a named remote (cloudpane config first, then an AWS profile) or the default S3 remote."""
    pool = max(10, settings.concurrency * settings.max_files_in_flight // 2 + 8)
    if name is None:
        if settings.default_s3_remote is None:
            return S3Options(name="s3", max_pool_connections=pool)
        name = settings.default_s3_remote
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


class StoreHub:
    """Opens remotes lazily and shares them: the CLI and the TUI both go through one hub."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._remotes: dict[str, S3Remote] = {}
        #: Azure accounts by remote name (``az`` for the default one)
        self._azure: dict[str, AzureRemote] = {}
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

    async def remote(self, location: Location) -> S3Remote | AzureRemote:
        if location.kind == "azure":
            return await self.azure_remote(location)
        return await self.s3_remote(location)

    async def azure_remote(self, location: Location) -> AzureRemote:
        """The Azure account of an ``az://`` or ``NAME:`` (type azure) location, opened once."""
        from tui.storage.azure.options import azure_options

        options = azure_options(location.remote, self.settings)
        async with self._lock:
            remote = self._azure.get(options.name)
            if remote is None:
                from tui.storage.azure.remote import AzureRemote

                remote = await AzureRemote.connect(options)
                self._azure[options.name] = remote
        return remote

    async def s3_remote(self, location: Location) -> S3Remote:
        if location.kind != "s3":
            raise UsageError(f"{display_text(str(location))} is not a remote location")
        options = s3_options(location.remote, self.settings)
        async with self._lock:
            remote = self._remotes.get(options.name)
            if remote is None:
                from tui.storage.s3 import S3Remote

                remote = await S3Remote.connect(options)
                self._remotes[options.name] = remote
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
        if loc.kind not in ("s3", "azure") or loc.bucket is None:
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
        """Both on one S3 remote or one Azure account (one endpoint, one credential set): server-side copies work
        between them (CopyObject; Copy Blob)."""
        if a.kind == "azure" and b.kind == "azure":
            return (a.remote or self.settings.default_azure_remote) == (b.remote or self.settings.default_azure_remote)
        if a.kind != "s3" or b.kind != "s3":
            return False
        return s3_options(a.remote, self.settings).name == s3_options(b.remote, self.settings).name

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
        accounts, self._azure = list(self._azure.values()), {}
        for account in accounts:
            await account.close()
        if self._http is not None:
            await self._http.close()
            self._http = None
