"""The transfer queue as the UI sees it, and the panel (t) that shows it.

The engine reports state changes through the ``Tracker`` hooks; byte counters are plain integers the panel polls
a few times a second (never a message per chunk).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import humanize
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, ProgressBar, Static

from tui.errors import CloudpaneError, one_line
from tui.safety import display_text
from tui.storage.base import PutResult
from tui.transfer.copy import CopyOptions
from tui.transfer.journal import Journal
from tui.transfer.plan import Item, run_item
from tui.ui.resume import Busy, abort_upload, rows_for


def _tail(label: str, width: int = 52) -> str:
    """Escaped, and shortened from the left so that the file name stays visible."""
    text = display_text(label)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


State = Literal["queued", "running", "done", "failed", "cancelled", "skipped"]


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

    def line(self) -> Text:
        text = Text()
        style = {"done": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}.get(self.state, "dim")
        text.append(f"{self.state:<9} ", style=style)
        text.append(f"{_tail(self.item.src_label)} → {_tail(self.item.dst_label)}")
        if self.state == "running" and self.size:
            text.append(f"  {100 * self.done // self.size}%", style="cyan")
        if self.state == "done" and self.result and (self.result.etag or self.result.version_id):
            extra = f"ETag {self.result.etag or '-'}"
            if self.result.version_id:
                extra += f"  VersionId {self.result.version_id}"
            text.append("\n          " + display_text(extra), style="dim")
        if self.error:
            text.append("\n          " + self.error, style="red")
        return text


class TransferQueue:
    """The app's transfers, fed by the engine's Tracker hooks."""

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
        t.task = asyncio.current_task()
        t.started_at = time.monotonic()
        self._changed()

        def progress(n: int) -> None:
            t.done = max(0, min(t.size, t.done + n))

        return progress

    def finished(self, item: Item, result: PutResult | None, error: BaseException | None) -> None:
        t = self._by_item[id(item)]
        t.task = None
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
        with contextlib.suppress(CloudpaneError, asyncio.CancelledError):  # the tracker hooks record the outcome
            await run_item(t.item, self._options(), tracker=self, fresh=True)


class TransfersScreen(ModalScreen[None]):
    """Progress per active file and in total, speed and ETA, counts; cancel (x) and retry (r) the selected item."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,t,q", "close", "Close"),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("x,delete", "cancel_item", "Cancel item"),
        Binding("r", "retry_item", "Retry item"),
    ]

    def __init__(self, queue: TransferQueue) -> None:
        super().__init__(classes="dialog-screen")
        self.queue = queue
        self.selected = 0
        #: (time, bytes done) samples of the last few seconds, for the speed
        self._samples: list[tuple[float, int]] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide tall"):
            yield Label("Transfers", classes="dialog-title")
            yield Static("", id="totals")
            yield ProgressBar(id="total-bar", show_eta=False)
            yield Static("", id="current-label")
            yield ProgressBar(id="current-bar", show_eta=False)
            with VerticalScroll(id="transfer-list"):
                yield Static("", id="items")
            yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()
        self.set_interval(0.25, self.refresh_view)

    def refresh_view(self) -> None:
        q = self.queue
        done, total = q.totals()
        counts = q.counts()
        now = time.monotonic()
        self._samples = [(t, b) for t, b in self._samples if now - t <= 3.0] + [(now, done)]
        t0, b0 = self._samples[0]
        speed = (done - b0) / (now - t0) if now - t0 > 0.2 else 0.0
        remaining = max(0, total - done)
        active = counts.get("running", 0) + counts.get("queued", 0)
        rate = f"{humanize.naturalsize(speed, binary=True)}/s" if active else "idle"
        eta = humanize.naturaldelta(remaining / speed) if active and speed > 1 and remaining else "-"
        summary = (
            f"{humanize.naturalsize(done, binary=True)} of {humanize.naturalsize(total, binary=True)}"
            f" · {rate} · ETA {eta} · " + " · ".join(f"{n} {state}" for state, n in sorted(counts.items()))
        )
        self.query_one("#totals", Static).update(Text(summary or "no transfers yet"))
        self.query_one("#total-bar", ProgressBar).update(total=max(total, 1), progress=done)
        running = [t for t in q.items if t.state == "running"]
        label = self.query_one("#current-label", Static)
        bar = self.query_one("#current-bar", ProgressBar)
        if running:
            cur = running[0]
            label.update(Text(display_text(cur.item.src_label, max_len=100)))
            bar.update(total=max(cur.size, 1), progress=cur.done)
        else:
            label.update(Text("idle", style="dim"))
            bar.update(total=1, progress=0)
        text = Text()
        for i, t in enumerate(q.items):
            line = t.line()
            if i == self.selected:
                line.stylize("reverse")
            text.append_text(line)
            text.append("\n")
        self.query_one("#items", Static).update(text if q.items else Text("nothing queued", style="dim"))

    def action_move(self, delta: int) -> None:
        if self.queue.items:
            self.selected = max(0, min(len(self.queue.items) - 1, self.selected + delta))
            self.refresh_view()

    def _current(self) -> Transfer | None:
        items = self.queue.items
        return items[self.selected] if 0 <= self.selected < len(items) else None

    def action_cancel_item(self) -> None:
        t = self._current()
        if t is None or t.task is None or t.task.done():
            return
        self.app.notify("Cancelling…", markup=False)

        async def cancel() -> None:
            for what, why in await self.queue.cancel_and_discard(t):
                self.app.notify(f"{_tail(what)}: {why}", title="Abort failed", severity="error", markup=False)

        self.app.run_worker(cancel(), name="cancel transfer", group="cancel", exit_on_error=False)

    def action_retry_item(self) -> None:
        t = self._current()
        if t is None or t.state not in ("failed", "cancelled"):
            self.app.notify("Only failed or cancelled items can be retried", markup=False)
            return
        self.app.run_worker(self.queue.retry(t), name="transfer retry", group="transfers", exit_on_error=False)

    def action_close(self) -> None:
        self.dismiss(None)
