"""How an object is cut into parts (one rule for every writer: S3 parts, Azure blocks, pulled blocks), and which
error a failed group of parts reports."""

from __future__ import annotations

import asyncio

MiB = 1024 * 1024


def choose_part_size(size: int, part_size: int, max_parts: int) -> int:
    """The configured part size, grown (in whole MiB) so that ``size`` needs at most ``max_parts`` parts."""
    if size <= part_size * max_parts:
        return part_size
    needed = -(-size // max_parts)
    return -(-needed // MiB) * MiB


def first_failure(eg: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to report from a failed group of parts: a real failure before a cancellation."""
    for exc in eg.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_failure(exc)
        if not isinstance(exc, asyncio.CancelledError):
            return exc
    return eg.exceptions[0]
