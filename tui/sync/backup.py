"""One-way backup and restore: march two listings, decide per key, transfer what changed through the engine.

Comparison (per pair present on both sides), cheapest first:
- sizes differ: changed;
- ``--checksum``: MD5 against MD5 (a local file's hash comes from a cache keyed by path, size, mtime and inode;
  an object's from a single-part ETag or rclone's ``md5chksum``, by HEAD only when the listing cannot tell);
- otherwise modification times. A local file no newer than the object's LastModified (the upload time) is
  unchanged without any request, as ``aws s3 sync`` decides; only when the file looks newer is the object's
  ``mtime`` metadata (rclone's) read by HEAD. So a no-change backup sends no PUT and no HEAD.

Deletes (``delete=True``) pass the one delete gate (``tui.sync.gate``): they run last, never after a failed
transfer or listing, never when the source is empty, and never more than ``max_delete`` (default: half of the
destination) without ``force``. The keys to delete are spilled to a temporary file, so memory does not grow with
the destination either. A run that changes something holds the destination's lock (``tui.sync.lock``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal, Protocol, runtime_checkable

from tui.config import cache_dir
from tui.errors import CloudpaneError, ConflictError, NotFoundError, UnsafePathError, UsageError, one_line
from tui.safety import display_text
from tui.storage.base import Entry, ObjectInfo, Store
from tui.storage.meta import MD5_KEY, md5_b64_to_hex
from tui.sync.filters import KeyFilter
from tui.sync.gate import DeleteGate, DeleteLimit, Verdict, local_key, overlap, require_dir
from tui.sync.lock import DestinationLock
from tui.sync.march import CollectsListingErrors, Listed, Pair, entries, march
from tui.transfer.copy import CopyOptions
from tui.transfer.plan import Item, Tracker, run_item
from tui.transfer.pool import TaskPool

Op = Literal["+", "*", "-", "=", "!"]
#: modification times closer than this are the same (float rounding of metadata)
TOLERANCE = 0.001


@dataclass(frozen=True, slots=True)
class Action:
    """One line of a plan: ``+`` new, ``*`` changed, ``-`` deleted, ``=`` same, ``!`` refused."""

    op: Op
    rel: str
    size: int = 0
    reason: str = ""

    def line(self) -> str:
        text = f"{self.op} {display_text(self.rel)}"
        return f"{text}  ({display_text(self.reason)})" if self.reason else text


@dataclass
class Report:
    new: int = 0
    changed: int = 0
    deleted: int = 0
    same: int = 0
    skipped: int = 0
    failed: int = 0
    refused: int = 0
    conflicts: int = 0
    bytes: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)
    #: what ``skipped`` counts, by reason: hidden, os_junk, excluded (the filters), symlink (left out by the
    #: listing, or leading outside the root), deletes (held back by the gate); only the reasons met
    skipped_by: dict[str, int] = field(default_factory=dict)
    #: messages about the run as a whole (not one item): skipped deletes, unreadable folders
    notes: list[str] = field(default_factory=list)
    #: deletes the gate refused (exit 5), one line each
    refusals: list[str] = field(default_factory=list)
    #: refusals that ``force`` overrode (the TUI's compare shows them: its plan is made with force)
    overridden: list[str] = field(default_factory=list)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` items left out for ``reason`` (see ``skipped_by``)."""
        if count <= 0:
            return
        self.skipped += count
        self.skipped_by[reason] = self.skipped_by.get(reason, 0) + count

    def skipped_text(self) -> str:
        """``5 (3 hidden, 1 OS junk, 1 symlink)``: the count, and its reasons when there are any."""
        if not self.skipped_by:
            return str(self.skipped)
        words = {"hidden": "hidden", "os_junk": "OS junk", "excluded": "excluded", "deletes": "deletes held back"}
        parts = []
        for reason, count in self.skipped_by.items():
            word = words.get(reason) or (reason if count == 1 else f"{reason}s")
            parts.append(f"{count} {word}")
        return f"{self.skipped} ({', '.join(parts)})"

    def line(self) -> str:
        mode = " (dry run: nothing changed)" if self.dry_run else ""
        return (
            f"new {self.new}, changed {self.changed}, deleted {self.deleted}, same {self.same}, "
            f"skipped {self.skipped_text()}, failed {self.failed + self.refused}, "
            + (f"conflicts {self.conflicts}, " if self.conflicts else "")
            + f"{self.bytes} bytes, {self.seconds:.1f} s{mode}"
        )

    def as_json(self) -> str:
        data = asdict(self)
        data["errors"] = [display_text(e) for e in self.errors]
        data["notes"] = [display_text(e) for e in self.notes]
        return json.dumps(data, ensure_ascii=True)

    def fail(self, rel: str, exc: BaseException, emit: Callable[[Action], None], *, refused: bool = False) -> None:
        """Count one item that failed (or was refused) and say why, once."""
        if refused:
            self.refused += 1
        else:
            self.failed += 1
        self.errors.append(one_line(exc))
        emit(Action("!", rel, 0, one_line(exc)))

    def listing_failed(self, message: str) -> None:
        """A listing that failed part way: one failure, and a note that says where."""
        self.failed += 1
        self.errors.append(message)
        self.notes.append(message)

    def apply(self, verdict: Verdict, pending: int) -> bool:
        """Record the gate's verdict on ``pending`` deletes; whether they may run."""
        if verdict.skipped is not None:
            self.skip("deletes", pending)
            self.notes.append(verdict.skipped)
        if verdict.refusal is not None:
            self.refusals.append(verdict.refusal)
        return verdict.allowed

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.refused == 0 and self.conflicts == 0 and not self.refusals


@runtime_checkable
class CountsSkippedLinks(Protocol):
    """A store whose listing leaves symlinks out and counts them (the local store, ``symlinks="skip"``)."""

    skipped_symlinks: int


def _counting(keep: Callable[[str], bool] | None, report: Report) -> Callable[[str], bool] | None:
    """``keep`` for the source listing, counting in ``report`` what it leaves out and why."""
    if not isinstance(keep, KeyFilter):
        return keep
    rules = keep

    def counted(rel: str) -> bool:
        reason = rules.reason(rel)
        if reason is None:
            return True
        report.skip(reason)
        return False

    return counted


class DeleteRefused(ConflictError):
    """The delete gate refused deletes (exit 5): ``refusals`` has one line each; ``report`` what the run did."""

    def __init__(self, refusals: list[str], report: Report) -> None:
        super().__init__("; ".join(refusals))
        self.refusals = refusals
        self.report = report


@dataclass(frozen=True, slots=True)
class BackupOptions:
    checksum: bool = False
    delete: bool = False
    dry_run: bool = False
    #: a number of objects, or a percentage ("30%") of the destination; None: 50 %
    max_delete: int | str | None = None
    force: bool = False
    files_in_flight: int = 16
    #: hold the destination's lock while a run that changes something goes (``tui.sync.lock``)
    lock: bool = True


class HashCache:
    """MD5 of local files, keyed by (path, size, mtime_ns, inode, ctime_ns), so a rerun does not hash again."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or cache_dir() / "hashes.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.lock = threading.Lock()
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS md5v2 (path TEXT, size INT, mtime_ns INT, inode INT, ctime_ns INT, "
            "md5 TEXT, PRIMARY KEY (path, size, mtime_ns, inode, ctime_ns))"
        )

    def md5(self, path: Path) -> str:
        """Runs in worker threads, several at once: the connection is shared under a lock; hashing is not."""
        import hashlib

        st = path.stat()
        # ctime too: a rewrite in place with the mtime put back (utime) still moves the ctime
        key = (os.fsdecode(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        with self.lock:
            row = self.db.execute(
                "SELECT md5 FROM md5v2 WHERE path=? AND size=? AND mtime_ns=? AND inode=? AND ctime_ns=?", key
            ).fetchone()
        if row:
            return str(row[0])
        digest = hashlib.md5()
        with open(path, "rb") as f:
            while chunk := f.read(4 * 1024 * 1024):
                digest.update(chunk)
        value = digest.hexdigest()
        with self.lock, self.db:
            self.db.execute("DELETE FROM md5v2 WHERE path=?", (key[0],))
            self.db.execute("INSERT INTO md5v2 VALUES (?, ?, ?, ?, ?, ?)", (*key, value))
        return value

    def close(self) -> None:
        self.db.close()


@runtime_checkable
class LocalPaths(Protocol):
    """A store whose keys are files on this machine (hashed in place, mtimes exact)."""

    def read_path(self, key: str) -> Path: ...


def _is_local(store: Store) -> bool:
    return isinstance(store, LocalPaths) and not store.features.buckets


def side_id(store: Store, prefix: str) -> tuple[str, str]:
    """Where one side is, comparable with another side: (store, real path or prefix ending in ``/``)."""
    if _is_local(store):
        return "local", local_key(Path(store.url) / prefix)
    return store.url, prefix


def side_label(store: Store, prefix: str) -> str:
    return local_key(Path(store.url) / prefix) if _is_local(store) else f"{store.url}/{prefix}"


def check_apart(a: tuple[Store, str], b: tuple[Store, str]) -> None:
    """Two sides that are the same place, or one inside the other, are a usage error (exit 2)."""
    ia, ib = side_id(*a), side_id(*b)
    if overlap(ia, ib):
        la, lb = side_label(*a), side_label(*b)
        how = "are the same place" if ia == ib else "overlap (one is inside the other)"
        raise UsageError(f"{display_text(la)} and {display_text(lb)} {how}: choose two separate locations")


def _listing_md5(e: Entry) -> str | None:
    etag = (e.etag or "").lower()
    return etag if len(etag) == 32 and "-" not in etag else None


def _meta_md5(info: ObjectInfo) -> str | None:
    raw = info.metadata.get(MD5_KEY)
    return md5_b64_to_hex(raw) if raw else _listing_md5(Entry(info.key, etag=info.etag))


class Comparer:
    def __init__(self, src: Store, src_prefix: str, dst: Store, dst_prefix: str, *, checksum: bool) -> None:
        self.src, self.src_prefix, self.dst, self.dst_prefix = src, src_prefix, dst, dst_prefix
        self.checksum = checksum
        self.hashes = HashCache() if checksum else None
        self.heads = 0

    async def _md5(self, store: Store, key: str, e: Entry) -> str | None:
        if _is_local(store):
            assert self.hashes is not None
            assert isinstance(store, LocalPaths)
            path = store.read_path(key)
            return await asyncio.to_thread(self.hashes.md5, path)
        fast = _listing_md5(e)
        if fast:
            return fast
        self.heads += 1
        return _meta_md5(await store.stat(key))

    async def _mtime(self, store: Store, key: str, e: Entry) -> datetime | None:
        if _is_local(store):
            return e.last_modified
        self.heads += 1
        return (await store.stat(key)).mtime

    async def differs(self, pair: Pair) -> str | None:
        """Why the destination must be rewritten, or None when it already matches."""
        s, d = pair.src, pair.dst
        assert s is not None and d is not None
        if s.size != d.size:
            return f"size {s.size} != {d.size}"
        src_key, dst_key = self.src_prefix + pair.rel, self.dst_prefix + pair.rel
        if self.checksum:
            a = await self._md5(self.src, src_key, s)
            b = await self._md5(self.dst, dst_key, d)
            if a and b:
                return None if a == b else "content (md5)"
        # local file no newer than the object's upload time: unchanged, without a request
        local_src, local_dst = _is_local(self.src), _is_local(self.dst)
        if s.last_modified and d.last_modified:
            # LastModified has whole milliseconds at best (rclone's server lists our mtime metadata cut to ms)
            src_ms = s.last_modified.replace(microsecond=s.last_modified.microsecond // 1000 * 1000)
            if local_src and not local_dst and src_ms <= d.last_modified:
                return None
            close = abs((s.last_modified - d.last_modified).total_seconds()) < TOLERANCE
            if not local_src and local_dst and close:
                return None
        a_time = await self._mtime(self.src, src_key, s)
        b_time = await self._mtime(self.dst, dst_key, d)
        if a_time is None or b_time is None:
            return "no modification time"
        if abs((a_time - b_time).total_seconds()) < TOLERANCE:
            return None
        return "modified"

    def close(self) -> None:
        if self.hashes is not None:
            self.hashes.close()


async def backup(
    src: Store,
    src_prefix: str,
    dst: Store,
    dst_prefix: str,
    *,
    keep: Callable[[str], bool] | None,
    options: BackupOptions,
    copy_options: CopyOptions,
    same_remote: bool = False,
    on_action: Callable[[Action], None] | None = None,
    src_entries: AsyncIterator[Listed] | None = None,
    tracker: Tracker | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Report:
    """Make ``dst_prefix`` of ``dst`` match ``src_prefix`` of ``src`` (one way). ``src_entries`` replaces the
    source listing (``restore --as-of`` passes the versions that were latest then).

    Raises UsageError for sides that overlap, NotFoundError for a local source that is not there, LockHeld when
    another run holds the destination, DeleteRefused (after the transfers) when the delete gate refused."""
    check_apart((src, src_prefix), (dst, dst_prefix))
    if src_entries is None:
        await require_dir(src, side_label(src, src_prefix))
    lock = None
    if options.lock and not options.dry_run:
        lock = DestinationLock([side_label(dst, dst_prefix)], verb="backup", on_note=on_note)
        lock.acquire()
    try:
        return await _backup(
            src,
            src_prefix,
            dst,
            dst_prefix,
            keep=keep,
            options=options,
            copy_options=copy_options,
            same_remote=same_remote,
            on_action=on_action,
            src_entries=src_entries,
            tracker=tracker,
        )
    finally:
        if lock is not None:
            lock.release()


async def _backup(
    src: Store,
    src_prefix: str,
    dst: Store,
    dst_prefix: str,
    *,
    keep: Callable[[str], bool] | None,
    options: BackupOptions,
    copy_options: CopyOptions,
    same_remote: bool,
    on_action: Callable[[Action], None] | None,
    src_entries: AsyncIterator[Listed] | None,
    tracker: Tracker | None,
) -> Report:
    started = time.monotonic()
    report = Report(dry_run=options.dry_run)
    comparer = Comparer(src, src_prefix, dst, dst_prefix, checksum=options.checksum)
    src_count = dst_count = 0
    spill: IO[str] = tempfile.TemporaryFile(mode="w+", encoding="utf-8", prefix="cloudpane-deletes-")  # noqa: SIM115

    def emit(action: Action) -> None:
        if on_action is not None:
            on_action(action)

    async def transfer(pair: Pair) -> None:
        try:
            assert pair.src is not None
            reason = "new" if pair.dst is None else await comparer.differs(pair)
            if reason is None:
                report.same += 1
                emit(Action("=", pair.rel, pair.src.size or 0))
                return
            op: Op = "+" if pair.dst is None else "*"
            if options.dry_run:
                emit(Action(op, pair.rel, pair.src.size or 0, reason))
            else:
                # a remote source's listing row says what the copy needs (size, ETag): no HEAD per object
                listed = ObjectInfo.from_entry(pair.src) if src.features.buckets else None
                item = Item(
                    src,
                    src_prefix + pair.rel,
                    dst,
                    dst_prefix + pair.rel,
                    same_remote,
                    f"{src.url}/{src_prefix}{pair.rel}",
                    f"{dst.url}/{dst_prefix}{pair.rel}",
                    info=listed,
                    version_id=pair.src.version_id,
                )
                if tracker is not None:
                    tracker.queued(item)
                done = await run_item(item, copy_options, tracker=tracker)
                assert done is not None  # the "overwrite" policy never skips
                report.bytes += done[1]
                emit(Action(op, pair.rel, done[1], reason))
            if op == "+":
                report.new += 1
            else:
                report.changed += 1
        except UnsafePathError as exc:
            report.fail(pair.rel, exc, emit, refused=True)
        except (CloudpaneError, OSError, sqlite3.Error) as exc:
            # OSError: a file that vanished or cannot be read while hashing; never a silent loss of the item
            report.fail(pair.rel, exc, emit)

    try:
        src_stream = src_entries if src_entries is not None else entries(src, src_prefix, _counting(keep, report))
        async with TaskPool(options.files_in_flight) as pool:
            async for pair in march(src_stream, entries(dst, dst_prefix, keep)):
                if pair.error is not None:
                    report.listing_failed(pair.error)  # a note at the end; the deletes will not run
                    continue
                if pair.src is not None:
                    src_count += 1
                if pair.dst is not None:
                    dst_count += 1
                if pair.src is None:
                    if options.delete:
                        spill.write(json.dumps(pair.rel) + "\n")
                    continue
                await pool.submit(transfer(pair), label=pair.rel)
        for rel, exc in pool.failures:
            report.fail(rel, exc, emit)  # escaped a transfer: still one failed item, and no deletes after it
        if isinstance(src, CollectsListingErrors):
            report.skip("symlink", len(src.skipped_links))
            report.notes.extend(f"skipped symlink {link}" for link in src.skipped_links)
        if isinstance(src, CountsSkippedLinks):
            report.skip("symlink", src.skipped_symlinks)
        if options.delete:
            await _deletes(spill, dst, dst_prefix, src_count, dst_count, options, report, emit)
    finally:
        spill.close()
        comparer.close()
        report.seconds = time.monotonic() - started
    return report


async def _deletes(
    spill: IO[str],
    dst: Store,
    dst_prefix: str,
    src_count: int,
    dst_count: int,
    options: BackupOptions,
    report: Report,
    emit: Callable[[Action], None],
) -> None:
    spill.seek(0)
    pending = sum(1 for _ in spill)
    gate = DeleteGate(DeleteLimit.parse(options.max_delete), options.force)
    verdict = gate.verdict(pending=pending, errors=report.failed + report.refused, listed=src_count, known=dst_count)
    if verdict.allowed and options.force:
        unforced = DeleteGate(gate.limit).verdict(pending=pending, errors=0, listed=src_count, known=dst_count)
        if unforced.refusal is not None:
            report.overridden.append(unforced.refusal)
    if not report.apply(verdict, pending):
        if report.refusals:
            raise DeleteRefused(report.refusals, report)
        return
    spill.seek(0)
    for line in spill:
        rel = json.loads(line)
        if options.dry_run:
            emit(Action("-", rel))
            report.deleted += 1
            continue
        try:
            await dst.delete(dst_prefix + rel)
        except NotFoundError:
            pass
        except CloudpaneError as exc:
            report.fail(rel, exc, emit)
            continue
        report.deleted += 1
        emit(Action("-", rel))


async def versions_as_of(
    store: Store, prefix: str, when: datetime, keep: Callable[[str], bool] | None
) -> AsyncIterator[tuple[str, Entry]]:
    """For each key, the version that was latest at ``when``; keys deleted by then (or not yet there) are left
    out. Versions arrive newest first per key, so this streams."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current: str | None = None
    chosen = False
    async for page in store.list_versions(prefix):
        for e in page:
            if e.key != current:
                current, chosen = e.key, False
            if chosen or e.last_modified is None or e.last_modified > when:
                continue
            chosen = True
            rel = e.key[len(prefix) :]
            if e.is_delete_marker or not rel or rel.endswith("/"):
                continue
            if keep is None or keep(rel):
                yield rel, e
