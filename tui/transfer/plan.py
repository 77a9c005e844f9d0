"""Expand ``cp``/``mv`` arguments into per-object copies and run them, many files at once.

Semantics follow the aws cli and rclone: ``cp -r SRC/ DST/`` puts the *contents* of SRC into DST; a single object
copied to a folder (a key ending in ``/`` or an existing local directory) keeps its name. A destination that is
newer than its source is not overwritten without ``force`` (exit 5), so nothing newer is lost by accident.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, runtime_checkable

from tui.config import Settings
from tui.errors import (
    CloudpaneError,
    ConflictError,
    ExitCode,
    NotFoundError,
    UsageError,
    exit_code_for,
)
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Entry, InContainer, LocalSource, LocalTarget, ObjectInfo, PutResult, Store
from tui.storage.hub import StoreHub
from tui.transfer.copy import Bandwidth, CopyOptions, Phase, copy_object
from tui.transfer.journal import Journal
from tui.transfer.pool import TaskPool
from tui.transfer.retry import RetryPolicy
from tui.transfer.select import Extras

#: what to do when the destination exists: overwrite it; skip it; copy only when the source is newer; refuse
#: (an error, exit 5) when the destination is newer and overwrite otherwise (the CLI's default)
Conflict = Literal["overwrite", "skip", "newer", "refuse-newer"]


class Tracker(Protocol):
    """Per-item hooks for a UI. ``started`` runs inside the item's task (so it may keep the task to cancel it)
    and returns the progress callback that receives byte counts (negative on a retry's rewind). ``finished`` gets
    the result, or the error (``asyncio.CancelledError`` when the item was cancelled), or neither when skipped."""

    def queued(self, item: Item) -> None: ...

    def started(self, item: Item, size: int) -> Callable[[int], None] | None: ...

    def finished(self, item: Item, result: PutResult | None, error: BaseException | None) -> None: ...


@runtime_checkable
class PhaseTracker(Protocol):
    """A Tracker that also hears what a started item is doing besides moving bytes (``tui.transfer.copy.Phase``:
    hashing, verifying, completing, retrying with its count of retries so far)."""

    def phase(self, item: Item, phase: Phase, count: int) -> None: ...


@dataclass
class Outcome:
    """What a batch did: counts, bytes, and each failure with its error."""

    on_done: Callable[[str, str, int], None] | None = None
    on_fail: Callable[[str, BaseException], None] | None = None
    tracker: Tracker | None = None
    done: int = 0
    skipped: int = 0
    bytes: int = 0
    failures: list[tuple[str, BaseException]] = field(default_factory=list)

    def ok(self, src: str, dst: str, size: int) -> None:
        self.done += 1
        self.bytes += size
        if self.on_done:
            self.on_done(src, dst, size)

    def fail(self, what: str, exc: BaseException) -> None:
        self.failures.append((what, exc))
        if self.on_fail:
            self.on_fail(what, exc)

    def exit_code(self) -> int:
        """0 when all went well; the failures' own code when nothing succeeded and they agree; else 1."""
        if not self.failures:
            return int(ExitCode.OK)
        codes = {exit_code_for(exc) for _, exc in self.failures}
        if self.done == 0 and len(codes) == 1:
            return int(codes.pop())
        return int(ExitCode.PARTIAL)


@dataclass(frozen=True, slots=True)
class Item:
    """One object to copy, with everything its first attempt used, so that a retry does exactly the same:
    the source version, the conflict policy, whether it is a move, whether the destination was seen absent."""

    src: Store
    src_key: str
    dst: Store
    dst_key: str
    same_remote: bool
    src_label: str
    dst_label: str
    #: what is known of the source: a ``stat``, or a listing row (``ObjectInfo.from_entry``: partial); None: the
    #: item stats the source itself (``version_id``'s version)
    info: ObjectInfo | None = None
    #: the destination is known to be absent (from a listing): no HEAD is needed to check for a conflict, and the
    #: write only creates (``If-None-Match: *`` where the store honours it)
    dst_absent: bool = False
    #: the source version to copy (None: the latest)
    version_id: str | None = None
    #: delete the source once its copy is complete
    move: bool = False
    conflict: Conflict = "overwrite"


#: a folder copy lists the destination first (instead of a HEAD per file) when it has at most this many keys
DST_LISTING_CAP = 200_000


def _same_place(item: Item) -> bool:
    """Whether a copy would write onto its own source (``mv f ./f`` must never delete the data)."""
    src, dst = item.src, item.dst
    if isinstance(src, LocalSource) and isinstance(dst, LocalTarget) and not src.features.buckets:
        try:
            same: bool = os.path.realpath(src.read_path(item.src_key)) == os.path.realpath(dst.path(item.dst_key))
        except CloudpaneError:
            return False
        return same
    src_bucket = src.bucket if isinstance(src, InContainer) else None
    dst_bucket = dst.bucket if isinstance(dst, InContainer) else None
    return item.same_remote and src_bucket == dst_bucket and item.src_key == item.dst_key


def _join(prefix: str, rel: str) -> str:
    if not prefix or prefix.endswith("/"):
        return prefix + rel
    return f"{prefix}/{rel}"


def _label(loc: Location, store: Store, key: str) -> str:
    """The location text of ``key`` in ``loc``'s store, for output lines."""
    if loc.kind == "local":
        return os.path.join(store.url, key) if key else store.url
    return str(replace(loc, key=key))


async def _should_copy(item: Item, info: ObjectInfo) -> tuple[bool | Literal["absent"], ObjectInfo]:
    """Decide by the item's conflict policy whether to copy over what is at the destination: ``"absent"`` when
    the destination was looked at and nothing is there (then the write may only create, never overwrite). Also
    returns the source's info, completed by a ``stat`` when a partial one (from a listing) must be compared by
    modification time (rclone's ``mtime`` metadata is not in a listing)."""
    conflict = item.conflict
    if item.dst_absent:
        return "absent", info
    if conflict == "overwrite":
        return True, info
    try:
        existing = await item.dst.stat(item.dst_key)
    except NotFoundError:
        return "absent", info
    if conflict == "skip":
        return False, info
    if info.partial:
        info = await item.src.stat(item.src_key, version_id=item.version_id)
    return _by_time(item, info, existing), info


def _by_time(item: Item, info: ObjectInfo, existing: ObjectInfo) -> bool:
    conflict = item.conflict
    src_time, dst_time = info.mtime, existing.mtime
    newer_dst = bool(src_time and dst_time and dst_time > src_time)
    if conflict == "newer":
        return bool(src_time and dst_time and src_time > dst_time)
    if newer_dst:
        assert src_time is not None and dst_time is not None
        raise ConflictError(
            f"{display_text(item.dst_label)} is newer than the source ({dst_time:%Y-%m-%d %H:%M:%S} > "
            f"{src_time:%Y-%m-%d %H:%M:%S}); use --force to overwrite"
        )
    return True


def copy_options(
    settings: Settings,
    *,
    journal: Journal | None,
    bandwidth: Bandwidth | None = None,
    retry: RetryPolicy | None = None,
) -> CopyOptions:
    """The one place CopyOptions are made (cp, mv, backup, restore, sync, the TUI): the settings' part size and
    concurrency, and the resume journal, so that every multipart upload of a local file is resumable."""
    return CopyOptions(
        part_size=settings.part_size,
        store_part_size=not settings.part_size_chosen,
        concurrency=settings.concurrency,
        bandwidth=bandwidth,
        journal=journal,
        retry=retry or RetryPolicy(),
    )


@contextlib.contextmanager
def journaled(
    settings: Settings, *, bandwidth: Bandwidth | None = None, retry: RetryPolicy | None = None
) -> Iterator[CopyOptions]:
    """CopyOptions with the resume journal (in the state directory) opened for a command and closed after it."""
    journal = Journal()
    try:
        yield copy_options(settings, journal=journal, bandwidth=bandwidth, retry=retry)
    finally:
        journal.close()


async def run_item(
    item: Item, options: CopyOptions, *, tracker: Tracker | None = None, fresh: bool = False
) -> tuple[PutResult, int] | None:
    """Copy one item as it says (version, conflict policy, move): (result, bytes) when copied, None when the
    policy skipped it; raises on failure. ``tracker`` hears ``started`` and ``finished`` (also for a
    cancellation). ``fresh``: ignore the item's ``info`` and stat the source (its version) again (a retry)."""
    result: PutResult | None = None
    try:
        if _same_place(item):
            raise UsageError(f"{display_text(item.src_label)}: source and destination are the same")
        info = None if fresh else item.info
        if info is None:
            info = await item.src.stat(item.src_key, version_id=item.version_id)
        decision, info = await _should_copy(item, info)
        if not decision:
            if tracker:
                tracker.finished(item, None, None)
            return None
        progress = tracker.started(item, info.size) if tracker else None
        on_phase = functools.partial(tracker.phase, item) if isinstance(tracker, PhaseTracker) else None
        result = await copy_object(
            item.src,
            item.src_key,
            item.dst,
            item.dst_key,
            info=info,
            options=options,
            same_remote=item.same_remote,
            progress=progress,
            if_absent=decision == "absent",
            on_phase=on_phase,
        )
        if item.move:
            await item.src.delete(item.src_key, version_id=None)
    except BaseException as exc:
        if tracker:
            tracker.finished(item, None, exc)
        raise
    if tracker:
        tracker.finished(item, result, None)
    return result, info.size


async def check_item(item: Item) -> int | None:
    """What ``run_item`` would do, without writing: the size it would copy, or None when its policy skips it.
    Raises what the copy would raise before its first byte (a missing source, a newer destination)."""
    if _same_place(item):
        raise UsageError(f"{display_text(item.src_label)}: source and destination are the same")
    info = item.info or await item.src.stat(item.src_key, version_id=item.version_id)
    decision, info = await _should_copy(item, info)
    return info.size if decision else None


async def run_transfer(
    hub: StoreHub,
    sources: list[Location],
    dst: Location,
    *,
    recursive: bool,
    move: bool,
    conflict: Conflict = "refuse-newer",
    outcome: Outcome,
    options: CopyOptions | None = None,
    extras: Extras | None = None,
) -> None:
    """``extras``: cp's filters, version, what the written objects carry, and ``--dry-run`` (then each item is
    checked as a copy would check it and counted in ``outcome`` as done, and nothing is written)."""
    settings = hub.settings
    ex = extras or Extras()
    opts = options or copy_options(settings, journal=None)
    multiple = len(sources) > 1
    dst_store, dst_key = await hub.destination(dst, folder=dst.is_prefix or multiple or recursive)
    dst_is_folder = dst.is_prefix or (dst.kind != "local" and dst_key == "")
    if (multiple or recursive) and not dst_is_folder:
        if multiple:
            raise UsageError(f"copying several sources needs a folder as destination: add a / to {dst.raw}")
        dst_key = dst_key + "/" if dst_key else dst_key
    ex.check(dst_store)
    dst_store = ex.destination(dst_store)
    if ex.content_type is not None or ex.metadata:
        opts = replace(opts, content_type=ex.content_type, metadata=tuple(ex.metadata.items()))

    async def one(item: Item) -> None:
        try:
            if ex.dry_run:
                size = await check_item(item)
                done = None if size is None else (PutResult(), size)
            else:
                done = await run_item(item, opts, tracker=outcome.tracker)
        except asyncio.CancelledError:
            raise  # one item cancelled (from the UI) does not stop the batch: the pool counts it
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown: nothing escapes the summary
            outcome.fail(item.src_label, exc)
            return
        if done is None:
            outcome.skipped += 1
        else:
            outcome.ok(item.src_label, item.dst_label, done[1])

    async with TaskPool(settings.max_files_in_flight) as pool:

        async def submit(item: Item) -> None:
            item = replace(item, move=move, conflict=conflict)
            if outcome.tracker:
                outcome.tracker.queued(item)
            await pool.submit(one(item), label=item.src_label)

        for src in sources:
            try:
                await _expand(
                    hub,
                    src,
                    dst,
                    dst_store,
                    dst_key,
                    recursive=recursive,
                    submit=submit,
                    check=conflict != "overwrite",
                    extras=ex,
                )
            except Exception as exc:  # noqa: BLE001 - a source that cannot be expanded fails, the rest go on
                outcome.fail(src.raw or str(src), exc)
    for what, error in pool.failures:
        outcome.fail(what, error)


async def _existing(store: Store, prefix: str) -> set[str] | None:
    """The keys already under the destination prefix (one LIST per 1,000 keys instead of a HEAD per file), or
    None when there are more than DST_LISTING_CAP of them (then each file is checked on its own)."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    keys: set[str] = set()
    try:
        async for page in store.list(prefix, recursive=True):
            keys.update(e.key for e in page)
            if len(keys) > DST_LISTING_CAP:
                return None
    except NotFoundError:
        return keys
    return keys


async def _expand(
    hub: StoreHub,
    src: Location,
    dst: Location,
    dst_store: Store,
    dst_key: str,
    *,
    recursive: bool,
    submit: Callable[[Item], object],
    check: bool = False,
    extras: Extras | None = None,
) -> None:
    ex = extras or Extras()
    if src.kind == "https":
        if ex.version_id:
            raise UsageError("--version-id picks a version of an object; an https:// URL has none")
        http = hub.http_source(src)
        dst_is_folder = dst.is_prefix or dst_key == "" or dst_key.endswith("/")
        target = _join(dst_key, http.name) if dst_is_folder else dst_key
        await _await(submit(Item(http, "", dst_store, target, False, str(src), _label(dst, dst_store, target))))
        return
    src_store = await hub.store(src)
    src_key = hub.key(src)
    same = hub.same_remote(src, dst)
    folder = src.is_prefix or src_key == ""
    if not folder and src.kind != "local" and recursive:
        # `cp -r s3://b/name ...`: an object called name is copied as a file; otherwise name/ is a folder
        try:
            await src_store.stat(src_key)
        except NotFoundError:
            folder = True
            src_key += "/"
    if folder:
        if not recursive:
            raise UsageError(f"{display_text(str(src))} is a folder: use -r")
        if ex.version_id:
            raise UsageError(f"--version-id picks a version of one object; {display_text(str(src))} is a folder")
        if not src_key.endswith("/") and src_key:
            src_key += "/"
        found = 0
        present = await _existing(dst_store, dst_key) if check else None
        async for page in src_store.list(src_key, recursive=True):
            for e in page:
                rel = e.key[len(src_key) :]
                if ex.keep is not None and not ex.keep(rel):
                    continue
                target = _join(dst_key, rel)
                found += 1
                absent = present is not None and target not in present
                await _await(
                    submit(
                        Item(
                            src_store,
                            e.key,
                            dst_store,
                            target,
                            same,
                            _label(src, src_store, e.key),
                            _label(dst, dst_store, target),
                            info=_listed(src_store, e),
                            dst_absent=absent,
                        )
                    )
                )
        empty_dir = src.kind == "local" and src.path is not None and src.path.is_dir()
        if found == 0 and not empty_dir and (src.kind == "local" or not src.is_prefix):
            # a missing local directory, or `-r s3://b/name` where name is neither a key nor a folder
            raise NotFoundError(f"{display_text(str(src))}: nothing there")
        return
    name = src_key.rsplit("/", 1)[-1]
    dst_is_folder = dst.is_prefix or dst_key == "" or dst_key.endswith("/")
    target = _join(dst_key, name) if dst_is_folder else dst_key
    await _await(
        submit(
            Item(
                src_store,
                src_key,
                dst_store,
                target,
                same,
                _label(src, src_store, src_key),
                _label(dst, dst_store, target),
                version_id=ex.version_id,
            )
        )
    )


def _listed(store: Store, entry: Entry) -> ObjectInfo | None:
    """What the listing already says of a remote object (size, ETag, LastModified): no HEAD before its copy.
    Local files are stat'ed (a system call, no request): the copy needs their mode and exact mtime."""
    return ObjectInfo.from_entry(entry) if store.features.buckets else None


async def _await(value: object) -> None:
    if asyncio.iscoroutine(value):
        await value
