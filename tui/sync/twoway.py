"""Two-way sync: what changed on one side since the last sync goes to the other; both changed is a conflict.

Three sorted streams are walked in lock step: side A's listing, side B's listing, and the state of the last sync
(sqlite in the XDG state directory, ordered by the key's UTF-8 bytes). Per key:

| A | B | last sync | decision |
|---|---|---|---|
| changed | unchanged | yes | copy A to B (and the reverse) |
| changed | changed | yes | equal content: in sync again; else a conflict (reported, or ``resolve``d) |
| present | present | no | equal: remember; else the newer side wins |
| present | absent | yes, A unchanged | deleted on B: delete on A (and the reverse) |
| present | absent | yes, A changed, or no | copy A to B (a change beats a delete; nothing is lost) |
| absent | absent | yes | forget |

"Changed" compares the side's (size, modification time, ETag) with what the last sync recorded. "Equal content"
(a conflict that clears) is the backup's comparison with checksums: same size and the same MD5 where both sides
can tell it (a local file's hash, a single-part ETag, rclone's ``md5chksum``), else the same modification time.

The state belongs to the pair, whatever the order of the arguments: it is keyed by the two locations in a fixed
(canonical) order, and its ``a``/``b`` columns are the canonical first and second side.

Conflict resolution (``resolve``, as rclone bisync's ``--conflict-resolve``): ``none`` (default) reports the
conflict (exit 1) and leaves both copies alone; ``newer``/``older`` copy the newer/older copy (modification time;
a tie goes to A) over the other; ``a``/``b`` copy that side's; ``keep-both`` keeps the newer copy under the name
and the older one beside it as ``NAME.conflictN`` (rclone's suffix; the first N free on both sides), on both
sides.

Deletes go through the delete gate (``tui.sync.gate``) in each direction: never after an error (a failed copy, a
listing that failed part way), never because the other side is empty, never more than ``max_delete`` (default
50 %) of what the last sync knew, without ``force``. A listing failure on a side also stops every decision that
rests on a key being absent from that side (copies to it included), until a run lists it whole. Deletes that
did not run stay in the state, so the next run decides again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from tui.config import state_dir
from tui.errors import CloudpaneError, NotFoundError, one_line
from tui.safety import display_text
from tui.storage.base import Entry, Store, utf8_key
from tui.sync.backup import Action, Comparer, DeleteRefused, Report, check_apart, side_label
from tui.sync.gate import DeleteGate, require_dir
from tui.sync.lock import DestinationLock
from tui.sync.march import Listed, ListingFailure, Pair, entries
from tui.transfer.copy import CopyOptions, copy_object
from tui.transfer.pool import TaskPool

Sig = tuple[int, float, str]
Resolve = Literal["none", "newer", "older", "a", "b", "keep-both"]
RESOLVE_MODES: tuple[str, ...] = get_args(Resolve)
CONFLICT_SUFFIX = ".conflict"


def signature(e: Entry) -> Sig:
    when = e.last_modified.timestamp() if e.last_modified else 0.0
    return (e.size or 0, round(when, 3), e.etag or "")


@dataclass(frozen=True, slots=True)
class Row:
    rel: str
    a: Entry | None
    b: Entry | None
    last: tuple[Sig, Sig] | None
    #: a listing failure of side ``error_side`` ("a" or "b"); then rel is empty
    error: str | None = None
    error_side: str = ""


_COLUMNS = "rel BLOB PRIMARY KEY, a_size INT, a_time REAL, a_etag TEXT, b_size INT, b_time REAL, b_etag TEXT"


def state_name(first: str, second: str) -> str:
    return f"{first}|{second}"


def state_file(name: str) -> Path:
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return state_dir() / "sync" / f"{digest}.sqlite3"


class SyncState:
    """The last sync's signatures of both sides, one row per key. ``swapped``: the caller's A is the stored
    ``b`` column (the state is kept in the canonical order of the pair); rows and ``remember`` speak the caller's
    order. ``legacy``: an older state file for this pair, keyed by the arguments as typed, and whether its
    columns are in the caller's order reversed; read once when there is no state yet."""

    def __init__(
        self,
        name: str,
        path: Path | None = None,
        *,
        swapped: bool = False,
        legacy: list[tuple[Path, bool]] | None = None,
    ) -> None:
        path = path or state_file(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not path.exists()
        self.swapped = swapped
        self.db = sqlite3.connect(path)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS state ({_COLUMNS})")
        self.db.execute(f"CREATE TABLE IF NOT EXISTS next ({_COLUMNS})")
        self.db.execute("DELETE FROM next")
        if fresh:
            for old, reversed_ in legacy or []:
                if old.exists() and old != path:
                    self._adopt(old, reversed_ != swapped)
                    break

    def _adopt(self, old: Path, flip: bool) -> None:
        src = sqlite3.connect(old)
        try:
            rows = src.execute("SELECT * FROM state").fetchall()
        except sqlite3.Error:
            rows = []
        finally:
            src.close()
        with self.db:
            for r in rows:
                self.db.execute(
                    "INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (r[0], *r[4:7], *r[1:4]) if flip else r,
                )

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM state").fetchone()[0])

    def rows(self) -> Iterator[tuple[str, tuple[Sig, Sig]]]:
        cur = self.db.execute("SELECT * FROM state ORDER BY rel")
        for rel, a_size, a_time, a_etag, b_size, b_time, b_etag in cur:
            first: Sig = (a_size, a_time, a_etag)
            second: Sig = (b_size, b_time, b_etag)
            yield (
                bytes(rel).decode("utf-8", "surrogateescape"),
                (second, first) if self.swapped else (first, second),
            )

    def remember(self, rel: str, a: Sig, b: Sig) -> None:
        first, second = (b, a) if self.swapped else (a, b)
        self.db.execute("INSERT OR REPLACE INTO next VALUES (?, ?, ?, ?, ?, ?, ?)", (utf8_key(rel), *first, *second))

    def commit(self) -> None:
        """The next state becomes the state (atomically)."""
        with self.db:
            self.db.execute("DELETE FROM state")
            self.db.execute("INSERT INTO state SELECT * FROM next")
            self.db.execute("DELETE FROM next")

    def close(self) -> None:
        self.db.close()


async def _state_stream(state: SyncState) -> AsyncIterator[tuple[str, tuple[Sig, Sig]]]:
    for row in state.rows():
        yield row


async def _next(stream: AsyncIterator[Listed], side: str, errors: list[Row]) -> tuple[str, Entry] | None:
    while True:
        item = await anext(stream, None)
        if not isinstance(item, ListingFailure):
            return item
        errors.append(Row("", None, None, None, error=item.message, error_side=side))


async def march3(
    a: AsyncIterator[Listed],
    b: AsyncIterator[Listed],
    s: AsyncIterator[tuple[str, tuple[Sig, Sig]]],
) -> AsyncIterator[Row]:
    """The three streams in lock step; a listing failure comes out (as a Row with ``error``) before any row
    that follows it in key order."""
    errors: list[Row] = []
    ca, cb, cs = await _next(a, "a", errors), await _next(b, "b", errors), await anext(s, None)
    while True:
        while errors:
            yield errors.pop(0)
        if ca is None and cb is None and cs is None:
            return
        low = min(utf8_key(x[0]) for x in (ca, cb, cs) if x is not None)
        rel = low.decode("utf-8", "surrogateescape")
        ea = ca[1] if ca is not None and utf8_key(ca[0]) == low else None
        eb = cb[1] if cb is not None and utf8_key(cb[0]) == low else None
        es = cs[1] if cs is not None and utf8_key(cs[0]) == low else None
        yield Row(rel, ea, eb, es)
        if ea is not None:
            ca = await _next(a, "a", errors)
        if eb is not None:
            cb = await _next(b, "b", errors)
        if es is not None:
            cs = await anext(s, None)


async def _newer(comparer: Comparer, row: Row) -> bool:
    """Whether A's copy is the newer one (modification times, rclone's metadata first); a tie is A's."""
    assert row.a is not None and row.b is not None
    ta = await comparer._mtime(comparer.src, comparer.src_prefix + row.rel, row.a)
    tb = await comparer._mtime(comparer.dst, comparer.dst_prefix + row.rel, row.b)
    if ta is None or tb is None:
        return ta is not None
    return ta >= tb


async def _free_name(rel: str, stores: list[tuple[Store, str]]) -> str:
    """``rel.conflictN`` with the first N that neither side has."""
    n = 1
    while True:
        name = f"{rel}{CONFLICT_SUFFIX}{n}"
        taken = False
        for store, prefix in stores:
            try:
                await store.stat(prefix + name)
            except NotFoundError:
                continue
            taken = True
            break
        if not taken:
            return name
        n += 1


async def sync(
    a: Store,
    a_prefix: str,
    b: Store,
    b_prefix: str,
    *,
    keep: Callable[[str], bool] | None,
    copy_options: CopyOptions,
    dry_run: bool = False,
    on_action: Callable[[Action], None] | None = None,
    state_path: Path | None = None,
    files_in_flight: int = 16,
    gate: DeleteGate | None = None,
    resolve: Resolve = "none",
    lock: bool = True,
    on_note: Callable[[str], None] | None = None,
) -> Report:
    """Sync A and B both ways. Raises UsageError for sides that overlap, NotFoundError for a local side that is
    not there, LockHeld when another run holds either side, DeleteRefused (after everything else ran) when the
    gate refused deletes."""
    check_apart((a, a_prefix), (b, b_prefix))
    await require_dir(a, side_label(a, a_prefix))
    await require_dir(b, side_label(b, b_prefix))
    la, lb = side_label(a, a_prefix), side_label(b, b_prefix)
    held = DestinationLock([la, lb], verb="sync", on_note=on_note) if lock and not dry_run else None
    if held is not None:
        held.acquire()
    try:
        swapped = utf8_key(la) > utf8_key(lb)
        name = state_name(lb, la) if swapped else state_name(la, lb)
        legacy_a, legacy_b = f"{a.url}/{a_prefix}", f"{b.url}/{b_prefix}"
        legacy = [
            (state_file(state_name(legacy_a, legacy_b)), False),
            (state_file(state_name(legacy_b, legacy_a)), True),
        ]
        state = SyncState(name, state_path, swapped=swapped, legacy=None if state_path else legacy)
        try:
            return await _sync(
                a,
                a_prefix,
                b,
                b_prefix,
                state=state,
                keep=keep,
                copy_options=copy_options,
                dry_run=dry_run,
                on_action=on_action,
                files_in_flight=files_in_flight,
                gate=gate or DeleteGate(),
                resolve=resolve,
            )
        finally:
            state.close()
    finally:
        if held is not None:
            held.release()


async def _sync(
    a: Store,
    a_prefix: str,
    b: Store,
    b_prefix: str,
    *,
    state: SyncState,
    keep: Callable[[str], bool] | None,
    copy_options: CopyOptions,
    dry_run: bool,
    on_action: Callable[[Action], None] | None,
    files_in_flight: int,
    gate: DeleteGate,
    resolve: Resolve,
) -> Report:
    started = time.monotonic()
    report = Report(dry_run=dry_run)
    comparer = Comparer(a, a_prefix, b, b_prefix, checksum=False)
    content: Comparer | None = None  # with checksums: whether a conflict has cleared
    known = state.count()
    listed = {"a": 0, "b": 0}
    #: sides whose listing failed part way: a key absent there proves nothing
    blind: set[str] = set()
    #: per side: (rel, last state) of what to delete there, because it was deleted on the other side
    deletes: dict[str, list[tuple[str, tuple[Sig, Sig]]]] = {"a": [], "b": []}
    sides = {"a": (a, a_prefix), "b": (b, b_prefix)}

    def emit(action: Action) -> None:
        if on_action is not None:
            on_action(action)

    async def transfer(src_side: str, src_key: str, dst_key: str) -> tuple[Sig, Sig]:
        """Copy one object across; (signature at A, signature at B) of the two copies afterwards."""
        (src, sp), (dst, dp) = sides[src_side], sides["b" if src_side == "a" else "a"]
        info = await src.stat(sp + src_key)
        await copy_object(src, sp + src_key, dst, dp + dst_key, info=info, options=copy_options)
        landed = await dst.stat(dp + dst_key)
        report.bytes += info.size
        s = signature(Entry(src_key, info.size, info.last_modified, info.etag))
        d = signature(Entry(dst_key, landed.size, landed.last_modified, landed.etag))
        return (s, d) if src_side == "a" else (d, s)

    async def copy(row: Row, direction: str, op: str, reason: str) -> None:
        try:
            entry = row.a if direction == "a->b" else row.b
            assert entry is not None
            if not dry_run:
                sa, sb = await transfer("a" if direction == "a->b" else "b", row.rel, row.rel)
                # the source side as listed (its listing is what the next run compares with)
                listed_sig = signature(entry)
                state.remember(row.rel, *((listed_sig, sb) if direction == "a->b" else (sa, listed_sig)))
            emit(Action("+" if op == "+" else "*", row.rel, entry.size or 0, f"{reason}, {direction}"))
            if op == "+":
                report.new += 1
            else:
                report.changed += 1
        except CloudpaneError as exc:
            report.fail(row.rel, exc, emit)
            if row.last is not None:
                state.remember(row.rel, *row.last)

    async def keep_both(row: Row, winner: str) -> None:
        """The winner's copy keeps the name on both sides; the loser's goes beside it as ``rel.conflictN``."""
        try:
            loser = "b" if winner == "a" else "a"
            entry = row.a if winner == "a" else row.b
            assert entry is not None
            aside = await _free_name(row.rel, [sides["a"], sides["b"]])
            if not dry_run:
                # first the loser's copy to the winner's side under the new name, so it exists somewhere twice
                # before its original is overwritten; then the winner over the loser; then the renamed copy back
                await transfer(loser, row.rel, aside)
                sa, sb = await transfer(winner, row.rel, row.rel)
                listed_sig = signature(entry)  # the winner as listed (what the next run compares with)
                state.remember(row.rel, *((listed_sig, sb) if winner == "a" else (sa, listed_sig)))
                ca, cb = await transfer(winner, aside, aside)
                state.remember(aside, ca, cb)
            direction = f"{winner}->{loser}"
            emit(Action("*", row.rel, entry.size or 0, f"conflict, newer kept, {direction}"))
            emit(Action("+", aside, 0, f"conflict, the older copy of {display_text(row.rel)} kept, both sides"))
            report.changed += 1
            report.new += 1
        except CloudpaneError as exc:
            report.fail(row.rel, exc, emit)
            if row.last is not None:
                state.remember(row.rel, *row.last)

    pool = TaskPool(files_in_flight)

    async def start(row: Row, direction: str, op: str, reason: str) -> None:
        await pool.submit(copy(row, direction, op, reason), label=row.rel)

    async def start_keep_both(row: Row, winner: str) -> None:
        await pool.submit(keep_both(row, winner), label=row.rel)

    async def conflict(row: Row, last: tuple[Sig, Sig], sa: Sig, sb: Sig) -> None:
        nonlocal content
        if content is None:
            content = Comparer(a, a_prefix, b, b_prefix, checksum=True)
        assert row.a is not None and row.b is not None
        try:
            differs = await content.differs(Pair(row.rel, row.a, row.b))
            newer_a = differs is not None and resolve != "none" and await _newer(comparer, row)
        except (CloudpaneError, OSError, sqlite3.Error) as exc:
            report.fail(row.rel, exc, emit)
            state.remember(row.rel, *last)
            return
        if differs is None:  # both sides hold the same content again: in sync
            state.remember(row.rel, sa, sb)
            report.same += 1
            emit(Action("=", row.rel, row.a.size or 0, "changed on both sides, now equal"))
            return
        if resolve == "none":
            report.conflicts += 1
            report.errors.append(f"conflict: {row.rel} changed on both sides since the last sync")
            emit(Action("!", row.rel, 0, "conflict: changed on both sides; left alone (see --resolve)"))
            state.remember(row.rel, *last)
            return
        if resolve == "keep-both":
            await start_keep_both(row, "a" if newer_a else "b")
            return
        winner = {"a": "a", "b": "b", "newer": "a" if newer_a else "b", "older": "b" if newer_a else "a"}[resolve]
        await start(row, "a->b" if winner == "a" else "b->a", "*", f"conflict, {resolve} wins")

    try:
        async with pool:
            march = march3(entries(a, a_prefix, keep), entries(b, b_prefix, keep), _state_stream(state))
            async for row in march:
                if row.error is not None:
                    report.listing_failed(row.error)
                    blind.add(row.error_side)
                    continue
                if row.a is not None:
                    listed["a"] += 1
                if row.b is not None:
                    listed["b"] += 1
                sa = signature(row.a) if row.a else None
                sb = signature(row.b) if row.b else None
                last = row.last
                absent = "a" if row.a is None else "b" if row.b is None else ""
                if absent and absent in blind:
                    # that side's listing failed: a key missing there may be there; decide on the next run
                    report.skipped += 1
                    if last is not None:
                        state.remember(row.rel, *last)
                    continue
                if row.a and row.b:
                    assert sa is not None and sb is not None
                    if last is None:
                        # first meeting: equal by size and modification time (rclone's mtime metadata where the
                        # listing cannot tell), as a backup decides; otherwise the newer side wins
                        try:
                            reason = await comparer.differs(Pair(row.rel, row.a, row.b))
                            newer_a = reason is not None and await _newer(comparer, row)
                        except CloudpaneError as exc:
                            report.fail(row.rel, exc, emit)
                            continue
                        if reason is None:
                            state.remember(row.rel, sa, sb)
                            report.same += 1
                        elif newer_a:
                            await start(row, "a->b", "*", "newer")
                        else:
                            await start(row, "b->a", "*", "newer")
                        continue
                    changed_a, changed_b = sa != last[0], sb != last[1]
                    if changed_a and changed_b:
                        await conflict(row, last, sa, sb)
                    elif changed_a:
                        await start(row, "a->b", "*", "changed")
                    elif changed_b:
                        await start(row, "b->a", "*", "changed")
                    else:
                        state.remember(row.rel, sa, sb)
                        report.same += 1
                elif row.a or row.b:
                    side = "a" if row.a else "b"
                    sig = sa if row.a else sb
                    if last is not None and sig == (last[0] if side == "a" else last[1]):
                        deletes[side].append((row.rel, last))  # deleted on the other side, unchanged here
                    else:
                        await start(row, "a->b" if side == "a" else "b->a", "+", "new" if last is None else "changed")
                # else: gone from both sides: forget it
        for rel, error in pool.failures:
            report.fail(rel, error, emit)  # escaped a copy: one failed item, and no deletes after it
        for side in ("a", "b"):
            other = "b" if side == "a" else "a"
            batch = deletes[side]
            verdict = gate.verdict(
                pending=len(batch),
                errors=report.failed,
                listed=listed[other],
                known=known,
                noun=f"file(s) from {side.upper()} ({display_text(side_label(*sides[side]))})",
                where="that the last sync knew",
                empty=f"{other.upper()} ({display_text(side_label(*sides[other]))}) is empty "
                "(a wrong path, an unmounted disk, or emptied by another client?)",
            )
            if not report.apply(verdict, len(batch)):
                for rel, was in batch:  # keep what was not deleted, so the next run still knows
                    state.remember(rel, *was)
                continue
            store, prefix = sides[side]
            for rel, was in batch:
                try:
                    if not dry_run:
                        await store.delete(prefix + rel)
                except CloudpaneError as exc:
                    report.failed += 1
                    report.errors.append(one_line(exc))
                    state.remember(rel, *was)
                    continue
                report.deleted += 1
                emit(Action("-", rel, 0, f"deleted on the other side, removed from {side.upper()}"))
        if not dry_run:
            state.commit()
    finally:
        comparer.close()
        if content is not None:
            content.close()
        report.seconds = time.monotonic() - started
    if report.refusals:
        raise DeleteRefused(report.refusals, report)
    return report
