"""Copy one object between any two stores, streamed, with bounded memory.

Memory is bounded by ``concurrency x part_size`` plus a constant whatever the object's size: each part is read
(ranged) and written by its own task, and at most ``concurrency`` such tasks hold a buffer at once. Same-store
copies are server-side. A failed upload aborts its multipart upload; local destinations are written to a temporary
name and renamed at the end (the stores' writers do that).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from tui.errors import CloudpaneError, StoreError
from tui.storage.base import ObjectInfo, PartResult, PutResult, Store, Writer
from tui.storage.meta import MTIME_KEY, format_mtime

MiB = 1024 * 1024
#: S3 CopyObject handles up to 5 GiB in one request
MAX_COPY_OBJECT = 5 * 1024 * MiB

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class CopyOptions:
    part_size: int = 8 * MiB
    concurrency: int = 8


def choose_part_size(size: int, part_size: int, max_parts: int) -> int:
    """The configured part size, grown (in whole MiB) so that ``size`` needs at most ``max_parts`` parts."""
    if size <= part_size * max_parts:
        return part_size
    needed = -(-size // max_parts)
    return -(-needed // MiB) * MiB


def content_md5(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def _read_all(stream: AsyncIterator[bytes], expected: int | None) -> bytearray:
    buf = bytearray()
    async for chunk in stream:
        buf += chunk
    if expected is not None and len(buf) != expected:
        raise StoreError(f"short read: got {len(buf)} bytes, expected {expected}")
    return buf


def _metadata(info: ObjectInfo) -> dict[str, str]:
    meta = dict(info.metadata)
    if MTIME_KEY not in meta and info.last_modified is not None:
        meta[MTIME_KEY] = format_mtime(info.last_modified.timestamp())
    return meta


async def copy_object(
    src: Store,
    src_key: str,
    dst: Store,
    dst_key: str,
    *,
    info: ObjectInfo | None = None,
    options: CopyOptions | None = None,
    progress: Progress | None = None,
    same_remote: bool = False,
) -> PutResult:
    """Copy ``src_key`` of ``src`` to ``dst_key`` of ``dst``. ``info`` saves a ``stat`` when the caller has one."""
    opts = options or CopyOptions()
    if info is None:
        info = await src.stat(src_key)
    size = info.size
    metadata = _metadata(info)
    if same_remote and dst.features.server_side_copy and size <= MAX_COPY_OBJECT:
        result = await dst.copy(src_key, dst_key, src_version_id=info.version_id, metadata=metadata)
        if progress:
            progress(size)
        return result
    pin = info.etag
    part_size = choose_part_size(size, opts.part_size, dst.features.max_parts)
    if size <= part_size:
        data = await _read_all(src.read(src_key, version_id=info.version_id, if_match=pin), expected=size)
        digest = await asyncio.to_thread(content_md5, data)
        result = await dst.put(
            dst_key,
            bytes(data),
            metadata=metadata,
            content_type=info.content_type,
            content_md5=digest,
        )
        if progress:
            progress(size)
        return result
    writer = await dst.open_writer(dst_key, metadata=metadata, content_type=info.content_type, part_size=part_size)
    try:
        parts = await _upload_parts(
            src, src_key, writer, size, part_size, opts.concurrency, info.version_id, pin, progress
        )
        return await writer.complete(parts)
    except BaseException:
        with contextlib.suppress(CloudpaneError):  # the original failure is what the user needs to see
            await asyncio.shield(writer.abort())
        raise


async def _upload_parts(
    src: Store,
    src_key: str,
    writer: Writer,
    size: int,
    part_size: int,
    concurrency: int,
    version_id: str | None,
    pin: str | None,
    progress: Progress | None,
) -> list[PartResult]:
    count = -(-size // part_size)
    slots = asyncio.Semaphore(concurrency)

    async def one(number: int) -> PartResult:
        start = (number - 1) * part_size
        end = min(size, start + part_size)
        async with slots:
            data = await _read_all(
                src.read(src_key, start=start, end=end, version_id=version_id, if_match=pin),
                expected=end - start,
            )
            digest = await asyncio.to_thread(content_md5, data)
            part = await writer.write_part(number, bytes(data), content_md5=digest)
            del data
        if progress:
            progress(end - start)
        return part

    # tasks are created lazily behind the semaphore so that memory stays bounded
    tasks: list[asyncio.Task[PartResult]] = []
    try:
        async with asyncio.TaskGroup() as group:
            for number in range(1, count + 1):
                tasks.append(group.create_task(one(number)))
    except BaseExceptionGroup as eg:
        first = eg.exceptions[0]
        raise first from None
    return [t.result() for t in tasks]
