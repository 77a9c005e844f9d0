"""Server-side copies into a store that reads a URL itself: Azure's Put Block From URL, as azcopy does for S3 ->
Azure. The source presigns a read URL; the destination pulls each block's byte range from it; nothing goes through
this machine.

- Only between two remotes (same-remote copies are CopyObject / Copy Blob), only when the source can presign
  (``Features.presign``) and the destination store offers ``open_url_writer`` (``PullsFromUrl``).
- Where the service answers that it cannot (Azurite: 501; Azure: ``CannotVerifyCopySource``, e.g. a source it
  cannot reach), the copy streams instead, and so does every later copy between the same two remotes in this
  process: said once per remote pair (a warning on the ``cloudpane`` logger: stderr in the CLI).
- Retries per block (the engine's retry loop); progress per block; a source whose ETag changed meanwhile is a
  SourceChangedError and nothing is committed (the old blob, if any, stays).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from tui.errors import CloudpaneError, SourceChangedError, UnsupportedError
from tui.safety import display_text
from tui.storage.base import ObjectInfo, PartResult, PutResult, Store, Writer
from tui.transfer.parts import choose_part_size, first_failure
from tui.transfer.retry import RetryPolicy, retrying

if TYPE_CHECKING:
    from collections.abc import Callable


MiB = 1024 * 1024
#: each block the service pulls (no buffer here: large blocks, few requests)
PULL_BLOCK = 100 * MiB
#: how long the presigned source URL lives
URL_LIFETIME = timedelta(hours=6)

log = logging.getLogger("cloudpane.transfer")


class PullOptions(Protocol):
    """What a pulled copy takes from ``tui.transfer.copy.CopyOptions`` (a protocol: pull is below copy)."""

    @property
    def part_size(self) -> int: ...

    @property
    def concurrency(self) -> int: ...

    @property
    def retry(self) -> RetryPolicy: ...


@runtime_checkable
class UrlWriter(Writer, Protocol):
    async def stage_from_url(self, number: int, url: str, start: int, end: int) -> PartResult:
        """Have the service read bytes ``[start, end)`` of ``url`` as part ``number``."""
        ...


@runtime_checkable
class PullsFromUrl(Protocol):
    """A store whose service can read a block from a URL (Put Block From URL)."""

    async def open_url_writer(self, key: str, *, metadata: dict[str, str], content_type: str | None) -> UrlWriter: ...


#: (source remote, destination remote) pairs whose destination said it cannot pull
_CANNOT: set[tuple[str, str]] = set()


def _remote_of(store: Store) -> str:
    """``s3``, ``az`` or a remote's name, from the store's URL (``s3://b``, ``az://c``, ``NAME:b``)."""
    url = store.url
    return url.split("://", 1)[0] if "://" in url else url.split(":", 1)[0]


def _pair(src: Store, dst: Store) -> tuple[str, str]:
    return _remote_of(src), _remote_of(dst)


def can_pull(src: Store, dst: Store, *, same_remote: bool, size: int) -> bool:
    return (
        not same_remote
        and size > 0
        and isinstance(dst, PullsFromUrl)
        and src.features.presign
        and src.features.buckets
        and _pair(src, dst) not in _CANNOT
    )


async def pull_copy(
    src: Store,
    src_key: str,
    dst: Store,
    dst_key: str,
    info: ObjectInfo,
    metadata: dict[str, str],
    opts: PullOptions,
    progress: Callable[[int], None] | None,
) -> PutResult | None:
    """The server-side copy, or None when the destination cannot pull (then the caller streams)."""

    assert isinstance(dst, PullsFromUrl)
    policy = opts.retry
    size = info.size
    block = choose_part_size(size, max(PULL_BLOCK, opts.part_size), dst.features.max_parts)
    url = await retrying(lambda: src.presign(src_key, expires=URL_LIFETIME, version_id=info.version_id), policy=policy)
    writer = await dst.open_url_writer(dst_key, metadata=metadata, content_type=info.content_type)
    slots = asyncio.Semaphore(opts.concurrency)
    counted = 0

    async def one(number: int) -> PartResult:
        nonlocal counted
        start = (number - 1) * block
        end = min(size, start + block)
        async with slots:
            part = await retrying(lambda: writer.stage_from_url(number, url, start, end), policy=policy)
        if progress:
            progress(end - start)
            counted += end - start
        return part

    count = -(-size // block)
    try:
        try:
            first = await one(1)  # the probe: a service that cannot pull says so on the first block
        except UnsupportedError as exc:
            pair = _pair(src, dst)
            said = pair in _CANNOT  # copies running side by side may all have asked: say it once
            _CANNOT.add(pair)
            (log.debug if said else log.warning)(
                "cloudpane: note: %s cannot pull from %s server-side (%s); streaming through this machine instead "
                "for copies between these two remotes",
                display_text(pair[1]),
                display_text(pair[0]),
                display_text(str(exc).rsplit("(", 1)[-1].rstrip(")")),
            )
            with contextlib.suppress(CloudpaneError):
                await writer.abort()
            return None
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(n)) for n in range(2, count + 1)]
        parts = [first, *(t.result() for t in tasks)]
        now = await retrying(lambda: src.stat(src_key, version_id=info.version_id), policy=policy)
        if (now.etag, now.size) != (info.etag, info.size):
            raise SourceChangedError(f"{src.url}/{display_text(src_key)}: source changed during the copy")
        return await retrying(lambda: writer.complete(parts), policy=policy)
    except BaseException as exc:
        if progress and counted:
            progress(-counted)  # nothing was copied
        with contextlib.suppress(CloudpaneError):
            await asyncio.shield(writer.abort())
        if isinstance(exc, BaseExceptionGroup):
            raise first_failure(exc) from None
        raise
