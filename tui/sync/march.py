"""Walk two sorted listings in lock step (rclone's march): memory stays bounded whatever their length.

Both listings come from ``Store.list(prefix, recursive=True)``, which yields keys in UTF-8 byte order on every
store (the local store walks directories as S3 sorts keys: ``a-b`` before ``a/b``). Keys are compared relative to
each side's prefix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from tui.errors import StoreError
from tui.safety import display_text
from tui.storage.base import Entry, Store, utf8_key


@dataclass(frozen=True, slots=True)
class Pair:
    """One relative key and what each side has there (None: absent)."""

    rel: str
    src: Entry | None
    dst: Entry | None


async def entries(
    store: Store, prefix: str, keep: Callable[[str], bool] | None = None
) -> AsyncIterator[tuple[str, Entry]]:
    """(relative key, entry) for every object under ``prefix``, in order; checks the order as it goes."""
    last: bytes | None = None
    async for page in store.list(prefix, recursive=True):
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


async def march(src: AsyncIterator[tuple[str, Entry]], dst: AsyncIterator[tuple[str, Entry]]) -> AsyncIterator[Pair]:
    """Merge two sorted streams of (relative key, entry) into pairs."""
    s = await anext(src, None)
    d = await anext(dst, None)
    while s is not None or d is not None:
        if d is None or (s is not None and utf8_key(s[0]) < utf8_key(d[0])):
            assert s is not None
            yield Pair(s[0], s[1], None)
            s = await anext(src, None)
        elif s is None or utf8_key(d[0]) < utf8_key(s[0]):
            yield Pair(d[0], None, d[1])
            d = await anext(dst, None)
        else:
            yield Pair(s[0], s[1], d[1])
            s = await anext(src, None)
            d = await anext(dst, None)
