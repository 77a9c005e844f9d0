"""Transfer statistics the CLI progress bar and the TUI poll: bytes done, speed over a window, ETA.

The clock is injectable so ETA and speed are testable without sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Stats:
    clock: Callable[[], float] = time.monotonic
    window: float = 3.0
    total: int = 0
    done: int = 0
    files_total: int = 0
    files_done: int = 0
    files_failed: int = 0
    files_skipped: int = 0
    _samples: deque[tuple[float, int]] = field(default_factory=deque)
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def add(self, n: int) -> None:
        """Bytes moved (negative when a retry takes back what it had counted)."""
        self.done = max(0, self.done + n)

    def sample(self) -> None:
        now = self.clock()
        self._samples.append((now, self.done))
        while self._samples and now - self._samples[0][0] > self.window:
            self._samples.popleft()

    @property
    def speed(self) -> float:
        """Bytes per second over the last ``window`` seconds (0 until two samples exist)."""
        if len(self._samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return max(0.0, (b1 - b0) / (t1 - t0)) if t1 > t0 else 0.0

    @property
    def eta(self) -> float | None:
        speed = self.speed
        remaining = self.total - self.done
        if speed <= 0 or remaining <= 0:
            return None
        return remaining / speed

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0
