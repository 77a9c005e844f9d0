"""The command line's progress display, the way ``rclone -P`` shows it: a total bar (bytes, speed, ETA, files) and
one line per file in flight, drawn with rich.progress on stderr when stderr is a terminal.

Byte counts arrive per chunk from the engine (the ``Tracker`` callback) and only add to plain integers; the display
polls them a few times a second (DESIGN: counters are polled, never pushed). rich is imported here, and this module
only when a display is drawn: ``cloudpane --help`` and a cron job never load it.

While the display is up, what the command prints (result lines when stdout is a terminal too, errors) goes through
:meth:`TransferProgress.echo`, above the display, so a line is never printed over the bar; at the end the display is
cleared (``transient``) before the summary line. (rich's own redirection of sys.stdout is not used: click writes to
the binary buffer under it, past the proxy.)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.text import display_text

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from tui.storage.base import PutResult
    from tui.transfer.plan import Item

#: file lines shown at most (the rest are counted in one "and N more" line)
MAX_FILE_LINES = 8
#: seconds between two draws
INTERVAL = 0.25
#: label widths (characters) before they are shortened in the middle
LABEL_WIDTH = 40


def _short(label: str, width: int = LABEL_WIDTH) -> str:
    text = display_text(label)
    if len(text) <= width:
        return text
    half = (width - 1) // 2
    return f"{text[:half]}…{text[-(width - 1 - half) :]}"


@dataclass
class _Running:
    label: str
    size: int
    done: int = 0
    task: TaskID | None = None


class TransferProgress:
    """A ``tui.transfer.plan.Tracker`` that draws a total bar and a line per running file on stderr."""

    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.files_total = 0
        self.files_done = 0
        self.files_failed = 0
        self.files_skipped = 0
        self._sizes_known: set[int] = set()
        self._running: dict[int, _Running] = {}
        self._progress: Progress | None = None
        self._total_task: TaskID | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._last_draw = 0.0

    # -- Tracker hooks (called by the engine) ---------------------------------------------------------------
    def queued(self, item: Item) -> None:
        self.files_total += 1
        info = item.info
        if info is not None and info.size is not None:
            self.total += info.size
            self._sizes_known.add(id(item))

    def started(self, item: Item, size: int) -> Callable[[int], None]:
        if id(item) not in self._sizes_known:
            self.total += size
            self._sizes_known.add(id(item))
        running = _Running(item.src_label, size)
        self._running[id(item)] = running

        def add(n: int) -> None:
            running.done = max(0, running.done + n)
            self.done = max(0, self.done + n)

        if time.monotonic() - self._last_draw > INTERVAL:
            self.draw()  # a file that starts is shown at once (not only at the next tick)
        return add

    def finished(self, item: Item, result: PutResult | None, error: BaseException | None) -> None:
        if error is not None:
            self.files_failed += 1
        elif result is None:
            self.files_skipped += 1
        else:
            self.files_done += 1
        running = self._running.pop(id(item), None)
        if running is not None and self._progress is not None and running.task is not None:
            self._progress.remove_task(running.task)

    # -- the display ----------------------------------------------------------------------------------------
    def start(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[files]}", markup=False),
            console=Console(stderr=True, highlight=False),
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()
        self._total_task = self._progress.add_task("Total", total=None, files="")
        self._loop_task = asyncio.create_task(self._loop())

    @property
    def active(self) -> bool:
        return self._progress is not None

    def echo(self, line: str) -> None:
        """Print one line above the display (the display is drawn again below it). Not markup: plain text."""
        progress = self._progress
        if progress is None:
            sys.stderr.write(line + "\n")
            return
        from rich.text import Text

        progress.console.print(Text(line), soft_wrap=True)

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._progress is not None:
            self.draw()
            self._progress.stop()  # transient: the display is erased, the summary line follows
            self._progress = None

    async def _loop(self) -> None:
        while True:
            self.draw()
            await asyncio.sleep(INTERVAL)

    def draw(self) -> None:
        progress = self._progress
        if progress is None or self._total_task is None:
            return
        self._last_draw = time.monotonic()
        files = f"files {self.files_done}/{self.files_total}"
        hidden = len(self._running) - MAX_FILE_LINES
        if hidden > 0:
            files += f", {hidden} more in flight"
        if self.files_failed:
            files += f", {self.files_failed} failed"
        if self.files_skipped:
            files += f", {self.files_skipped} skipped"
        progress.update(self._total_task, total=max(self.total, self.done) or None, completed=self.done, files=files)
        shown = list(self._running.values())[:MAX_FILE_LINES]
        for running in shown:
            if running.task is None:
                running.task = progress.add_task(_short(running.label), total=running.size or None, files="")
            progress.update(running.task, completed=running.done)
        for running in list(self._running.values())[MAX_FILE_LINES:]:
            if running.task is not None:  # scrolled out: a newer file took its place
                progress.remove_task(running.task)
                running.task = None
        progress.refresh()
