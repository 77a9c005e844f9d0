"""Blob metadata and properties as the engine sees them (rclone's conventions), apart from the store so that the
store and the writer both use them without importing each other.

Metadata names must be C# identifiers on Azure; other names (``x-thing``) are stored as azcopy's
``--s2s-handle-invalid-metadata RenameIfInvalid`` does (``rename_x_thing`` + ``rename_key_x_thing``) and read back
under their own name. rclone's ``mtime`` goes in the form rclone's azureblob backend writes and reads (RFC 3339,
nine fraction digits, UTC; its S3 backend and the engine use seconds since the epoch, converted both ways,
exactly); rclone's ``md5chksum`` becomes the blob's Content-MD5 (rclone's Azure convention) instead of metadata.
"""

from __future__ import annotations

import base64
import calendar
import re
import time
from datetime import UTC, datetime

from tui.storage.meta import MD5_KEY, MTIME_KEY, format_mtime_ns, parse_mtime_ns

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RENAMED = "rename_"
_RENAMED_KEY = "rename_key_"


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


def mtime_to_azure(value: str) -> str:
    """rclone's Azure ``mtime``: RFC 3339 with nine fraction digits in UTC (its S3 one is seconds since the epoch,
    as the engine writes it). Exact to the nanosecond; a value of neither form is kept as it is."""
    ns = parse_mtime_ns(value)
    if ns is None:
        return value
    seconds, frac = divmod(ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{frac:09d}Z"


def mtime_from_azure(value: str) -> str:
    """The engine's form (seconds since the epoch, exact) of rclone's Azure ``mtime``; anything else as it is."""
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        return value
    whole, frac, zone = match.groups()
    seconds = calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return format_mtime_ns(seconds * 1_000_000_000 + int(((frac or "") + "000000000")[:9]))


def encode_metadata(metadata: dict[str, str] | None) -> tuple[dict[str, str], str | None]:
    """Azure-valid metadata, and the Content-MD5 (base64) taken out of rclone's ``md5chksum``; ``mtime`` as
    rclone's Azure backend writes it (RFC 3339)."""
    out: dict[str, str] = {}
    md5: str | None = None
    for name, value in (metadata or {}).items():
        if name.lower() == MD5_KEY:
            md5 = value
            continue
        if name.lower() == MTIME_KEY:
            out[MTIME_KEY] = mtime_to_azure(value)
            continue
        if _IDENTIFIER.fullmatch(name) and not name.lower().startswith(_RENAMED):
            out[name] = value
            continue
        valid = re.sub(r"[^A-Za-z0-9_]", "_", name)
        out[_RENAMED + valid] = value
        out[_RENAMED_KEY + valid] = name
    return out, md5


def decode_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """The names as they were written (lower case, as S3 stores report them)."""
    raw = {str(k).lower(): str(v) for k, v in (metadata or {}).items()}
    out: dict[str, str] = {}
    for name, value in raw.items():
        if name.startswith(_RENAMED_KEY):
            continue
        if name.startswith(_RENAMED):
            original = raw.get(_RENAMED_KEY + name[len(_RENAMED) :])
            out[(original or name).lower()] = value
            continue
        out[name] = mtime_from_azure(value) if name == MTIME_KEY else value
    return out


def _etag(raw: str | None) -> str | None:
    return raw.strip('"') if raw else None


def _md5_b64(raw: bytes | bytearray | None) -> str | None:
    return base64.b64encode(bytes(raw)).decode() if raw else None
