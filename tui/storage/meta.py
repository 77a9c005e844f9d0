"""rclone-compatible object metadata: ``mtime`` and ``md5chksum`` (so both tools agree on what changed)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

MTIME_KEY = "mtime"
MD5_KEY = "md5chksum"


def format_mtime(ts: float) -> str:
    """rclone writes the mtime as seconds since the epoch with a fraction, e.g. ``1700000000.123456789``."""
    return f"{ts:.9f}".rstrip("0").rstrip(".")


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
