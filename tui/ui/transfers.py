"""The transfer queue as the UI sees it, and the panel (t) that shows it.

The engine reports state changes through the ``Tracker`` hooks and what a started item is doing besides moving
bytes through ``PhaseTracker.phase`` (hashing, verifying, completing, retrying); byte counters are plain integers
the panel polls a few times a second (never a message per chunk).

The panel draws one line per transfer and only the lines in view (a folder of 100,000 files is 100,000 rows): the
selected row stays in view, every running file has its own bar, and finished rows can be cleared (C) or removed one
by one (Delete).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import humanize
from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Label, ProgressBar, Static

from tui.errors import CloudpaneError, one_line
from tui.safety import display_text
from tui.storage.base import PutResult
from tui.transfer.copy import CopyOptions, Phase
from tui.transfer.journal import Journal
from tui.transfer.plan import Item, run_item
from tui.ui.resume import Busy, abort_upload, rows_for


def cut_left(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, shortened from the left with "…" so that its end (a file name) stays."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    out: list[str] = []
    used = 1
    for ch in reversed(text):
        w = cell_len(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "…" + "".join(reversed(out))


def _tail(label: str, width: int = 52) -> str:
    """Escaped, and shortened from the left so that the file name stays visible."""
    return cut_left(display_text(label), width)


State = Literal["queued", "running", "done", "failed", "cancelled", "skipped"]
#: the states of a transfer that has ended (what C clears: the successful ones; Delete removes any of them)
FINISHED: frozenset[State] = frozenset({"done", "failed", "cancelled", "skipped"})
#: what C (clear) removes: the finished rows that need nothing more (failed and cancelled ones can be retried)
CLEARED: frozenset[State] = frozenset({"done", "skipped"})
STATE_WIDTH = 13
PROGRESS_WIDTH = 16
BAR_WIDTH = 10
#: speed over the last few seconds
SPEED_WINDOW = 3.0

_STYLES = {
    "done": "green",
    "failed": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "hashing": "magenta",
    "verifying": "magenta",
    "completing": "yellow",
    "retrying": "bold yellow",
}


def _size(n: float) -> str:
    return humanize.naturalsize(n, binary=True)


@dataclass(eq=False)
class Transfer:
    item: Item
    size: int = 0
    done: int = 0
    state: State = "queued"
    error: str = ""
    result: PutResult | None = None
    task: asyncio.Task[object] | None = None
    started_at: float = field(default_factory=time.monotonic)
    #: what the running copy is doing besides moving bytes (None: moving bytes)
    phase: Phase | None = None
    #: retries of the current run so far
    retries: int = 0
    #: the most bytes counted so far in this run; ``retrying`` shows until the copy gets past ``_mark`` (what it
    #: had counted when it had to retry): a retry rewinds the count, the bytes sent again are not progress
    high: int = 0
    _mark: int = 0
    #: (time, bytes done) of the last seconds, for this file's speed (sampled by the panel)
    samples: list[tuple[float, int]] = field(default_factory=list)

    def shown_state(self) -> str:
        """The state as the panel shows it: ``running``, or what the running copy is doing (``completing``,
        ``verifying``, ``hashing``, ``retrying (n)``), or how it ended."""
        if self.state != "running" or self.phase is None:
            return self.state
        if self.phase == "retrying":
            return f"retrying ({self.retries})"
        return self.phase

    def speed(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 - t0 > 0.2 else 0.0

    def line(self) -> Text:
        """Everything about this transfer in a few lines (for a text export of the panel)."""
        text = Text()
        shown = self.shown_state()
        text.append(f"{shown:<9} ", style=_STYLES.get(self.phase or self.state, "dim"))
        text.append(f"{_tail(self.item.src_label)} → {_tail(self.item.dst_label)}")
        if self.state == "running" and self.size:
            text.append(f"  {100 * self.done // self.size}%", style="cyan")
        detail = self.detail()
        if detail.plain:
            text.append("\n          ")
            text.append_text(detail)
        return text

    def detail(self) -> Text:
        """The third line of the panel's details for this transfer: the result, the error, or how it goes."""
        if self.state == "done" and self.result and (self.result.etag or self.result.version_id):
            extra = f"ETag {self.result.etag or '-'}"
            if self.result.version_id:
                extra += f"  VersionId {self.result.version_id}"
            return Text(display_text(extra), style="dim")
        if self.error:
            return Text(self.error, style="red")
        if self.state == "running":
            parts = [f"{_size(self.done)} of {_size(self.size)}", f"{_size(self.speed())}/s"]
            if self.retries:
                parts.append(f"{self.retries} retr{'y' if self.retries == 1 else 'ies'}")
            return Text(" · ".join(parts), style="dim")
        if self.state == "skipped":
            return Text("skipped: the destination is there (the conflict choice kept it)", style="dim")
        return Text()


def _bar(fraction: float, style: str) -> Text:
    filled = max(0, min(BAR_WIDTH, round(fraction * BAR_WIDTH)))
    bar = Text("━" * filled, style=style)
    bar.append("━" * (BAR_WIDTH - filled), style="bright_black")
    return bar


def row_text(t: Transfer, width: int) -> Text:
    """One row of the list: state, a bar and percentage (running) or the size, then source → destination, each
    shortened from the left to what the width leaves."""
    text = Text(no_wrap=True, overflow="crop")
    shown = t.shown_state()
    style = _STYLES.get(t.phase or t.state, "dim") if t.state == "running" else _STYLES.get(t.state, "dim")
    text.append(f"{shown:<{STATE_WIDTH}} "[: STATE_WIDTH + 1], style=style)
    if t.state == "running":
        fraction = t.done / t.size if t.size else (1.0 if t.phase in ("verifying", "completing") else 0.0)
        text.append_text(_bar(fraction, style))
        text.append(f" {int(100 * fraction):>3}% ", style=style)
    elif t.state in ("done", "skipped") and t.size:
        text.append(f"{_size(t.size):>{PROGRESS_WIDTH - 1}} ", style="dim")
    else:
        text.append(" " * PROGRESS_WIDTH)
    room = max(0, width - STATE_WIDTH - 1 - PROGRESS_WIDTH)
    src, dst = display_text(t.item.src_label), display_text(t.item.dst_label)
    arrow = " → "
    src_name, dst_name = src.rsplit("/", 1)[-1], dst.rsplit("/", 1)[-1]
    if cell_len(src) + len(arrow) + cell_len(dst) > room and src_name and src_name == dst_name:
        # the same name both sides: say it once, and where it goes (the whole paths are in the details)
        src, dst = src_name, dst[: len(dst) - len(dst_name)]
    if cell_len(src) + len(arrow) + cell_len(dst) > room:
        half = max(0, (room - len(arrow)) // 2)
        if cell_len(src) <= half:
            dst = cut_left(dst, room - len(arrow) - cell_len(src))
        elif cell_len(dst) <= half:
            src = cut_left(src, room - len(arrow) - cell_len(dst))
        else:
            src = cut_left(src, half)
            dst = cut_left(dst, room - len(arrow) - cell_len(src))
    text.append(src)
    text.append(arrow, style="dim")
    text.append(dst)
    return text


class TransferQueue:
    """The app's transfers, fed by the engine's Tracker (and PhaseTracker) hooks."""

    def __init__(self, options: Callable[[], CopyOptions]) -> None:
        self.items: list[Transfer] = []
        self._by_item: dict[int, Transfer] = {}
        self._options = options
        self.on_change: Callable[[], None] | None = None
        #: the resume journal the copies write to: a cancelled upload must be aborted through it (the engine
        #: keeps a journaled upload on cancellation, for resume)
        self.journal: Journal | None = None

    # -- Tracker -------------------------------------------------------------------------------------------
    def queued(self, item: Item) -> None:
        t = Transfer(item)
        self.items.append(t)
        self._by_item[id(item)] = t
        self._changed()

    def started(self, item: Item, size: int) -> Callable[[int], None]:
        t = self._by_item[id(item)]
        t.size, t.done, t.state, t.error = size, 0, "running", ""
        t.phase, t.retries, t.high, t._mark, t.samples = None, 0, 0, 0, []
        t.task = asyncio.current_task()
        t.started_at = time.monotonic()
        self._changed()

        def progress(n: int) -> None:
            t.done = max(0, min(t.size, t.done + n))
            if t.done > t.high:
                t.high = t.done
                if t.phase in ("retrying", "hashing") and t.done > t._mark:
                    t.phase = None  # bytes flow again (past where it was when it retried): running

        return progress

    def phase(self, item: Item, phase: Phase, count: int) -> None:
        t = self._by_item.get(id(item))
        if t is None:
            return
        t.phase = phase
        t._mark = t.high
        if phase == "retrying":
            t.retries = count
        self._changed()

    def finished(self, item: Item, result: PutResult | None, error: BaseException | None) -> None:
        t = self._by_item[id(item)]
        t.task = None
        t.phase = None
        if isinstance(error, asyncio.CancelledError):
            t.state, t.error = "cancelled", ""
        elif error is not None:
            t.state, t.error = "failed", one_line(error)
        elif result is None:
            t.state = "skipped"
        else:
            t.state, t.result, t.done = "done", result, t.size
        self._changed()

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()

    # -- totals and actions --------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.items:
            out[t.state] = out.get(t.state, 0) + 1
        return out

    def totals(self) -> tuple[int, int]:
        active = [t for t in self.items if t.state in ("running", "done", "queued")]
        return sum(t.done for t in active), sum(t.size for t in active)

    def busy(self) -> Busy:
        counts = self.counts()
        return Busy(running=counts.get("running", 0), queued=counts.get("queued", 0))

    def clear(self, states: frozenset[State] = CLEARED) -> int:
        """Forget the rows in these states (only finished states are ever removed); returns how many went."""
        states = states & FINISHED
        keep = [t for t in self.items if t.state not in states]
        gone = len(self.items) - len(keep)
        for t in self.items:
            if t.state in states:
                self._by_item.pop(id(t.item), None)
        self.items[:] = keep
        if gone:
            self._changed()
        return gone

    def remove(self, t: Transfer) -> bool:
        """Forget one finished row; a queued or running one stays (cancel it first)."""
        if t.state not in FINISHED or t not in self.items:
            return False
        self.items.remove(t)
        self._by_item.pop(id(t.item), None)
        self._changed()
        return True

    def cancel(self, t: Transfer) -> bool:
        if t.task is not None and not t.task.done():
            t.task.cancel()
            return True
        return False

    async def stop(self, transfers: list[Transfer]) -> None:
        """Cancel these transfers' tasks and wait until each has stopped (its finished parts are journaled)."""
        tasks = [t.task for t in transfers if t.task is not None and not t.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def discard(self, transfers: list[Transfer]) -> list[tuple[str, str]]:
        """Abort on the server, and forget, the journaled uploads of these (stopped) transfers.
        Returns (what, why) for each upload that could not be aborted."""
        failed: list[tuple[str, str]] = []
        if self.journal is None:
            return failed
        for t in transfers:
            for upload in rows_for(self.journal, t.item):
                try:
                    await abort_upload(t.item.dst, upload, self.journal)
                except CloudpaneError as exc:
                    failed.append((t.item.dst_label, one_line(exc)))
        return failed

    async def cancel_and_discard(self, t: Transfer) -> list[tuple[str, str]]:
        """Cancel one transfer for good: stop it, then abort its upload (nothing left on the server)."""
        await self.stop([t])
        return await self.discard([t])

    async def retry(self, t: Transfer) -> None:
        """Run one failed or cancelled item again, on its own, exactly as its first attempt: the same source
        version, conflict policy and move (``plan.run_item``). The source is stat'ed again (that version)."""
        if t in self.items:
            t.state, t.error = "queued", ""  # not finished while it starts again: C and Delete leave it alone
            self._changed()
        with contextlib.suppress(CloudpaneError, asyncio.CancelledError):  # the tracker hooks record the outcome
            await run_item(t.item, self._options(), tracker=self, fresh=True)


class TransferList(ScrollView, can_focus=False):
    """The rows of the queue, one line each; only the lines in view are drawn."""

    DEFAULT_CSS = """
    TransferList {
        height: 1fr;
        min-height: 3;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    """

    def __init__(self, queue: TransferQueue, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.queue = queue
        self.selected = 0
        #: set by the screen: a click selects the row under the pointer
        self.on_pick: Callable[[int], None] | None = None

    def sync(self) -> None:
        """The rows changed (or their bytes did): size the scroll area and draw the lines in view again."""
        self.virtual_size = Size(self.size.width, len(self.queue.items))
        self.refresh()

    def reveal(self, index: int) -> None:
        """Scroll so that row ``index`` is in view (the least scrolling that does it)."""
        height = self.scrollable_content_region.height or self.size.height
        if height <= 0:
            return
        top = round(self.scroll_offset.y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def visible_rows(self) -> range:
        """The indexes of the rows drawn now."""
        top = round(self.scroll_offset.y)
        height = self.scrollable_content_region.height or self.size.height
        return range(top, min(len(self.queue.items), top + height))

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        items = self.queue.items
        if index >= len(items):
            return Strip.blank(width, base)
        text = row_text(items[index], width)
        if index == self.selected:
            text.stylize("reverse")
        segments = list(text.render(self.app.console))
        strip = Strip(Segment.apply_style(segments, base), text.cell_len)
        return strip.crop_extend(0, width, base if index != self.selected else base + Style(reverse=True))

    def on_click(self, event: events.Click) -> None:
        index = round(self.scroll_offset.y) + event.y
        if self.on_pick is not None and 0 <= index < len(self.queue.items):
            self.on_pick(index)


class TransfersScreen(ModalScreen[None]):
    """Totals, speed and ETA; one row per transfer, a bar on every running one; cancel (x), retry (r) or remove
    (Delete) the selected one, clear the finished ones (C)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,t,q", "close", "Close"),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("x", "cancel_item", "Cancel"),
        Binding("r", "retry_item", "Retry"),
        Binding("delete", "delete_item", "Cancel/remove", key_display="Del"),
        Binding("C", "clear_finished", "Clear done", key_display="C"),
    ]

    DEFAULT_CSS = """
    TransfersScreen #transfer-detail {
        height: 4;
        border-top: solid $panel-lighten-2;
        color: $text;
    }
    """

    def __init__(self, queue: TransferQueue) -> None:
        super().__init__(classes="dialog-screen")
        self.queue = queue
        #: (time, bytes done) samples of the last few seconds, for the speed
        self._samples: list[tuple[float, int]] = []

    @property
    def selected(self) -> int:
        return self.query_one(TransferList).selected if self.is_mounted else 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide tall"):
            yield Label("Transfers", classes="dialog-title")
            yield Static("", id="totals")
            yield ProgressBar(id="total-bar", show_eta=False)
            rows = TransferList(self.queue, id="transfer-list")
            rows.on_pick = self._pick
            yield rows
            yield Static("", id="transfer-detail")
            yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()
        self.set_interval(0.25, self.refresh_view)

    def on_resize(self) -> None:
        self.call_after_refresh(self._follow)

    def _follow(self) -> None:
        rows = self.query_one(TransferList)
        rows.sync()
        rows.reveal(rows.selected)

    def refresh_view(self) -> None:
        q = self.queue
        done, total = q.totals()
        counts = q.counts()
        now = time.monotonic()
        self._samples = [(t, b) for t, b in self._samples if now - t <= SPEED_WINDOW] + [(now, done)]
        t0, b0 = self._samples[0]
        speed = (done - b0) / (now - t0) if now - t0 > 0.2 else 0.0
        remaining = max(0, total - done)
        active = counts.get("running", 0) + counts.get("queued", 0)
        rate = f"{_size(speed)}/s" if active else "idle"
        eta = humanize.naturaldelta(remaining / speed) if active and speed > 1 and remaining else "-"
        summary = f"{_size(done)} of {_size(total)} · {rate} · ETA {eta} · " + " · ".join(
            f"{n} {state}" for state, n in sorted(counts.items())
        )
        self.query_one("#totals", Static).update(Text(summary if q.items else "no transfers"))
        self.query_one("#total-bar", ProgressBar).update(total=max(total, 1), progress=done)
        for t in q.items:
            if t.state == "running":
                t.samples = [(s, b) for s, b in t.samples if now - s <= SPEED_WINDOW] + [(now, t.done)]
        rows = self.query_one(TransferList)
        if rows.selected >= len(q.items):
            rows.selected = max(0, len(q.items) - 1)
        rows.sync()
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#transfer-detail", Static)
        t = self._current()
        if t is None:
            detail.update(Text("nothing queued", style="dim"))
            return
        width = max(10, (detail.content_region.width or 70) - 6)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("from  ", style="bold")
        text.append(cut_left(display_text(t.item.src_label), width))
        text.append("\nto    ", style="bold")
        text.append(cut_left(display_text(t.item.dst_label), width))
        text.append("\n      ")
        text.append_text(t.detail())
        detail.update(text)

    def text(self) -> str:
        """The panel's rows as plain text, with each row's details (what a test or a screen reader reads)."""
        if not self.queue.items:
            return "nothing queued"
        return "\n".join(t.line().plain for t in self.queue.items)

    def shown_rows(self) -> list[str]:
        """The rows drawn now, as plain text (what is in view)."""
        rows = self.query_one(TransferList)
        width = rows.scrollable_content_region.width or rows.size.width
        return [row_text(self.queue.items[i], width).plain for i in rows.visible_rows()]

    def _select(self, index: int) -> None:
        rows = self.query_one(TransferList)
        if not self.queue.items:
            return
        rows.selected = max(0, min(len(self.queue.items) - 1, index))
        rows.sync()
        rows.reveal(rows.selected)
        self._show_detail()

    def _pick(self, index: int) -> None:
        self._select(index)

    def action_move(self, delta: int) -> None:
        self._select(self.selected + delta)

    def action_page(self, direction: int) -> None:
        rows = self.query_one(TransferList)
        height = max(1, (rows.scrollable_content_region.height or rows.size.height) - 1)
        self._select(self.selected + direction * height)

    def action_edge(self, end: int) -> None:
        self._select(len(self.queue.items) - 1 if end else 0)

    def _current(self) -> Transfer | None:
        items = self.queue.items
        index = self.selected
        return items[index] if 0 <= index < len(items) else None

    def action_cancel_item(self) -> None:
        t = self._current()
        if t is None or t.task is None or t.task.done():
            return
        self.app.notify("Cancelling…", markup=False)

        async def cancel() -> None:
            for what, why in await self.queue.cancel_and_discard(t):
                self.app.notify(f"{_tail(what)}: {why}", title="Abort failed", severity="error", markup=False)

        self.app.run_worker(cancel(), name="cancel transfer", group="cancel", exit_on_error=False)

    def action_delete_item(self) -> None:
        """Delete: cancels a running row, removes a finished one (a queued one waits for its turn: x cancels it once
        it runs)."""
        t = self._current()
        if t is None:
            return
        if t.state in FINISHED:
            index = self.selected
            self.queue.remove(t)
            self._select(min(index, len(self.queue.items) - 1))
            return
        self.action_cancel_item()

    def action_clear_finished(self) -> None:
        """C: forget the rows that are done or skipped; running, queued, failed and cancelled ones stay."""
        current = self._current()
        index = self.selected
        gone = self.queue.clear(CLEARED)
        if not gone:
            self.app.notify("Nothing finished to clear", markup=False)
            return
        items = self.queue.items
        if current is not None and current in items:
            self._select(items.index(current))
        else:
            # the nearest row that stayed at or after where the cursor was, else the last one
            self._select(min(index, len(items) - 1) if items else 0)
        self.refresh_view()
        self.app.notify(f"Cleared {gone} finished row(s)", markup=False)

    def action_retry_item(self) -> None:
        t = self._current()
        if t is None or t.state not in ("failed", "cancelled"):
            self.app.notify("Only failed or cancelled items can be retried", markup=False)
            return
        self.app.run_worker(self.queue.retry(t), name="transfer retry", group="transfers", exit_on_error=False)

    def action_close(self) -> None:
        self.dismiss(None)
