"""Copy one object between any two stores: streamed, parallel, bounded, retried, verified.

- Memory is bounded by ``concurrency x part_size`` plus a constant whatever the object's size: each part is read
  (ranged, ETag pinned) and written by its own task, and at most ``concurrency`` parts hold a buffer at once.
- Every request and every part goes through our retry loop; progress rewinds on a retry and never passes 100 %.
- Same-server copies are server-side (CopyObject, or UploadPartCopy past 5 GiB where the server really does it).
- A failed or cancelled multipart upload is aborted (unless the resume journal keeps it); local destinations are
  written to a temporary name and renamed at the end (the local store's writers do that).
- Integrity: Content-MD5 on every part and single PUT; multipart uploads from local files carry the whole-file MD5
  in ``md5chksum`` and the mtime in ``mtime`` (rclone's metadata). When the source's MD5 is known (a single-part
  ETag or ``md5chksum``), the bytes read are hashed in order and a mismatch fails the copy before it completes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.errors import CloudpaneError, StoreError, TransientError
from tui.safety import display_text
from tui.storage.base import ObjectInfo, PartResult, PutResult, Store, Writer
from tui.storage.meta import MD5_KEY, MTIME_KEY, format_mtime, format_mtime_ns, md5_b64_to_hex, md5_hex_to_b64
from tui.transfer.retry import RetryPolicy, retrying

if TYPE_CHECKING:
    from tui.transfer.journal import Journal, JournalUpload

MiB = 1024 * 1024
#: S3 CopyObject handles up to 5 GiB in one request
MAX_COPY_OBJECT = 5 * 1024 * MiB

Progress = Callable[[int], None]


class IntegrityError(StoreError):
    """The bytes do not match the checksum the source claims."""


class Bandwidth:
    """A shared byte-rate limit (a virtual clock: each chunk waits for its slot)."""

    def __init__(self, bytes_per_second: int) -> None:
        if bytes_per_second <= 0:
            raise ValueError("bandwidth must be positive")
        self.rate = float(bytes_per_second)
        self._next = 0.0

    async def take(self, n: int) -> None:
        now = time.monotonic()
        start = max(now, self._next)
        self._next = start + n / self.rate
        if start > now:
            await asyncio.sleep(start - now)


@dataclass(frozen=True, slots=True)
class CopyOptions:
    part_size: int = 8 * MiB
    concurrency: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    bandwidth: Bandwidth | None = None
    #: hash what is read and compare with the source's MD5 where it is known
    verify: bool = True
    #: write rclone's md5chksum on multipart uploads from local files (costs one extra read of the file)
    md5_metadata: bool = True
    journal: Journal | None = None


def choose_part_size(size: int, part_size: int, max_parts: int) -> int:
    """The configured part size, grown (in whole MiB) so that ``size`` needs at most ``max_parts`` parts."""
    if size <= part_size * max_parts:
        return part_size
    needed = -(-size // max_parts)
    return -(-needed // MiB) * MiB


def content_md5(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def source_md5(info: ObjectInfo) -> str | None:
    """The MD5 (hex) the source vouches for: rclone's md5chksum, an Azure blob's Content-MD5, or a single-part ETag
    that is an MD5."""
    raw = info.metadata.get(MD5_KEY) or info.checksums.get("md5")  # Azure: the blob's Content-MD5 (base64)
    if raw:
        return md5_b64_to_hex(raw)
    etag = (info.etag or "").lower()
    if len(etag) == 32 and all(c in "0123456789abcdef" for c in etag) and not info.encrypted_etag:
        return etag
    return None


def _metadata(info: ObjectInfo) -> dict[str, str]:
    meta = dict(info.metadata)
    if MTIME_KEY not in meta and info.mtime_ns is not None:
        meta[MTIME_KEY] = format_mtime_ns(info.mtime_ns)
    elif MTIME_KEY not in meta and info.last_modified is not None:
        meta[MTIME_KEY] = format_mtime(info.last_modified.timestamp())
    return meta


async def _read_range(
    stream: AsyncIterator[bytes], expected: int, progress: Progress | None, bandwidth: Bandwidth | None
) -> bytearray:
    buf = bytearray()
    async for chunk in stream:
        if bandwidth is not None:
            await bandwidth.take(len(chunk))
        buf += chunk
        if progress is not None:
            progress(len(chunk))
    if len(buf) != expected:
        # a body cut short (reset, truncated response): worth another try
        raise TransientError(f"short read: got {len(buf)} bytes of {expected}")
    return buf


def _hash_file(path: str) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


class _Counter:
    """Progress for one attempt of one unit of work, so a retry can take back what it had counted."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.counted = 0

    def __call__(self, n: int) -> None:
        self.counted += n
        if self.progress is not None:
            self.progress(n)

    def rewind(self) -> None:
        if self.progress is not None and self.counted:
            self.progress(-self.counted)
        self.counted = 0


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
    policy = opts.retry
    if info is None:
        info = await retrying(lambda: src.stat(src_key), policy=policy)
    size = info.size
    metadata = _metadata(info)
    expected_md5 = source_md5(info) if opts.verify else None

    src_bucket: str | None = getattr(src, "bucket", None)
    if same_remote and dst.features.server_side_copy and size <= MAX_COPY_OBJECT:
        result = await retrying(
            lambda: dst.copy(
                src_key, dst_key, src_version_id=info.version_id, metadata=metadata, src_container=src_bucket
            ),
            policy=policy,
        )
        if progress:
            progress(size)
        return result

    part_size = choose_part_size(size, opts.part_size, dst.features.max_parts)
    if same_remote and dst.features.part_copy and size > MAX_COPY_OBJECT:
        return await _server_side_parts(src_bucket, src_key, dst, dst_key, info, metadata, opts, progress)
    if size <= part_size:
        return await _single(src, src_key, dst, dst_key, info, metadata, expected_md5, opts, progress)

    local_path = getattr(src, "read_path", None)
    if (
        opts.md5_metadata
        and callable(local_path)
        and info.mode is not None
        and MD5_KEY not in metadata
        and dst.features.buckets
    ):
        # rclone's md5chksum must be known when the upload starts (S3 sets metadata at CreateMultipartUpload).
        # The parts are not hashed again against it: each carries its own Content-MD5.
        path = str(local_path(src_key))
        whole = await asyncio.to_thread(_hash_file, path)
        metadata[MD5_KEY] = md5_hex_to_b64(whole)
        expected_md5 = None

    writer, done_parts = await _open_or_resume(src, src_key, dst, dst_key, info, metadata, part_size, opts)
    try:
        if getattr(src, "ranged", True):
            parts = await _upload_parts(
                src, src_key, writer, size, part_size, opts, info, expected_md5, progress, done_parts
            )
        else:
            parts = await _upload_stream(src, src_key, writer, size, part_size, opts, progress)
        result = await retrying(lambda: writer.complete(parts), policy=policy)
        _journal_forget(opts, writer)
    except BaseException as exc:
        keep = opts.journal is not None and writer.upload_id is not None and not isinstance(exc, IntegrityError)
        if not keep or (isinstance(exc, CloudpaneError) and not exc.retryable):
            with contextlib.suppress(CloudpaneError):  # the original failure is what the user needs to see
                await asyncio.shield(writer.abort())
            _journal_forget(opts, writer)
        raise
    finally:
        _JOURNALED.pop(id(writer), None)  # a kept upload stays in the journal file, not in this process
    return result


async def _server_side_parts(
    src_bucket: str | None,
    src_key: str,
    dst: Store,
    dst_key: str,
    info: ObjectInfo,
    metadata: dict[str, str],
    opts: CopyOptions,
    progress: Progress | None,
) -> PutResult:
    """A copy past 5 GiB inside one bucket: UploadPartCopy in 512 MiB parts, nothing through this machine."""
    size = info.size
    part_size = max(512 * MiB, choose_part_size(size, 512 * MiB, dst.features.max_parts))
    writer = await retrying(
        lambda: dst.open_writer(dst_key, metadata=metadata, content_type=info.content_type), policy=opts.retry
    )
    copy_part = getattr(writer, "copy_part", None)
    if not callable(copy_part):
        await writer.abort()
        raise StoreError("this store cannot copy parts server-side")
    slots = asyncio.Semaphore(opts.concurrency)

    async def one(number: int) -> PartResult:
        start = (number - 1) * part_size
        end = min(size, start + part_size)
        async with slots:
            part: PartResult = await retrying(
                lambda: copy_part(number, src_key, start, end, src_version_id=info.version_id, src_bucket=src_bucket),
                policy=opts.retry,
            )
        if progress:
            progress(end - start)
        return part

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(n)) for n in range(1, -(-size // part_size) + 1)]
        parts = [t.result() for t in tasks]
        return await retrying(lambda: writer.complete(parts), policy=opts.retry)
    except BaseException as exc:
        with contextlib.suppress(CloudpaneError):
            await asyncio.shield(writer.abort())
        if isinstance(exc, BaseExceptionGroup):
            raise _first(exc) from None
        raise


async def _single(
    src: Store,
    src_key: str,
    dst: Store,
    dst_key: str,
    info: ObjectInfo,
    metadata: dict[str, str],
    expected_md5: str | None,
    opts: CopyOptions,
    progress: Progress | None,
) -> PutResult:
    """One request each way (0-byte objects, small files)."""
    counter = _Counter(progress)

    async def attempt() -> PutResult:
        counter.rewind()
        data = await _read_range(
            src.read(src_key, version_id=info.version_id, if_match=info.etag), info.size, counter, opts.bandwidth
        )
        digest = await asyncio.to_thread(hashlib.md5, data)
        if expected_md5 and digest.hexdigest() != expected_md5:
            raise TransientError(
                f"{display_text(src_key)}: the bytes read do not match the source's MD5 ({expected_md5})"
            )
        md5_b64 = base64.b64encode(digest.digest()).decode()
        return await dst.put(
            dst_key,
            bytes(data),
            metadata=metadata,
            content_type=info.content_type,
            # Content-MD5 is for the wire; a local destination was just checked against the source's MD5 above
            content_md5=md5_b64 if dst.features.buckets else None,
        )

    return await retrying(attempt, policy=opts.retry)


async def _open_or_resume(
    src: Store,
    src_key: str,
    dst: Store,
    dst_key: str,
    info: ObjectInfo,
    metadata: dict[str, str],
    part_size: int,
    opts: CopyOptions,
) -> tuple[Writer, dict[int, PartResult]]:
    """A new multipart upload, or the journaled one for the same source (same path, size, mtime)."""

    async def new_writer() -> Writer:
        return await retrying(
            lambda: dst.open_writer(dst_key, metadata=metadata, content_type=info.content_type, part_size=part_size),
            policy=opts.retry,
        )

    journal = opts.journal
    source = _local_source(src, src_key, info)
    remote_name, bucket = _s3_target(dst)
    if journal is None or source is None or bucket is None:
        return await new_writer(), {}
    mtime_ns = info.mtime_ns if info.mtime_ns is not None else 0
    where = {"remote": remote_name, "bucket": bucket, "key": dst_key, "source": source}
    found = journal.find(**where, size=info.size, mtime_ns=mtime_ns, part_size=part_size)
    resume = getattr(dst, "resume_writer", None)
    list_parts = getattr(dst, "list_parts", None)
    if found is not None and callable(resume) and callable(list_parts):
        try:
            on_server = await list_parts(dst_key, found.upload_id)
        except CloudpaneError:
            on_server = None  # gone (aborted or completed): start again
        if on_server is not None:
            # a part counts only when the server holds exactly what the journal says
            journaled = journal.parts(found)
            done = {n: PartResult(n, etag, sz) for n, (etag, sz) in journaled.items() if on_server.get(n) == (etag, sz)}
            writer: Writer = resume(dst_key, found.upload_id)
            _JOURNALED[id(writer)] = (journal, found)
            return writer, done
    writer = await new_writer()
    if writer.upload_id is not None:
        endpoint = str(getattr(getattr(dst, "remote", None), "endpoint_url", ""))
        entry = journal.start(
            **where,
            endpoint=endpoint,
            upload_id=writer.upload_id,
            size=info.size,
            mtime_ns=mtime_ns,
            part_size=part_size,
        )
        _JOURNALED[id(writer)] = (journal, entry)
    return writer, {}


#: the journal row of each journaled writer (by id: writers are not hashable by value)
_JOURNALED: dict[int, tuple[Journal, JournalUpload]] = {}


def _journal_forget(opts: CopyOptions, writer: Writer) -> None:
    found = _JOURNALED.pop(id(writer), None)
    if found is not None:
        journal, entry = found
        journal.finish(entry)


def _journal_part(writer: Writer, part: PartResult) -> None:
    found = _JOURNALED.get(id(writer))
    if found is not None:
        journal, entry = found
        journal.part_done(entry, part.number, part.etag, part.size)


def _local_source(src: Store, key: str, info: ObjectInfo) -> str | None:
    path = getattr(src, "read_path", None)
    if info.mode is None or not callable(path):
        return None
    found: str = os.fspath(path(key))
    return found


def _s3_target(dst: Store) -> tuple[str, str | None]:
    bucket: object = getattr(dst, "bucket", None)
    remote = getattr(dst, "remote", None)
    return str(getattr(remote, "name", "")), bucket if isinstance(bucket, str) else None


async def _upload_parts(
    src: Store,
    src_key: str,
    writer: Writer,
    size: int,
    part_size: int,
    opts: CopyOptions,
    info: ObjectInfo,
    expected_md5: str | None,
    progress: Progress | None,
    done_parts: dict[int, PartResult],
) -> list[PartResult]:
    count = -(-size // part_size)
    slots = asyncio.Semaphore(opts.concurrency)
    hasher = _InOrderHasher(expected_md5, slots) if expected_md5 else None
    # Content-MD5 protects bytes on the wire; a local destination checks the whole file instead
    wire_md5 = writer.upload_id is not None
    if done_parts and hasher is not None:
        hasher = None  # resumed: the parts already on the server are not read again, so they cannot be hashed
    for part in done_parts.values():
        if progress:
            progress(part.size)

    async def one(number: int) -> PartResult:
        start = (number - 1) * part_size
        end = min(size, start + part_size)
        counter = _Counter(progress)
        await slots.acquire()
        released = False
        try:

            async def attempt() -> tuple[PartResult, bytearray]:
                counter.rewind()
                data = await _read_range(
                    src.read(src_key, start=start, end=end, version_id=info.version_id, if_match=info.etag),
                    end - start,
                    counter,
                    opts.bandwidth,
                )
                digest = await asyncio.to_thread(content_md5, data) if wire_md5 else None
                part = await writer.write_part(number, data, content_md5=digest)
                return part, data

            part, data = await retrying(attempt, policy=opts.retry)
            _journal_part(writer, part)
            if hasher is not None:
                released = True  # the hasher releases the slot once it has consumed this part
                await hasher.feed(number, data)
            return part
        finally:
            if not released:
                slots.release()

    tasks: list[asyncio.Task[PartResult]] = []
    try:
        async with asyncio.TaskGroup() as group:
            for number in range(1, count + 1):
                if number not in done_parts:
                    tasks.append(group.create_task(one(number)))
    except BaseExceptionGroup as eg:
        raise _first(eg) from None
    if hasher is not None:
        hasher.check(count, src_key)
    return sorted([*done_parts.values(), *(t.result() for t in tasks)], key=lambda p: p.number)


async def _upload_stream(
    src: Store,
    src_key: str,
    writer: Writer,
    size: int,
    part_size: int,
    opts: CopyOptions,
    progress: Progress | None,
) -> list[PartResult]:
    """A source that can only be read front to back (an https server without ranges): cut the one stream into
    parts and upload up to ``concurrency`` of them at once. Parts retry on their own; the stream cannot."""
    slots = asyncio.Semaphore(opts.concurrency)
    results: list[PartResult] = []

    async def send(number: int, data: bytes) -> None:
        try:
            digest = await asyncio.to_thread(content_md5, data)
            results.append(
                await retrying(lambda: writer.write_part(number, data, content_md5=digest), policy=opts.retry)
            )
        finally:
            slots.release()

    total = 0
    try:
        async with asyncio.TaskGroup() as group:
            buf = bytearray()
            number = 0
            async for chunk in src.read(src_key):
                if opts.bandwidth is not None:
                    await opts.bandwidth.take(len(chunk))
                buf += chunk
                total += len(chunk)
                if progress:
                    progress(len(chunk))
                while len(buf) >= part_size:
                    number += 1
                    await slots.acquire()
                    group.create_task(send(number, bytes(buf[:part_size])))
                    del buf[:part_size]
            if buf or number == 0:
                number += 1
                await slots.acquire()
                group.create_task(send(number, bytes(buf)))
    except BaseExceptionGroup as eg:
        raise _first(eg) from None
    if total != size:
        raise StoreError(f"{display_text(src_key)}: got {total} bytes, the server announced {size}")
    return sorted(results, key=lambda p: p.number)


def _first(eg: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a failed group of parts: a real failure before a cancellation."""
    for exc in eg.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return eg.exceptions[0]


class _InOrderHasher:
    """Hashes parts in order as they arrive. A part's slot is released only once it is hashed, so at most
    ``concurrency`` buffers are alive: memory stays bounded while the whole object is verified."""

    def __init__(self, expected: str, slots: asyncio.Semaphore) -> None:
        self.expected = expected
        self.slots = slots
        self.digest = hashlib.md5()
        self.next = 1
        self.waiting: dict[int, bytearray] = {}
        self.lock = asyncio.Lock()

    async def feed(self, number: int, data: bytearray) -> None:
        self.waiting[number] = data
        if self.lock.locked():
            return  # the task hashing now picks this part up in turn: do not wait here holding another buffer
        async with self.lock:
            while self.next in self.waiting:
                chunk = self.waiting.pop(self.next)
                await asyncio.to_thread(self.digest.update, chunk)
                self.next += 1
                self.slots.release()

    def check(self, count: int, key: str) -> None:
        if self.next != count + 1:
            raise StoreError(f"{display_text(key)}: internal error: {self.next - 1} of {count} parts hashed")
        got = self.digest.hexdigest()
        if got != self.expected:
            raise IntegrityError(
                f"{display_text(key)}: checksum mismatch: the source says MD5 {self.expected}, the bytes read "
                f"hash to {got}; nothing was written"
            )
