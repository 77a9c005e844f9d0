"""Durations (``30m``, ``7d``) and points in time (ISO 8601 or an age) as users type them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tui.errors import UsageError
from tui.safety import display_text

_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90``, ``30m``, ``12h``, ``7d``, ``1w`` -> timedelta; combined forms like ``1h30m`` too."""
    total = 0
    rest = text.strip().lower()
    if not rest:
        raise UsageError("empty duration")
    for number, unit in re.findall(r"(\d+)\s*([smhdw]?)", rest):
        total += int(number) * _DURATION_UNITS[unit]
    if not re.fullmatch(r"(\s*\d+\s*[smhdw]?)+\s*", rest):
        raise UsageError(f"not a duration: {display_text(text)} (use e.g. 3600, 30m, 12h, 7d)")
    return timedelta(seconds=total)


def parse_time(text: str) -> datetime:
    """ISO 8601 (``2026-11-01``, ``2026-11-01T12:00:00Z``; UTC when no zone is given) or an age (``3d`` ago)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            return datetime.now(UTC) - parse_duration(text)
        except UsageError:
            raise UsageError(f"not a time: {display_text(text)} (use 2026-11-01T12:00:00Z or an age like 3d)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
