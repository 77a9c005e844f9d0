"""Two-way sync: what changed on one side since the last sync goes to the other; both changed is a conflict.

Three sorted streams are walked in lock step: side A's listing, side B's listing, and the state of the last sync
(sqlite in the XDG state directory, ordered by the key's UTF-8 bytes). Per key:

| A | B | last sync | decision |
|---|---|---|---|
| changed | unchanged | yes | copy A to B (and the reverse) |
| changed | changed | yes | conflict: reported, left alone |
| present | present | no | equal: remember; else the newer side wins |
| present | absent | yes, A unchanged | deleted on B: delete on A (and the reverse) |
| present | absent | yes, A changed, or no | copy A to B (a change beats a delete; nothing is lost) |
| absent | absent | yes | forget |

"Changed" compares the side's (size, modification time, ETag) with what the last sync recorded. Deletes run last
and never after a failed copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tui.config import state_dir
from tui.errors import CloudpaneError, one_line
from tui.storage.base import Entry, Store, utf8_key
from tui.sync.backup import Action, Comparer, Report
from tui.sync.march import Pair, entries
from tui.transfer.copy import CopyOptions, copy_object

Sig = tuple[int, float, str]


def signature(e: Entry) -> Sig:
    when = e.last_modified.timestamp() if e.last_modified else 0.0
    return (e.size or 0, round(when, 3), e.etag or "")


@dataclass(frozen=True, slots=True)
class Row:
    rel: str
    a: Entry | None
    b: Entry | None
    last: tuple[Sig, Sig] | None


class SyncState:
    """The last sync's signatures of both sides, one row per key."""

    def __init__(self, name: str, path: Path | None = None) -> None:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        path = path or state_dir() / "sync" / f"{digest}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS state (rel BLOB PRIMARY KEY, a_size INT, a_time REAL, a_etag TEXT, "
            "b_size INT, b_time REAL, b_etag TEXT)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS next (rel BLOB PRIMARY KEY, a_size INT, a_time REAL, "
                        "a_etag TEXT, b_size INT, b_time REAL, b_etag TEXT)")  # fmt: skip
        self.db.execute("DELETE FROM next")

    def rows(self) -> Iterator[tuple[str, tuple[Sig, Sig]]]:
        cur = self.db.execute("SELECT * FROM state ORDER BY rel")
        for rel, a_size, a_time, a_etag, b_size, b_time, b_etag in cur:
            yield (
                bytes(rel).decode("utf-8", "surrogateescape"),
                ((a_size, a_time, a_etag), (b_size, b_time, b_etag)),
            )

    def remember(self, rel: str, a: Sig, b: Sig) -> None:
        self.db.execute("INSERT OR REPLACE INTO next VALUES (?, ?, ?, ?, ?, ?, ?)", (utf8_key(rel), *a, *b))

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


async def march3(
    a: AsyncIterator[tuple[str, Entry]],
    b: AsyncIterator[tuple[str, Entry]],
    s: AsyncIterator[tuple[str, tuple[Sig, Sig]]],
) -> AsyncIterator[Row]:
    ca, cb, cs = await anext(a, None), await anext(b, None), await anext(s, None)
    while ca is not None or cb is not None or cs is not None:
        low = min(utf8_key(x[0]) for x in (ca, cb, cs) if x is not None)
        rel = low.decode("utf-8", "surrogateescape")
        ea = ca[1] if ca is not None and utf8_key(ca[0]) == low else None
        eb = cb[1] if cb is not None and utf8_key(cb[0]) == low else None
        es = cs[1] if cs is not None and utf8_key(cs[0]) == low else None
        yield Row(rel, ea, eb, es)
        if ea is not None:
            ca = await anext(a, None)
        if eb is not None:
            cb = await anext(b, None)
        if es is not None:
            cs = await anext(s, None)


async def _newer(comparer: Comparer, row: Row) -> bool:
    """Whether A's copy is the newer one (modification times, rclone's metadata first)."""
    assert row.a is not None and row.b is not None
    ta = await comparer._mtime(comparer.src, comparer.src_prefix + row.rel, row.a)
    tb = await comparer._mtime(comparer.dst, comparer.dst_prefix + row.rel, row.b)
    if ta is None or tb is None:
        return ta is not None
    return ta >= tb


async def sync(
    a: Store,
    a_prefix: str,
    b: Store,
    b_prefix: str,
    *,
    name: str,
    keep: Callable[[str], bool] | None,
    copy_options: CopyOptions,
    dry_run: bool = False,
    on_action: Callable[[Action], None] | None = None,
    state_path: Path | None = None,
    files_in_flight: int = 16,
) -> Report:
    started = time.monotonic()
    report = Report(dry_run=dry_run)
    state = SyncState(name, state_path)
    comparer = Comparer(a, a_prefix, b, b_prefix, checksum=False)
    slots = asyncio.Semaphore(files_in_flight)
    tasks: set[asyncio.Task[None]] = set()
    #: (side, rel, last state): what was deleted on the other side since the last sync
    deletes: list[tuple[str, str, tuple[Sig, Sig]]] = []

    def emit(action: Action) -> None:
        if on_action is not None:
            on_action(action)

    async def copy(row: Row, direction: str, op: str, reason: str) -> None:
        try:
            src, sp, dst, dp = (a, a_prefix, b, b_prefix) if direction == "a->b" else (b, b_prefix, a, a_prefix)
            entry = row.a if direction == "a->b" else row.b
            assert entry is not None
            if not dry_run:
                info = await src.stat(sp + row.rel)
                await copy_object(src, sp + row.rel, dst, dp + row.rel, info=info, options=copy_options)
                landed = await dst.stat(dp + row.rel)
                new = Entry(row.rel, landed.size, landed.last_modified, landed.etag)
                sa, sb = (
                    (signature(entry), signature(new)) if direction == "a->b" else (signature(new), signature(entry))
                )
                state.remember(row.rel, sa, sb)
                report.bytes += info.size
            emit(Action("+" if op == "+" else "*", row.rel, entry.size or 0, f"{reason}, {direction}"))
            if op == "+":
                report.new += 1
            else:
                report.changed += 1
        except CloudpaneError as exc:
            report.fail(row.rel, exc, emit)
            if row.last is not None:
                state.remember(row.rel, *row.last)
        finally:
            slots.release()

    async def start(row: Row, direction: str, op: str, reason: str) -> None:
        await slots.acquire()
        task = asyncio.create_task(copy(row, direction, op, reason))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        async for row in march3(entries(a, a_prefix, keep), entries(b, b_prefix, keep), _state_stream(state)):
            sa = signature(row.a) if row.a else None
            sb = signature(row.b) if row.b else None
            last = row.last
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
                    report.conflicts += 1
                    report.errors.append(f"conflict: {row.rel} changed on both sides since the last sync")
                    emit(Action("!", row.rel, 0, "conflict: changed on both sides; left alone"))
                    state.remember(row.rel, *last)
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
                    deletes.append((side, row.rel, last))  # deleted on the other side, unchanged here
                else:
                    await start(row, "a->b" if side == "a" else "b->a", "+", "new" if last is None else "changed")
            # else: gone from both sides: forget it
        while tasks:
            await asyncio.gather(*list(tasks), return_exceptions=True)
        for side, rel, _last in deletes:
            if report.failed:
                report.skipped += 1
                continue
            store, prefix = (a, a_prefix) if side == "a" else (b, b_prefix)
            try:
                if not dry_run:
                    await store.delete(prefix + rel)
            except CloudpaneError as exc:
                report.failed += 1
                report.errors.append(one_line(exc))
                continue
            report.deleted += 1
            emit(Action("-", rel, 0, f"deleted on the other side, removed from {side.upper()}"))
        if report.failed:
            for _side, rel, was in deletes:  # keep what was not deleted, so the next run still knows
                state.remember(rel, *was)
        if not dry_run:
            state.commit()
    finally:
        for task in tasks:
            task.cancel()
        state.close()
        comparer.close()
        report.seconds = time.monotonic() - started
    return report
