"""A versioned store as it was at a past time: a read-only Store view (the TUI's time travel, ``@``).

The choice of version is ``restore --as-of``'s own (:func:`tui.sync.backup.versions_as_of`): for each key, the
newest version at or before the time; keys whose version then was a delete marker (or that did not exist yet) are
not there. Reads and stats are pinned to that version; every write raises :class:`ReadOnlyError`.

:class:`AsOfHub` hands out such views for every location, so a pane shows the past like any location.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from tui.errors import ConflictError, NotFoundError, UsageError
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Entry, ObjectInfo, Page, PutResult, Remote, Store, Writer
from tui.storage.hub import StoreHub
from tui.sync.backup import versions_as_of

__all__ = ["AsOfHub", "AsOfStore", "ReadOnlyError", "as_of_label", "resolve_version"]


class ReadOnlyError(ConflictError):
    """A write to a view of the past (exit 5: refused)."""


def as_of_label(when: datetime) -> str:
    """``@ 2026-11-01 12:00Z`` (UTC, to the minute; seconds when there are any)."""
    utc = when.astimezone(UTC)
    return "@ " + utc.strftime("%Y-%m-%d %H:%M:%SZ" if utc.second else "%Y-%m-%d %H:%MZ")


class _OneKey:
    """Only the versions of one key, for :func:`versions_as_of` (which takes a store and a prefix)."""

    def __init__(self, store: Store, key: str) -> None:
        self.store, self.key = store, key
        self.features = store.features

    def list_versions(self, prefix: str = "", *, exact: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        return self.store.list_versions(self.key, exact=True, page_size=page_size)


async def resolve_version(store: Store, key: str, when: datetime) -> Entry:
    """The version of ``key`` that was latest at ``when`` (``restore --as-of``'s choice); NotFoundError when there
    was none then, or a delete marker."""
    parent = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    # versions_as_of only reads list_versions: give it this key's versions alone, not the whole folder's
    async for _rel, entry in versions_as_of(_OneKey(store, key), parent, when, None):  # type: ignore[arg-type]
        return entry
    raise NotFoundError(f"{display_text(store.url)}/{display_text(key)}: not there {as_of_label(when)}")


class AsOfStore:
    """``inner`` as it was at ``when``: ``list`` shows the version each key had then, ``stat``/``read`` read
    that version, writes are refused. ``features.versions`` is off: a view of the past has no versions of its own
    to browse or delete."""

    def __init__(self, inner: Store, when: datetime) -> None:
        if not inner.features.versions:
            raise UsageError(f"{display_text(inner.url)} keeps no versions: it has no past to show")
        self.inner = inner
        self.when = when if when.tzinfo else when.replace(tzinfo=UTC)
        self.features = replace(inner.features, versions=False)

    @property
    def url(self) -> str:
        return f"{self.inner.url} {as_of_label(self.when)}"

    def _refuse(self, what: str) -> ReadOnlyError:
        return ReadOnlyError(f"{what}: {display_text(self.url)} is the past, read-only (copy out or restore)")

    async def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        """The keys under ``prefix`` as they were then, each with that version's id, size, ETag and date. Without
        ``recursive``: the files right under ``prefix`` and the folders that held at least one of them then."""
        page: Page = []
        last_dir: str | None = None
        async for rel, entry in versions_as_of(self.inner, prefix, self.when, None):
            if not recursive and "/" in rel:
                sub = prefix + rel.split("/", 1)[0] + "/"
                if sub == last_dir:
                    continue
                last_dir = sub
                page.append(Entry(sub, is_prefix=True))
            else:
                page.append(replace(entry, is_latest=None))
            if len(page) >= page_size:
                yield page
                page = []
        if page:
            yield page

    async def _version(self, key: str, version_id: str | None) -> str | None:
        if version_id is not None:
            return version_id
        return (await resolve_version(self.inner, key, self.when)).version_id

    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        return await self.inner.stat(key, version_id=await self._version(key, version_id))

    async def read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> AsyncIterator[bytes]:
        pinned = await self._version(key, version_id)
        async for chunk in self.inner.read(key, start=start, end=end, version_id=pinned, if_match=if_match):
            yield chunk

    async def put(self, key: str, data: bytes, **_: object) -> PutResult:
        raise self._refuse("write")

    async def open_writer(self, key: str, **_: object) -> Writer:
        raise self._refuse("write")

    async def delete(self, key: str, *, version_id: str | None = None) -> None:
        raise self._refuse("delete")

    async def copy(self, src_key: str, dst_key: str, **_: object) -> PutResult:
        raise self._refuse("write")

    def list_versions(self, prefix: str = "", *, exact: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        return self.inner.list_versions(prefix, exact=exact, page_size=page_size)

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        return await self.inner.presign(key, expires=expires, version_id=await self._version(key, version_id))

    async def close(self) -> None:
        return None  # the inner store belongs to its remote


class AsOfHub(StoreHub):
    """A hub whose stores are :class:`AsOfStore` views of ``base``'s, at ``when``. It opens nothing itself: remotes
    stay ``base``'s (and are closed by it). ``root`` is the location where the time travel began."""

    def __init__(self, base: StoreHub, when: datetime, root: Location) -> None:
        super().__init__(base.settings)
        self.base = base
        self.when = when if when.tzinfo else when.replace(tzinfo=UTC)
        self.root = root

    @property
    def label(self) -> str:
        return as_of_label(self.when)

    def contains(self, location: Location) -> bool:
        """Whether ``location`` is the root of the travel or below it (same remote and bucket)."""
        root = self.root
        if (location.kind, location.remote, location.bucket) != (root.kind, root.remote, root.bucket):
            return False
        return location.key.startswith(root.key)

    async def remote(self, location: Location) -> Remote:
        return await self.base.remote(location)

    async def store(self, location: Location) -> Store:
        return AsOfStore(await self.base.store(location), self.when)

    async def side(self, loc: Location, *, symlinks: Literal["files", "skip", "follow"] = "files") -> tuple[Store, str]:
        store, prefix = await self.base.side(loc, symlinks=symlinks)
        return AsOfStore(store, self.when), prefix

    async def destination(self, loc: Location, *, folder: bool) -> tuple[Store, str]:
        raise ReadOnlyError(f"{display_text(str(loc))} {self.label} is the past, read-only")

    def same_remote(self, a: Location, b: Location) -> bool:
        return self.base.same_remote(a, b)

    async def close(self) -> None:
        return None
