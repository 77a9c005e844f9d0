"""rclone-compatible object metadata: ``mtime`` and ``md5chksum`` (so both tools agree on what changed)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

MTIME_KEY = "mtime"
MD5_KEY = "md5chksum"


def format_mtime(ts: float) -> str:
    """rclone writes the mtime as seconds since the epoch with a fraction, e.g. ``1700000000.123456789``."""
    return f"{ts:.9f}".rstrip("0").rstrip(".")


def format_mtime_ns(ns: int) -> str:
    """Exact to the nanosecond, as rclone writes and compares it: ``1700000000.123456789``."""
    seconds, frac = divmod(ns, 1_000_000_000)
    return f"{seconds}.{frac:09d}".rstrip("0").rstrip(".")


def parse_mtime_ns(raw: str) -> int | None:
    """Nanoseconds since the epoch from ``seconds[.fraction]`` without float rounding; None if not that form."""
    text = raw.strip()
    whole, _, frac = text.partition(".")
    if not whole.lstrip("-").isdigit() or (frac and not frac.isdigit()):
        return None
    return int(whole) * 1_000_000_000 + int((frac + "000000000")[:9] or 0) * (1 if not whole.startswith("-") else -1)


def parse_mtime(raw: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def md5_b64_to_hex(b64: str) -> str | None:
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        return None
    return raw.hex() if len(raw) == 16 else None


def md5_hex_to_b64(hexdigest: str) -> str:
    return base64.b64encode(bytes.fromhex(hexdigest)).decode()
