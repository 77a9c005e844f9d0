"""Our own retry loop: jittered exponential backoff on throttling, 5xx, resets, timeouts and truncated bodies.

botocore's retry quota runs dry under a storm and it never retries a body that breaks mid-read, so every request
and every part of a transfer goes through ``retrying``. Which errors are worth another try is decided in one place,
the error tree (``CloudpaneError.retryable``; stores translate their failures into it).

The wait before a new try is full jitter over an exponential ceiling, never less than ``floor`` (100 ms: a jitter
of 0 would hammer a server that just said SlowDown), and at least what the server asked for in ``Retry-After``
(``TransientError.retry_after``; at most ``max_retry_after``). Every retry is counted in the policy's
``RetryCounter`` when it has one, for the summary line of cp and mv.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tui.errors import CloudpaneError, TransientError

T = TypeVar("T")


class RetryCounter:
    """How many retries a batch made (shared by every request of a cp or mv; one event loop, no lock needed)."""

    def __init__(self) -> None:
        self.count = 0

    def add(self) -> None:
        self.count += 1


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 10
    base: float = 0.2
    cap: float = 10.0
    #: no retry sooner than this (seconds)
    floor: float = 0.1
    #: a server's Retry-After is honoured up to this many seconds
    max_retry_after: float = 60.0
    #: counts the retries made under this policy (None: not counted)
    counter: RetryCounter | None = None

    def delay(self, attempt: int, rng: random.Random | None = None, *, retry_after: float | None = None) -> float:
        """Full jitter: a random wait up to ``base * 2**attempt`` (capped), at least ``floor``, and at least the
        server's ``retry_after`` (itself capped at ``max_retry_after``)."""
        ceiling = min(self.cap, self.base * (2**attempt))
        wait = max(self.floor, (rng or random).uniform(0, ceiling))
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, CloudpaneError) and exc.retryable


async def retrying(
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy | None = None,
    on_retry: Callable[[int, BaseException], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
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
            if policy.counter is not None:
                policy.counter.add()
            retry_after = exc.retry_after if isinstance(exc, TransientError) else None
            await sleep(policy.delay(attempt, rng, retry_after=retry_after))
