"""Our own retry loop: jittered exponential backoff on throttling, 5xx, resets, timeouts and truncated bodies.

botocore's retry quota runs dry under a storm and it never retries a body that breaks mid-read, so every request
and every part of a transfer goes through ``retrying``. Which errors are worth another try is decided in one place,
the error tree (``CloudpaneError.retryable``; stores translate their failures into it).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tui.errors import CloudpaneError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 10
    base: float = 0.2
    cap: float = 10.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: a random wait up to ``base * 2**attempt`` (capped)."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return (rng or random).uniform(0, ceiling)


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, CloudpaneError) and exc.retryable


async def retrying(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy | None = None,
    on_retry: Callable[[int, BaseException], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``fn`` until it succeeds, a non-retryable error happens, or the attempts run out (the last error is
    raised). ``on_retry(attempt, error)`` runs before each new try (to rewind progress, say)."""
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        try:
            return await fn()
        except CloudpaneError as exc:
            attempt += 1
            if not exc.retryable or attempt >= policy.attempts:
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            await sleep(policy.delay(attempt))
