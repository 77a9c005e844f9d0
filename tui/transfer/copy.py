"""Copy one object between any two stores: streamed, parallel, bounded, retried, verified.

- Memory is bounded by ``concurrency x part_size`` plus a constant whatever the object's size: each part is read
  (ranged, ETag pinned) and written by its own task, and at most ``concurrency`` parts hold a buffer at once.
- Every request and every part goes through our retry loop; progress rewinds on a retry and never passes 100 %.
- Same-server copies are server-side (CopyObject, or UploadPartCopy past 5 GiB where the server really does it).
- A failed or cancelled multipart upload is aborted (unless the resume journal keeps it); local destinations are
  written to a temporary name and renamed at the end (the local store's writers do that).
- Integrity: Content-MD5 on every part and single PUT, and where the store's ETag is an MD5
  (``Features.etag_is_md5``) the store compares the ETag it got back with it (a server that ignores Content-MD5
  would otherwise keep a flipped bit): a mismatch is retried, then fails the copy and aborts the upload.
  Multipart uploads from local files carry the whole-file MD5 in ``md5chksum`` and the mtime in ``mtime``
  (rclone's metadata). S3 takes metadata at CreateMultipartUpload, before any part is read, so the MD5 comes from a
  prepass over the file; the bytes actually sent are then hashed again, in order, as they go, and must hash to the
  same value, and the file is stat'ed again (size, mtime, ctime) before the upload completes: a file edited in
  place during its upload fails with "source changed during upload" and the upload is aborted (exit 5). When the
  source's MD5 is known (a single-part ETag or ``md5chksum``), the bytes read are hashed in order the same way.
- Concurrency: a journaled upload belongs to one live process (``Journal.find``); with ``if_absent`` a copy that
  found no destination writes with ``If-None-Match: *`` where the store honours it, so a key created meanwhile by
  someone else is a conflict (exit 5), never overwritten.
- No untracked uploads: the journal gets an intent row before CreateMultipartUpload; intents left by a killed
  process are resolved by the next upload to that key (the server's unjournaled uploads started since are
  aborted).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import stat as stat_mod
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from tui.errors import (
    CloudpaneError,
    NotFoundError,
    PreconditionFailed,
    SourceChangedError,
    StoreError,
    TransientError,
    os_error,
)
from tui.safety import display_text
from tui.storage.base import (
    ChecksumMismatchError,
    ExclusiveWriter,
    InContainer,
    InfoReader,
    ListsUploads,
    LocalSource,
    LocalTarget,
    ObjectInfo,
    PartCopyWriter,
    PartResult,
    PutResult,
    ResumableStore,
    Store,
    Writer,
)
from tui.storage.meta import MD5_KEY, MTIME_KEY, format_mtime, format_mtime_ns, md5_b64_to_hex, md5_hex_to_b64
from tui.transfer.parts import MiB, choose_part_size
from tui.transfer.parts import first_failure as _first
from tui.transfer.retry import RetryCounter, RetryPolicy, retrying

if TYPE_CHECKING:
    from tui.transfer.journal import Journal, JournalUpload

#: S3 CopyObject handles up to 5 GiB in one request
MAX_COPY_OBJECT = 5 * 1024 * MiB

Progress = Callable[[int], None]
_T = TypeVar("_T")

#: what a copy is doing besides moving bytes, for a UI: ``hashing`` the local file before a multipart upload (its
#: md5chksum), ``verifying`` once every part is sent (the source unchanged, the whole-object MD5), ``completing`` the
#: upload (CompleteMultipartUpload, Azure's block commit, a local rename), ``retrying`` (with the copy's number of
#: retries so far)
Phase = Literal["hashing", "verifying", "completing", "retrying"]
#: hears (phase, count): ``count`` is the number of retries for ``retrying``, 0 otherwise
OnPhase = Callable[[Phase, int], None]


class _PhaseCounter(RetryCounter):
    """Counts one copy's retries and reports each as the ``retrying`` phase; the batch's own counter (the
    policy's) still counts them too."""

    def __init__(self, outer: RetryCounter | None, on_phase: OnPhase) -> None:
        super().__init__()
        self.outer = outer
        self.on_phase = on_phase

    def add(self) -> None:
        super().add()
        if self.outer is not None:
            self.outer.add()
        self.on_phase("retrying", self.count)


class IntegrityError(StoreError):
    """The bytes do not match the checksum the source claims."""


#: server clocks and ours disagree a little: an orphan of an intent may look this much older than the intent
INTENT_SLACK = timedelta(seconds=30)


def _changed(path: Path | str) -> SourceChangedError:
    return SourceChangedError(f"{display_text(str(path))}: source changed during upload")


def _fingerprint(st: os.stat_result) -> tuple[int, int, int]:
    """What must stay the same while a local file is uploaded (ctime catches an mtime set back with utime)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


class _Tracked:
    """A journaled upload of this process: records finished parts, and is forgotten or kept at the end."""

    def __init__(self, journal: Journal, entry: JournalUpload) -> None:
        self.journal = journal
        self.entry = entry

    def part(self, part: PartResult) -> None:
        self.journal.part_done(self.entry, part.number, part.etag, part.size)

    def forget(self) -> None:
        self.journal.finish(self.entry)

    def keep(self) -> None:
        self.journal.release(self.entry)


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
    #: the part size is a default the destination may lower (``Features.part_size_cap``: Azure's 4 MiB blocks);
    #: False when the user chose it
    store_part_size: bool = False
    concurrency: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    bandwidth: Bandwidth | None = None
    #: hash what is read and compare with the source's MD5 where it is known
    verify: bool = True
    #: write rclone's md5chksum on multipart uploads from local files (costs one extra read of the file)
    md5_metadata: bool = True
    journal: Journal | None = None
    #: told when a journaled upload is taken over: (destination, parts already on the server, parts in all)
    on_resume: Callable[[str, int, int], None] | None = None
    #: cp --content-type and --metadata: what every object written gets, instead of (over) the source's
    content_type: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()


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


#: below this, hashing on the event loop is cheaper than a hop to a worker thread
SMALL = 256 * 1024


_malloc_tuned = False


def _release_part_buffers_to_the_os() -> None:
    """glibc serves an 8 MiB part from its heap once a freed mmap'ed block has raised its dynamic mmap threshold,
    and with parts allocated in worker threads those heaps are per-thread arenas that keep the memory: peak RSS of a
    1 GiB copy grew by ~100 MiB (measured). A fixed threshold of 1 MiB keeps every part buffer an mmap of its own,
    returned to the OS when the part is done (M_ARENA_MAX=1 instead left the 1 GiB download at 154 MiB: measured).
    The price is page faults on each new part buffer (more system CPU). Nothing happens elsewhere than on glibc."""
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    import ctypes
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        return
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(None)  # the process and the C library it links
        m_mmap_threshold = -3
        libc.mallopt(m_mmap_threshold, 1024 * 1024)


async def _read_range(
    stream: AsyncIterator[bytes], expected: int, progress: Progress | None, bandwidth: Bandwidth | None
) -> bytes | bytearray:
    """The bytes of one part, in one buffer of exactly ``expected`` bytes (allocated once, filled in place; a
    body that arrives in one chunk is kept as it is, without a copy)."""
    buf: bytearray | None = None
    first: bytes | None = None
    got = 0
    async for chunk in stream:
        n = len(chunk)
        if bandwidth is not None:
            await bandwidth.take(n)
        if got + n > expected:
            raise TransientError(f"long read: got more than the {expected} bytes asked for")
        if got == 0 and buf is None and first is None:
            first = chunk
        else:
            if buf is None:
                buf = bytearray(expected)
                if first is not None:
                    buf[: len(first)] = first
                    first = None
            buf[got : got + n] = chunk
        got += n
        if progress is not None:
            progress(n)
    if got != expected:
        # a body cut short (reset, truncated response): worth another try
        raise TransientError(f"short read: got {got} bytes of {expected}")
    if buf is not None:
        return buf
    return first if first is not None else b""


def _read_file_part(path: str, start: int, size: int, md5: bool) -> tuple[bytes, str | None]:
    """One part of a local file and its Content-MD5, in one worker-thread call (the read and hashlib release the
    GIL). One buffer per part: an unbuffered read of ``size`` bytes allocates exactly one ``bytes`` and reads into
    it, and ``bytes`` lets the S3 writer hand it to aiohttp without another copy."""
    with open(path, "rb", buffering=0) as f:
        data = os.pread(f.fileno(), size, start)
        while 0 < len(data) < size:  # a short read that is not the end (rare): the rest, joined once
            more = os.pread(f.fileno(), size - len(data), start + len(data))
            if not more:
                break
            data += more
    if len(data) != size:
        raise _changed(path)  # shorter than it was: truncated during the upload
    return data, content_md5(data) if md5 else None


async def _local_io(path: Path, work: Awaitable[_T]) -> _T:
    """A local read in a worker thread, its OSError mapped as the local store maps it."""
    try:
        return await work
    except OSError as exc:
        raise os_error(f"read {display_text(str(path))}", exc) from exc


def _read_small_file(path: str, size: int) -> tuple[bytes, hashlib._Hash]:
    """A whole small file and its MD5, checked untorn: the fingerprint is the same before and after the read."""
    with open(path, "rb", buffering=0) as f:
        before = _fingerprint(os.fstat(f.fileno()))
        data = f.read(size + 1)
        if len(data) != size or _fingerprint(os.fstat(f.fileno())) != before or before[0] != size:
            raise _changed(path)  # a torn read: the file was written while it was read
    return data, hashlib.md5(data)


def _fill(f: Any, view: memoryview) -> int:
    """Read into ``view`` until it is full or the file ends; the bytes read."""
    got = 0
    while got < len(view) and (n := f.readinto(view[got:])):
        got += n
    return got


def _configured_part(opts: CopyOptions, dst: Store) -> int:
    """The part size before it grows to fit ``max_parts``: the configured one, capped where the store says."""
    cap = dst.features.part_size_cap
    return opts.part_size if cap is None or not opts.store_part_size else min(opts.part_size, cap)


def _hash_file_parts(path: str, part_size: int) -> tuple[str, list[bytes]]:
    """The whole-file MD5 and the MD5 of each part, in one read of the file. Each part's digest is computed by a
    second thread while this one feeds the whole-file digest (hashlib releases the GIL), so the pass costs the
    wall time of one MD5 on two cores, before the upload starts, when the network and the server are idle."""
    from concurrent.futures import ThreadPoolExecutor

    whole = hashlib.md5()
    parts: list[bytes] = []
    buf = bytearray(part_size)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f, ThreadPoolExecutor(1, thread_name_prefix="cloudpane-md5") as pool:
        while n := _fill(f, view):
            chunk = view[:n]
            part = pool.submit(lambda c=chunk: hashlib.md5(c).digest())  # type: ignore[misc]
            whole.update(chunk)
            parts.append(part.result())
            if n < part_size:
                break
    return whole.hexdigest(), parts


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
    if_absent: bool = False,
    on_phase: OnPhase | None = None,
) -> PutResult:
    """Copy ``src_key`` of ``src`` to ``dst_key`` of ``dst``. ``info`` saves a ``stat`` when the caller has one.

    ``info`` may be partial (``ObjectInfo.from_entry``: a listing row, without metadata or content type): a
    single-request copy from an ``InfoReader`` source then takes metadata, content type and encryption from the
    GET's own response (one request per object); any other copy asks ``stat`` first (a multipart upload and a
    server-side copy need the metadata before they start).

    ``if_absent``: the caller found no object at the destination; where the store honours conditional writes the
    write is ``If-None-Match: *``, and a key created meanwhile raises PreconditionFailed (exit 5), untouched.

    ``on_phase`` hears the phases (``Phase``) and every retry of this copy."""
    _release_part_buffers_to_the_os()  # once, before the first part buffer (ctypes loads only for a copy)
    opts = options or CopyOptions()
    if on_phase is not None:
        opts = replace(opts, retry=replace(opts.retry, counter=_PhaseCounter(opts.retry.counter, on_phase)))
    exclusive = if_absent and dst.features.conditional_writes
    policy = opts.retry
    if info is None:
        info = await retrying(lambda: src.stat(src_key), policy=policy)
    size = info.size
    part_size = choose_part_size(size, _configured_part(opts, dst), dst.features.max_parts)
    overrides = opts.content_type is not None or bool(opts.metadata)
    # CopyObject keeps the source's Content-Type: a new one is sent by the bytes' own PUT
    server_side = same_remote and dst.features.server_side_copy and size <= MAX_COPY_OBJECT and not opts.content_type
    if info.partial and (overrides or server_side or not (isinstance(src, InfoReader) and size <= part_size)):
        # a server-side copy must write the mtime the source stands for (its ``mtime`` metadata, else its
        # LastModified), or every later backup sees the copy as newer: that takes the source's metadata
        listed = info
        info = await retrying(lambda: src.stat(src_key, version_id=listed.version_id), policy=policy)
        size = info.size
        part_size = choose_part_size(size, _configured_part(opts, dst), dst.features.max_parts)
    if overrides:
        info = replace(
            info,
            content_type=opts.content_type or info.content_type,
            metadata={**info.metadata, **dict(opts.metadata)},
        )
    metadata = _metadata(info)
    expected_md5 = source_md5(info) if opts.verify else None

    src_bucket = src.bucket if isinstance(src, InContainer) else None
    if server_side:
        known = info
        result = await retrying(
            lambda: dst.copy(
                src_key,
                dst_key,
                src_version_id=known.version_id,
                metadata=metadata,
                src_container=src_bucket,
            ),
            policy=policy,
        )
        if progress:
            progress(size)
        return result

    from tui.transfer.pull import can_pull, pull_copy  # S3 -> Azure server-side (Put Block From URL)

    if can_pull(src, dst, same_remote=same_remote, size=size):
        if info.partial:  # the blob's metadata (mtime) must be known before the blocks are committed
            version = info.version_id
            info = await retrying(lambda: src.stat(src_key, version_id=version), policy=policy)
            metadata = _metadata(info)
        pulled = await pull_copy(src, src_key, dst, dst_key, info, metadata, opts, progress)
        if pulled is not None:
            return pulled  # else the destination cannot pull (said once per remote pair): stream it

    if same_remote and dst.features.part_copy and size > MAX_COPY_OBJECT:
        return await _server_side_parts(src_bucket, src_key, dst, dst_key, info, metadata, opts, progress)
    local = _local_path(src, src_key, info)
    before: tuple[int, int, int] | None = None
    if local is not None:
        st = await asyncio.to_thread(os.stat, local)
        before = _fingerprint(st)
        if st.st_size != size or (info.mtime_ns is not None and st.st_mtime_ns != info.mtime_ns):
            raise _changed(local)  # since it was listed: the parts would be cut for another file
    if size <= part_size:
        return await _single(
            src, src_key, dst, dst_key, info, metadata, expected_md5, opts, progress, exclusive=exclusive, local=local
        )

    part_md5s: list[bytes] | None = None
    if opts.md5_metadata and local is not None and MD5_KEY not in metadata and dst.features.buckets:
        # rclone's md5chksum must be known when the upload starts (S3 sets metadata at CreateMultipartUpload), so
        # it comes from a prepass, which also keeps each part's MD5: a part's Content-MD5 is then the digest of
        # the bytes that md5chksum covers, and the server's check of it (or of the ETag) proves that the bytes
        # sent are those bytes (a file changed in between fails the part). One MD5 pass per part and direction.
        if on_phase is not None:
            on_phase("hashing", 0)
        whole, digests = await asyncio.to_thread(_hash_file_parts, str(local), part_size)
        if len(digests) != -(-size // part_size):
            raise _changed(local)  # shorter or longer than it was listed
        part_md5s = digests
        metadata[MD5_KEY] = md5_hex_to_b64(whole)
        expected_md5 = whole

    opened = await _open_or_resume(src, src_key, dst, dst_key, info, metadata, part_size, opts)
    writer, done_parts, tracked = opened.writer, opened.done, opened.tracked
    if opened.resumed:
        # the upload's md5chksum was set when it was created: that is what the bytes must hash to (the parts are
        # hashed again in order, as they are sent)
        expected_md5 = opened.md5 if local is not None else None
        if opts.on_resume is not None:
            opts.on_resume(f"{dst.url}/{dst_key}", len(done_parts), max(1, -(-size // part_size)))
        part_md5s = None
    try:
        if (
            local is None
            and not src.features.partial_content
            and isinstance(src, InfoReader)
            and isinstance(dst, LocalTarget)
            and not done_parts
        ):
            # ranged GETs are not native on this server (it answers them 200): one native GET of the whole body
            parts = await _download_stream(
                src, src_key, writer, size, part_size, opts, info, expected_md5, progress, dst.features.etag_is_md5
            )
        elif src.features.ranged_reads:
            parts = await _upload_prepassed(
                local,
                before,
                part_md5s,
                _upload_parts(
                    src,
                    src_key,
                    writer,
                    size,
                    part_size,
                    opts,
                    info,
                    expected_md5,
                    progress,
                    done_parts,
                    tracked,
                    dst.features.etag_is_md5,
                    local,
                    part_md5s,
                ),
            )
        else:
            parts = await _upload_stream(src, src_key, writer, size, part_size, opts, progress)
        if on_phase is not None and (local is not None or expected_md5 is not None):
            on_phase("verifying", 0)
        if local is not None and before is not None:
            after = await asyncio.to_thread(os.stat, local)
            if _fingerprint(after) != before:
                raise _changed(local)
        if on_phase is not None:
            on_phase("completing", 0)
        if exclusive and isinstance(writer, ExclusiveWriter):
            exclusive_writer = writer
            result = await retrying(lambda: exclusive_writer.complete_if_absent(parts), policy=policy)
        else:
            result = await retrying(lambda: writer.complete(parts), policy=policy)
        if tracked is not None:
            tracked.forget()
    except BaseException as exc:
        damaged = isinstance(exc, IntegrityError | ChecksumMismatchError | SourceChangedError)
        keep = tracked is not None and writer.upload_id is not None and not damaged
        if not keep or (isinstance(exc, CloudpaneError) and not exc.retryable):
            with contextlib.suppress(CloudpaneError):  # the original failure is what the user needs to see
                await asyncio.shield(writer.abort())
            if tracked is not None:
                tracked.forget()
        elif tracked is not None:
            tracked.keep()
        if isinstance(exc, PreconditionFailed) and exclusive:
            there = await _same_content_there(dst, dst_key, size, metadata.get(MD5_KEY))
            if there is not None:
                return there  # the very bytes we were sending (another cp of the same file finished first)
            raise _created_meanwhile(dst, dst_key) from exc
        raise
    return result


async def _upload_prepassed(
    local: Path | None,
    before: tuple[int, int, int] | None,
    part_md5s: list[bytes] | None,
    upload: Awaitable[list[PartResult]],
) -> list[PartResult]:
    """The parts of a local file sent with the prepass's digests: a part the server keeps refusing (BadDigest, or
    an ETag that is not the digest) after its retries is a file whose bytes are no longer those hashed."""
    try:
        return await upload
    except ChecksumMismatchError as exc:
        if part_md5s is None or local is None or before is None:
            raise
        after = await asyncio.to_thread(os.stat, local)
        if _fingerprint(after) != before:
            raise _changed(local) from exc
        raise


async def _same_content_there(dst: Store, key: str, size: int, md5_b64: str | None) -> PutResult | None:
    """After a 412: the object that is there, when it holds exactly our content (same size and md5chksum)."""
    if not md5_b64:
        return None
    try:
        there = await dst.stat(key)
    except CloudpaneError:
        return None
    if there.size == size and there.metadata.get(MD5_KEY) == md5_b64:
        return PutResult(there.etag, there.version_id)
    return None


def _created_meanwhile(dst: Store, key: str) -> PreconditionFailed:
    return PreconditionFailed(
        f"{display_text(dst.url)}/{display_text(key)}: created by someone else during the copy; not overwritten"
    )


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
    if not isinstance(writer, PartCopyWriter):
        await writer.abort()
        raise StoreError("this store cannot copy parts server-side")
    copy_part = writer.copy_part
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
    *,
    exclusive: bool = False,
    local: Path | None = None,
) -> PutResult:
    """One request each way (0-byte objects, small files)."""
    counter = _Counter(progress)
    sent: list[str] = []

    async def attempt() -> PutResult:
        counter.rewind()
        data: bytes | bytearray
        got, meta, expected = info, metadata, expected_md5
        if local is not None:
            # stat, read, stat again and hash: one worker-thread call per small file
            data, digest = await _local_io(local, asyncio.to_thread(_read_small_file, str(local), info.size))
            if opts.bandwidth is not None:
                await opts.bandwidth.take(len(data))
            counter(len(data))
        else:
            if info.partial and isinstance(src, InfoReader):
                # a listing row: the GET's own response says what a HEAD would (metadata, content type, encryption)
                opened = await src.open_read(src_key, version_id=info.version_id, if_match=info.etag)
                try:
                    got = opened.info
                    meta, expected = _metadata(got), source_md5(got) if opts.verify else None
                    data = await _read_range(aiter(opened), info.size, counter, opts.bandwidth)
                finally:
                    await opened.aclose()
            else:
                stream = src.read(src_key, version_id=info.version_id, if_match=info.etag)
                data = await _read_range(stream, info.size, counter, opts.bandwidth)
            # hashlib releases the GIL for big buffers: a worker thread then; a small body costs less than the hop
            digest = hashlib.md5(data) if len(data) <= SMALL else await asyncio.to_thread(hashlib.md5, data)
        if expected and digest.hexdigest() != expected:
            raise TransientError(f"{display_text(src_key)}: the bytes read do not match the source's MD5 ({expected})")
        md5_b64 = base64.b64encode(digest.digest()).decode()
        sent.append(digest.hexdigest())
        return await dst.put(
            dst_key,
            data if isinstance(data, bytes) else bytes(data),
            metadata=meta,
            content_type=got.content_type,
            # Content-MD5 is for the wire; a local destination was just checked against the source's MD5 above
            content_md5=md5_b64 if dst.features.buckets else None,
            if_none_match=exclusive,
        )

    try:
        return await retrying(attempt, policy=opts.retry)
    except PreconditionFailed as exc:
        if not exclusive:
            raise
        # an earlier try may have written it and lost the answer, or another cp of the same file finished first:
        # the very bytes we were sending are there, so nothing was lost and nothing is overwritten
        with contextlib.suppress(CloudpaneError):
            there = await dst.stat(dst_key)
            if sent and dst.features.etag_is_md5 and (there.etag or "").lower() == sent[-1]:
                return PutResult(there.etag, there.version_id)
        raise _created_meanwhile(dst, dst_key) from exc


@dataclass
class _Opened:
    writer: Writer
    done: dict[int, PartResult] = field(default_factory=dict)
    tracked: _Tracked | None = None
    #: a journaled upload taken over: its md5chksum (hex) as recorded when it was created
    resumed: bool = False
    md5: str | None = None


async def _open_or_resume(
    src: Store,
    src_key: str,
    dst: Store,
    dst_key: str,
    info: ObjectInfo,
    metadata: dict[str, str],
    part_size: int,
    opts: CopyOptions,
) -> _Opened:
    """A new multipart upload, or the journaled one for the same source (same path, size, mtime) that no other
    live process owns. A journaled upload is recorded as an intent before it is created."""
    attempts = 0

    async def new_writer() -> Writer:
        nonlocal attempts

        async def create() -> Writer:
            nonlocal attempts
            attempts += 1
            return await dst.open_writer(
                dst_key, metadata=metadata, content_type=info.content_type, part_size=part_size
            )

        return await retrying(create, policy=opts.retry)

    journal = opts.journal
    source = _local_path(src, src_key, info)
    if journal is None or source is None or not isinstance(dst, ResumableStore):
        return _Opened(await new_writer())
    remote_name, endpoint, bucket = dst.journal_target()
    await _resolve_intents(journal, dst, remote_name, bucket, dst_key)
    mtime_ns = info.mtime_ns if info.mtime_ns is not None else 0
    where = {"remote": remote_name, "bucket": bucket, "key": dst_key, "source": str(source)}
    while (found := journal.find(**where, size=info.size, mtime_ns=mtime_ns, part_size=part_size)) is not None:
        assert found.upload_id is not None
        upload_id = found.upload_id
        try:
            on_server = await retrying(
                lambda upload_id=upload_id: dst.list_parts(dst_key, upload_id),  # type: ignore[misc]
                policy=opts.retry,
            )
        except NotFoundError:
            journal.finish(found)  # gone (aborted or completed): forget it and look again
            continue
        except CloudpaneError:
            journal.release(found)
            break  # cannot tell: leave it journaled, start a new one
        # a part counts only when the server holds exactly what the journal says
        journaled = journal.parts(found)
        done = {n: PartResult(n, etag, sz) for n, (etag, sz) in journaled.items() if on_server.get(n) == (etag, sz)}
        return _Opened(dst.resume_writer(dst_key, upload_id), done, _Tracked(journal, found), True, found.md5)
    raw_md5 = metadata.get(MD5_KEY)
    intent = journal.intend(
        **where,
        endpoint=endpoint,
        size=info.size,
        mtime_ns=mtime_ns,
        part_size=part_size,
        md5=md5_b64_to_hex(raw_md5) if raw_md5 else None,
    )
    try:
        writer = await new_writer()
    except BaseException:
        # the server may have created an upload whose answer was lost: resolve the intent now if we can
        with contextlib.suppress(CloudpaneError):
            await asyncio.shield(_resolve_intent(journal, dst, intent, exclude=set()))
        raise
    if writer.upload_id is None:
        journal.finish(intent)
        return _Opened(writer)
    entry = journal.started(intent, writer.upload_id)
    if attempts > 1:
        # an earlier try of CreateMultipartUpload may have created an upload whose answer never came back
        with contextlib.suppress(CloudpaneError):
            await _abort_strays(journal, dst, intent, exclude={writer.upload_id})
    return _Opened(writer, {}, _Tracked(journal, entry))


async def _abort_strays(journal: Journal, dst: Store, intent: JournalUpload, *, exclude: set[str]) -> None:
    """Abort the server's uploads of the intent's key that started after it and that nobody journaled. Not while
    another live process has an intent for that key: its new upload may not be journaled yet (StoreError)."""
    if not isinstance(dst, ListsUploads):
        raise StoreError("this store cannot list its uploads")
    others = journal.live_intents(remote=intent.remote, bucket=intent.bucket, key=intent.key)
    if any(other.id != intent.id for other in others):
        raise StoreError(f"{display_text(intent.key)}: another upload of this key is starting; try again later")
    known = journal.upload_ids() | exclude
    since = intent.created - INTENT_SLACK
    for upload in await dst.list_uploads(intent.key):
        if upload.key != intent.key or upload.upload_id in known:
            continue
        if dst.features.upload_times and upload.initiated is not None and upload.initiated < since:
            continue  # older than the intent: not its doing (without times, every unjournaled one of the key is)
        await dst.abort_upload(upload.key, upload.upload_id)


async def _resolve_intent(journal: Journal, dst: Store, intent: JournalUpload, *, exclude: set[str]) -> None:
    await _abort_strays(journal, dst, intent, exclude=exclude)
    journal.finish(intent)


async def _resolve_intents(journal: Journal, dst: Store, remote: str, bucket: str, key: str) -> None:
    """Intents left by killed processes for this destination: abort what they may have created. Not while a live
    process has an intent of its own there (its new upload is not journaled yet)."""
    await resolve_dead_intents(journal, dst, journal.intents(remote=remote, bucket=bucket, key=key))


async def resolve_dead_intents(journal: Journal, dst: Store, intents: list[JournalUpload]) -> int:
    """Resolve the intents of dead processes among ``intents`` (all for ``dst``'s bucket); returns how many."""
    from tui.transfer.journal import owner_alive

    if not isinstance(dst, ListsUploads):
        return 0
    resolved = 0
    for intent in intents:
        if owner_alive(intent.owner):
            continue
        try:
            await _resolve_intent(journal, dst, intent, exclude=set())
        except StoreError:
            continue  # another process is starting an upload of that key: later
        resolved += 1
    return resolved


def _local_path(src: Store, key: str, info: ObjectInfo) -> Path | None:
    """The local file behind ``key``, when the source is one (not for folders or other stores)."""
    if info.mode is None or not stat_mod.S_ISREG(info.mode) or not isinstance(src, LocalSource):
        return None
    return Path(os.path.abspath(src.read_path(key)))


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
    tracked: _Tracked | None = None,
    etag_is_md5: bool = False,
    local: Path | None = None,
    part_md5s: list[bytes] | None = None,
    carried: tuple[Any, int] | None = None,
) -> list[PartResult]:
    """Upload the parts not in ``done_parts``. ``part_md5s``: each part's MD5 from the prepass of a local file
    (the Content-MD5 then needs no second hash of the part). ``carried``: (MD5 state, next part number) of a
    whole-object stream that broke after ``done_parts`` (already counted in the progress): the in-order hash
    goes on from there."""
    count = -(-size // part_size)
    slots = asyncio.Semaphore(opts.concurrency)
    hasher = _InOrderHasher(expected_md5, slots, local) if expected_md5 else None
    if hasher is not None and carried is not None:
        hasher.digest, hasher.next = carried
    if hasher is not None and local is not None and not done_parts and writer.upload_id is not None:
        # a fresh upload of a local file: its md5chksum came from the prepass, every part carries its Content-MD5
        # (checked by the server, or against the ETag), and the file's size, mtime and ctime are checked before
        # completion; hashing the parts again in order would be a third MD5 pass over the file
        hasher = None
    # Content-MD5 protects bytes on the wire; a local destination checks the whole file instead
    wire_md5 = writer.upload_id is not None
    if done_parts and carried is None and (hasher is None or local is None):
        hasher = None  # resumed from a remote source: the parts already sent are not read again to be hashed
    # a resumed local file is read again, part by part (no network), so that the whole of it is hashed
    recheck = dict(done_parts) if hasher is not None and carried is None else {}
    for number, part in done_parts.items():
        if progress and number not in recheck and carried is None:
            progress(part.size)

    async def one(number: int) -> PartResult:
        start = (number - 1) * part_size
        end = min(size, start + part_size)
        counter = _Counter(progress)
        await slots.acquire()
        released = False
        try:

            async def read(bandwidth: Bandwidth | None = opts.bandwidth) -> bytes | bytearray:
                counter.rewind()
                return await _read_range(
                    src.read(src_key, start=start, end=end, version_id=info.version_id, if_match=info.etag),
                    end - start,
                    counter,
                    bandwidth,
                )

            async def attempt() -> tuple[PartResult, bytes | bytearray]:
                data: bytes | bytearray
                if local is not None:
                    # straight from the file into this part's one buffer (hashed in the same worker call unless
                    # the prepass did)
                    counter.rewind()
                    known = part_md5s[number - 1] if part_md5s is not None and wire_md5 else None
                    data, digest = await _local_io(
                        local,
                        asyncio.to_thread(_read_file_part, str(local), start, end - start, wire_md5 and not known),
                    )
                    if known is not None:
                        digest = base64.b64encode(known).decode()
                    if opts.bandwidth is not None:
                        await opts.bandwidth.take(len(data))
                    counter(len(data))
                else:
                    data = await read()
                    digest = await asyncio.to_thread(content_md5, data) if wire_md5 else None
                part = await writer.write_part(number, data, content_md5=digest)
                return part, data

            sent = recheck.get(number)
            kept: PartResult | None = None
            if sent is not None:
                # the local re-read of a part the server holds is not network traffic: no bandwidth limit
                data = await retrying(lambda: read(None), policy=opts.retry)
                digest = await asyncio.to_thread(content_md5, data)
                if not etag_is_md5 or md5_b64_to_hex(digest) == sent.etag.lower():
                    kept = sent  # the server holds these very bytes
            if kept is not None:
                part = kept
            else:
                part, data = await retrying(attempt, policy=opts.retry)
                if tracked is not None:
                    tracked.part(part)
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
                if number not in done_parts or number in recheck:
                    tasks.append(group.create_task(one(number)))
    except BaseExceptionGroup as eg:
        raise _first(eg) from None
    if hasher is not None:
        hasher.check(count, src_key)
    results = {p.number: p for p in done_parts.values()}
    results.update((t.result().number, t.result()) for t in tasks)
    return [results[n] for n in sorted(results)]


async def _download_stream(
    src: Store,
    src_key: str,
    writer: Writer,
    size: int,
    part_size: int,
    opts: CopyOptions,
    info: ObjectInfo,
    expected_md5: str | None,
    progress: Progress | None,
    etag_is_md5: bool,
) -> list[PartResult]:
    """The whole object in one GET (``InfoReader.open_read``, ETag pinned), cut into parts in order: each full part
    is hashed (MD5, in order) and written in worker threads while the next one fills, so two part buffers are
    alive at most. A body that breaks or a GET that fails with a retryable error is taken up by ranged reads from
    the first part not written (``_upload_parts``, per-part retries), the MD5 state carried over."""
    assert isinstance(src, InfoReader)
    count = -(-size // part_size)
    digest = hashlib.md5()
    written: dict[int, PartResult] = {}
    counter = _Counter(progress)

    def part_len(number: int) -> int:
        return min(part_size, size - (number - 1) * part_size)

    async def put(number: int, data: bytearray) -> None:
        update = asyncio.to_thread(digest.update, data) if expected_md5 else asyncio.sleep(0)
        _, part = await asyncio.gather(update, writer.write_part(number, data))
        written[number] = part

    pending: asyncio.Task[None] | None = None
    try:
        stream = await src.open_read(src_key, version_id=info.version_id, if_match=info.etag)
        try:
            if stream.info.size != size:
                raise SourceChangedError(f"{display_text(src_key)}: source changed (size {stream.info.size})")
            number, got = 1, 0
            # two part buffers, reused in turn (one fills while the other is hashed and written): no fresh mapping
            # per part; the last, shorter part gets its own
            spare: list[bytearray] = [bytearray(part_len(2))] if count > 2 else []
            buf = bytearray(part_len(1))
            async for chunk in stream:
                if opts.bandwidth is not None:
                    await opts.bandwidth.take(len(chunk))
                view = memoryview(chunk)
                while len(view):
                    if number > count:
                        raise TransientError(f"long read: got more than the {size} bytes announced")
                    n = min(len(view), len(buf) - got)
                    buf[got : got + n] = view[:n]
                    got += n
                    view = view[n:]
                    counter(n)
                    if got == len(buf):
                        if pending is not None:
                            await pending  # the buffer it wrote is free again
                        done, pending = buf, asyncio.ensure_future(put(number, buf))
                        number += 1
                        got = 0
                        if number > count:
                            buf = bytearray()
                        elif spare and part_len(number) == part_size:
                            buf = spare.pop()
                        else:
                            buf = bytearray(part_len(number))
                        if len(done) == part_size and number < count:
                            spare.append(done)  # taken again once ``pending`` (its write) is awaited
            if pending is not None:
                await pending
                pending = None
            if number <= count:
                raise TransientError(f"short read: the body ended in part {number} of {count}")
        finally:
            await stream.aclose()
    except CloudpaneError as exc:
        if pending is not None:
            await pending  # a part being written belongs to what is done (or its error is the one to report)
        if not exc.retryable:
            raise
        counter.rewind()
        for part in written.values():
            if progress is not None:
                progress(part.size)  # what is written stays counted; the broken part is read again
        return await _upload_parts(
            src,
            src_key,
            writer,
            size,
            part_size,
            opts,
            info,
            expected_md5,
            progress,
            dict(written),
            None,
            etag_is_md5,
            None,
            None,
            (digest, len(written) + 1),
        )
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
    if expected_md5 and digest.hexdigest() != expected_md5:
        raise IntegrityError(
            f"{display_text(src_key)}: checksum mismatch: the source says MD5 {expected_md5}, the bytes read "
            f"hash to {digest.hexdigest()}; nothing was written"
        )
    return [written[n] for n in range(1, count + 1)]


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


class _InOrderHasher:
    """Hashes parts in order as they arrive. A part's slot is released only once it is hashed, so at most
    ``concurrency`` buffers are alive: memory stays bounded while the whole object is verified."""

    def __init__(self, expected: str, slots: asyncio.Semaphore, local: Path | None = None) -> None:
        self.expected = expected
        #: the local file the bytes come from: a mismatch then means it changed during the upload
        self.local = local
        self.slots = slots
        self.digest = hashlib.md5()
        self.next = 1
        self.waiting: dict[int, bytes | bytearray] = {}
        self.lock = asyncio.Lock()

    async def feed(self, number: int, data: bytes | bytearray) -> None:
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
        if got != self.expected and self.local is not None:
            raise _changed(self.local)
        if got != self.expected:
            raise IntegrityError(
                f"{display_text(key)}: checksum mismatch: the source says MD5 {self.expected}, the bytes read "
                f"hash to {got}; nothing was written"
            )
