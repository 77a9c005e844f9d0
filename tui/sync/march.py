"""Walk two sorted listings in lock step (rclone's march): memory stays bounded whatever their length.

Both listings come from ``Store.list(prefix, recursive=True)``, which yields keys in UTF-8 byte order on every
store (the local store walks directories as S3 sorts keys: ``a-b`` before ``a/b``). Keys are compared relative to
each side's prefix.

A listing that fails part way is not a short listing: ``entries`` yields a :class:`ListingFailure` in the stream
(a folder that cannot be read, a page that failed after its retries), and ``march`` passes it on as a
:class:`Pair` with ``error`` set, so the planner counts it as a failure and the delete gate sees it before any
delete could run. A failure of the very first request (no such bucket, no credentials) is raised instead: nothing
was listed, and its exit code (4, 3) says more than "some items failed".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tui.errors import CloudpaneError, StoreError, one_line
from tui.safety import display_text
from tui.storage.base import Entry, Store, utf8_key


@dataclass(frozen=True, slots=True)
class ListingFailure:
    """Part of a listing could not be read: ``message`` says where and why."""

    message: str


#: what a listing stream yields: (relative key, entry) in key order, or a failure at the point it happened
Listed = tuple[str, Entry] | ListingFailure


@runtime_checkable
class CollectsListingErrors(Protocol):
    """A store whose listing goes on past a folder it cannot read, and records the folder here (the local
    store). ``entries`` drains it after every page, so the failure enters the stream before any key that sorts
    after the folder (the walk is depth first in key order)."""

    listing_errors: list[str]
    #: links a listing did not follow because they lead outside its root (``--follow-symlinks``): reported, not
    #: errors (they are left out on purpose, like hidden files)
    skipped_links: list[str]


@dataclass(frozen=True, slots=True)
class Pair:
    """One relative key and what each side has there (None: absent). ``error``: a listing failure of side
    ``error_side`` ("src" or "dst"); then ``rel`` is empty and both entries are None."""

    rel: str
    src: Entry | None
    dst: Entry | None
    error: str | None = None
    error_side: str = ""


def _drain(store: Store) -> list[ListingFailure]:
    if not isinstance(store, CollectsListingErrors) or not store.listing_errors:
        return []
    found = [ListingFailure(f"cannot read folder {problem}") for problem in store.listing_errors]
    store.listing_errors.clear()
    return found


async def entries(store: Store, prefix: str, keep: Callable[[str], bool] | None = None) -> AsyncIterator[Listed]:
    """(relative key, entry) for every object under ``prefix``, in order; checks the order as it goes. Listing
    failures are yielded in the stream (see the module's doc)."""
    last: bytes | None = None
    pages = 0
    listing = store.list(prefix, recursive=True).__aiter__()
    while True:
        try:
            page = await anext(listing, None)
        except CloudpaneError as exc:
            if pages == 0:
                raise  # nothing listed yet: no such bucket (4), no credentials (3), the server is down
            for failure in _drain(store):
                yield failure
            yield ListingFailure(f"listing of {display_text(store.url)}/{display_text(prefix)} failed: {one_line(exc)}")
            return
        pages += 1
        for failure in _drain(store):
            yield failure
        if page is None:
            return
        for e in page:
            if e.is_prefix or not e.key.startswith(prefix):
                continue
            rel = e.key[len(prefix) :]
            if not rel or rel.endswith("/"):
                continue  # folder markers
            order = utf8_key(rel)
            if last is not None and order <= last:
                raise StoreError(f"listing of {display_text(store.url)} is not sorted at {display_text(rel)}")
            last = order
            if keep is None or keep(rel):
                yield rel, e


async def _next_entry(stream: AsyncIterator[Listed], side: str, errors: list[Pair]) -> tuple[str, Entry] | None:
    """The next entry of ``stream``; failures met on the way are collected into ``errors``."""
    while True:
        item = await anext(stream, None)
        if not isinstance(item, ListingFailure):
            return item
        errors.append(Pair("", None, None, error=item.message, error_side=side))


async def march(src: AsyncIterator[Listed], dst: AsyncIterator[Listed]) -> AsyncIterator[Pair]:
    """Merge two sorted streams of (relative key, entry) into pairs; a listing failure of either side comes out
    as an error pair before any pair that follows it in key order."""
    errors: list[Pair] = []
    s = await _next_entry(src, "src", errors)
    d = await _next_entry(dst, "dst", errors)
    while True:
        while errors:
            yield errors.pop(0)
        if s is None and d is None:
            return
        if d is None or (s is not None and utf8_key(s[0]) < utf8_key(d[0])):
            assert s is not None
            yield Pair(s[0], s[1], None)
            s = await _next_entry(src, "src", errors)
        elif s is None or utf8_key(d[0]) < utf8_key(s[0]):
            yield Pair(d[0], None, d[1])
            d = await _next_entry(dst, "dst", errors)
        else:
            yield Pair(s[0], s[1], d[1])
            s = await _next_entry(src, "src", errors)
            d = await _next_entry(dst, "dst", errors)
