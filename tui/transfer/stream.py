"""Streams of unknown size: stdin to any store (``cp - DST``), any object to stdout (``cp SRC -``, ``cat``).

- Upload: stdin is read one part at a time into a buffer of that part's size; at most ``concurrency`` parts hold a
  buffer at once (the reader waits for a free slot), so memory is ``concurrency x part size`` plus a constant,
  whatever the length of the stream. A stream that ends inside the first part is one PUT (an empty stdin makes an
  empty object); a longer one is a multipart upload (S3 parts, Azure blocks; local files: a temporary file renamed
  at the end).
- Part sizes grow, because the total is unknown: the configured part size for the first tenth of the store's part
  limit, then doubled every further tenth, and the last tenth ``MAX_STREAM_PART`` (Azure's largest block, under
  S3's 5 GiB). S3 (10,000 parts from 8 MiB): 1,000 parts of each of 8, 16, ... 2048 MiB, then 4000 MiB: 7.9 TiB
  (from 5 MiB: 6.3 TiB), so S3's 5 TiB object limit always fits. Azure (50,000 blocks): 39 TiB. A local file is
  written at fixed offsets (``LocalWriter``), so its parts keep one size (its limit is a million parts). The price
  of the growth is memory on huge streams: past 8 GiB the parts are 16 MiB and so on (``concurrency x`` the
  current part size).
- ``kill -9`` leaves the parts sent so far on an S3 server (a stdin upload is not in the resume journal):
  ``cloudpane transfers --server s3://bucket/ --abort`` finds and removes them.
- Every part carries its Content-MD5 and is retried on its own (its buffer is kept until it is written).
- No orphan: any failure or cancellation (Ctrl-C, a read error on stdin) aborts the multipart upload, so nothing
  appears at the key and nothing is left on the server. A stdin upload is not journaled: it cannot be resumed (the
  bytes are gone).
- Blocking reads and writes of the standard streams run in one daemon thread of this module, never in the event
  loop's executor: an interrupted ``cp - DST`` whose stdin is a terminal or an idle pipe must exit at once, and
  ``asyncio.run`` would wait for an executor thread stuck in ``read``.

No Textual here (the engine).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from tui.errors import CloudpaneError, TransientError, UsageError, os_error
from tui.storage.base import LocalTarget, PartResult, PutResult, Store
from tui.storage.meta import MTIME_KEY, format_mtime
from tui.transfer.copy import CopyOptions, content_md5
from tui.transfer.parts import MiB
from tui.transfer.parts import first_failure as _first
from tui.transfer.retry import retrying

_T = TypeVar("_T")

#: the largest part a stream uses: Azure's largest block (S3 allows 5 GiB)
MAX_STREAM_PART = 4000 * MiB
#: S3's largest object; a stream that would pass it fails before it sends another part
MAX_S3_OBJECT = 5 * 1024 * 1024 * MiB


def stream_part_size(number: int, *, base: int, max_parts: int) -> int:
    """The size of part ``number`` (1-based) of a stream of unknown length: ``base`` for the first tenth of
    ``max_parts``, doubled for every further tenth, at most ``MAX_STREAM_PART``."""
    group = max(1, max_parts // 10)
    step = (number - 1) // group
    if step >= 9:  # the last tenth: the largest parts, so that 5 TiB fits whatever the base (5 MiB and up)
        return max(base, MAX_STREAM_PART)
    return max(base, min(MAX_STREAM_PART, base << step))


def stream_capacity(*, base: int, max_parts: int) -> int:
    """The longest stream ``stream_part_size`` fits in ``max_parts`` parts."""
    group = max(1, max_parts // 10)
    total, number = 0, 1
    while number <= max_parts:
        size = stream_part_size(number, base=base, max_parts=max_parts)
        count = min(group - (number - 1) % group, max_parts - number + 1)
        total += size * count
        number += count
    return total


# -- blocking I/O off the event loop, in a daemon thread -------------------------------------------------------
class _DaemonIO:
    """One daemon thread that runs blocking calls (reads of stdin, writes to stdout) for the event loop. Unlike
    ``asyncio.to_thread``, a call stuck in ``read`` does not keep the process alive after a cancellation."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, fn: Callable[[], _T]) -> _T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[_T] = loop.create_future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="cloudpane-stdio", daemon=True)
                self._thread.start()
        self._jobs.put((fn, fut, loop))
        return await fut

    def _work(self) -> None:
        while True:
            fn, fut, loop = self._jobs.get()
            try:
                result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                self._settle(loop, fut, None, exc)
            else:
                self._settle(loop, fut, result, None)

    @staticmethod
    def _settle(
        loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any], result: Any, exc: BaseException | None
    ) -> None:
        def settle() -> None:
            if fut.done():
                return
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle)


_IO = _DaemonIO()


def _fill(fd: int, size: int) -> bytearray:
    """Read up to ``size`` bytes from ``fd``: fewer only at the end of the stream."""
    buf = bytearray(size)
    view = memoryview(buf)
    pos = 0
    try:
        while pos < size:
            n = os.readv(fd, [view[pos:]])
            if n == 0:
                break
            pos += n
    finally:
        view.release()
    if pos < size:
        del buf[pos:]
    return buf


class FdReader:
    """Reads a file descriptor (stdin) part by part."""

    def __init__(self, fd: int, label: str = "stdin") -> None:
        self.fd = fd
        self.label = label

    async def read(self, size: int) -> bytearray:
        fd = self.fd
        try:
            return await _IO.run(lambda: _fill(fd, size))
        except OSError as exc:
            raise os_error(f"read {self.label}", exc) from exc


class FdWriter:
    """Writes to a file descriptor (stdout). A closed reader raises BrokenPipeError (the CLI ends quietly)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    async def write(self, data: bytes) -> None:
        fd = self.fd

        def write_all() -> None:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]

        await _IO.run(write_all)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Inside a running coroutine: SIGTERM (``timeout``, ``kill``, a service manager) cancels it as Ctrl-C does, so
    its cleanup runs (an upload from stdin is aborted, not left on the server), and KeyboardInterrupt is raised in
    its place (exit 130, "interrupted"). Where signals cannot be handled (not the main thread) nothing changes."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    hit: list[bool] = []

    def stop() -> None:
        hit.append(True)
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, stop)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    except asyncio.CancelledError:
        if hit:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


# -- upload ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StreamResult:
    result: PutResult
    size: int
    parts: int


async def upload_stream(
    read: Callable[[int], Any],
    dst: Store,
    key: str,
    *,
    options: CopyOptions,
    metadata: dict[str, str] | None = None,
    content_type: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> StreamResult:
    """Upload what ``read(n)`` (an async callable returning at most ``n`` bytes, fewer only at the end) yields to
    ``key`` of ``dst``. Any failure or cancellation aborts the multipart upload: nothing is left at the key."""
    policy = options.retry
    meta = dict(metadata or {})
    meta.setdefault(MTIME_KEY, format_mtime(time.time()))
    base = max(options.part_size, dst.features.min_part_size)
    fixed = isinstance(dst, LocalTarget)  # a local writer places part n at (n - 1) x part size

    def size_of(number: int) -> int:
        return base if fixed else stream_part_size(number, base=base, max_parts=dst.features.max_parts)

    first: bytearray = await read(size_of(1))
    if len(first) < size_of(1):
        md5 = content_md5(first)
        body = bytes(first)
        del first
        result = await retrying(
            lambda: dst.put(key, body, metadata=meta, content_type=content_type, content_md5=md5), policy=policy
        )
        if progress:
            progress(len(body))
        return StreamResult(result, len(body), 0)

    writer = await retrying(
        lambda: dst.open_writer(key, metadata=meta, content_type=content_type, part_size=base), policy=policy
    )
    slots = asyncio.Semaphore(max(1, options.concurrency))
    parts: list[PartResult] = []
    total = 0
    try:
        try:
            async with asyncio.TaskGroup() as tg:

                async def send(number: int, data: bytearray) -> None:
                    try:
                        if options.bandwidth is not None:
                            await options.bandwidth.take(len(data))
                        md5 = await asyncio.to_thread(content_md5, data)
                        part = await retrying(lambda: writer.write_part(number, data, content_md5=md5), policy=policy)
                        parts.append(part)
                        if progress:
                            progress(len(data))
                    finally:
                        slots.release()

                await slots.acquire()
                number, data = 1, first
                del first
                while True:
                    total += len(data)
                    if total > MAX_S3_OBJECT and dst.features.buckets and dst.features.max_parts <= 10_000:
                        raise UsageError(f"write {key}: the stream is longer than 5 TiB, the most S3 stores allow")
                    full = len(data) == size_of(number)
                    tg.create_task(send(number, data))
                    del data
                    if not full:
                        break
                    if number >= dst.features.max_parts:
                        raise UsageError(
                            f"write {key}: the stream needs more than {dst.features.max_parts} parts "
                            f"(raise CLOUDPANE_PART_SIZE)"
                        )
                    await slots.acquire()
                    data = await read(size_of(number + 1))
                    if not data:
                        slots.release()
                        break
                    number += 1
        except BaseExceptionGroup as eg:
            raise _first(eg) from None
        result = await retrying(lambda: writer.complete(sorted(parts, key=lambda p: p.number)), policy=policy)
    except BaseException:
        with contextlib.suppress(CloudpaneError):  # the original failure is what the user needs to see
            await asyncio.shield(writer.abort())
        raise
    return StreamResult(result, total, len(parts))


# -- download ----------------------------------------------------------------------------------------------------
async def download_stream(
    src: Store,
    key: str,
    write: Callable[[bytes], Any],
    *,
    start: int = 0,
    end: int | None = None,
    version_id: str | None = None,
    options: CopyOptions | None = None,
) -> int:
    """Write bytes ``[start, end)`` of ``key`` (its ``version_id``) to ``write`` (an async callable), in order, as
    they arrive: one GET, no buffer beyond a chunk. Returns the number of bytes written. A body that breaks before
    its end is read again from where it broke (ETag pinned, so the bytes cannot be of another object)."""
    policy = (options or CopyOptions()).retry
    bandwidth = (options or CopyOptions()).bandwidth
    info = await retrying(lambda: src.stat(key, version_id=version_id), policy=policy)
    stop = info.size if end is None else min(end, info.size)
    pos = start
    attempt = 0
    etag = info.etag if src.features.buckets else None
    while pos < stop:
        try:
            async for chunk in _chunks(src, key, pos, stop, version_id, etag):
                if bandwidth is not None:
                    await bandwidth.take(len(chunk))
                await write(chunk)
                pos += len(chunk)
            if pos < stop:
                raise TransientError(f"read {key}: the body ended after {pos - start} of {stop - start} bytes")
        except CloudpaneError as exc:
            attempt += 1
            if not exc.retryable or attempt >= policy.attempts:
                raise
            await asyncio.sleep(policy.delay(attempt))
    return pos - start


def _chunks(
    src: Store, key: str, start: int, end: int, version_id: str | None, etag: str | None
) -> AsyncIterator[bytes]:
    return src.read(key, start=start, end=end, version_id=version_id, if_match=etag)
