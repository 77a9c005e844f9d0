"""The one bounded task pool that cp, mv, backup, restore, sync and the TUI submit their transfers to.

::

    async with TaskPool(16) as pool:
        for item in items:
            await pool.submit(copy(item), label=item.src_label)   # waits for a free slot: memory stays bounded
    # here every task has finished; pool.failures lists what escaped a task (never dropped)

- At most ``limit`` tasks run at once; ``submit`` waits for a slot, so a producer (a listing, a march) never runs
  ahead of the transfers by more than ``limit`` items.
- Leaving the block normally waits for every task. Leaving it by an error or a cancellation (Ctrl-C, the TUI's
  quit) cancels every task still running and awaits each of them, so that nothing runs on after its owner (a
  journaled upload is released by its own task's cleanup before the journal closes).
- One task cancelled on its own (the TUI's ``x`` on a transfer) does not stop the others; it is counted in
  ``cancelled``.
- Tasks are expected to report their own failures (to an ``Outcome`` or a backup ``Report``). Whatever escapes a
  task anyway is recorded in ``failures`` with the task's label, never swallowed: the caller counts them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any


class TaskPool:
    """A bounded set of tasks, owned by one ``async with`` block. Not reusable after the block."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._slots = asyncio.Semaphore(self.limit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        #: (label, exception) of every exception that escaped a task (not a cancellation)
        self.failures: list[tuple[str, BaseException]] = []
        #: tasks that ended cancelled (on their own, or by the pool on the way out)
        self.cancelled = 0
        #: tasks that ran to the end (successfully or with a failure in ``failures``)
        self.finished = 0

    @property
    def running(self) -> int:
        """Tasks submitted and not finished yet."""
        return len(self._tasks)

    async def __aenter__(self) -> TaskPool:
        return self

    async def submit(self, coro: Coroutine[Any, Any, object], *, label: str = "") -> asyncio.Task[None]:
        """Start ``coro`` as a task once a slot is free (waits for one). ``label`` names it in ``failures``."""
        if self._closed:
            coro.close()
            raise RuntimeError("this task pool is closed")
        try:
            await self._slots.acquire()
        except BaseException:
            coro.close()  # never started: no "coroutine was never awaited"
            raise
        task = asyncio.create_task(self._run(coro, label))
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._slots.release()
            if t.cancelled():
                self.cancelled += 1
                coro.close()  # a task cancelled before it started never ran its coroutine

        task.add_done_callback(done)
        return task

    async def _run(self, coro: Coroutine[Any, Any, object], label: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - counted in failures: the caller reports every one
            self.failures.append((label, exc))
        self.finished += 1

    async def join(self) -> None:
        """Wait until every task submitted so far has finished (a cancelled task counts as finished)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def cancel_all(self) -> None:
        """Cancel every running task and wait until each has stopped."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed = True
        try:
            if exc_type is None:
                await self.join()
        finally:
            # an error or a cancellation (of the block, or of join itself): nothing may run on after the owner
            while self._tasks:
                await self.cancel_all()
