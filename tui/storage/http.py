"""An https:// URL as a read-only source: stat by HEAD, ranged GETs when the server offers them.

Only ever a source to copy from (``cloudpane cp https://host/file s3://b/``). The URL may carry a signature in its
query string, so it is never logged or shown whole (``Location.__str__`` hides the query).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

import aiohttp

from tui.errors import AuthError, NotFoundError, SourceChangedError, StoreError, TransientError, UnsupportedError
from tui.storage.base import Features, ObjectInfo, Page, PartResult, PutResult, Writer

#: until a HEAD says ``Accept-Ranges: bytes``, a URL is read front to back
HTTP_FEATURES = Features(max_parts=10_000, min_part_size=1, ranged_reads=False)


def _safe(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" + ("?…" if parts.query else "")


def _classify(status: int, what: str) -> Exception:
    if status in (401, 403):
        return AuthError(f"{what}: HTTP {status}")
    if status in (404, 410):
        return NotFoundError(f"{what}: HTTP {status}")
    if status == 412:
        return SourceChangedError(f"{what}: source changed (HTTP 412)")
    if status in (408, 429) or status >= 500:
        return TransientError(f"{what}: HTTP {status}")
    return StoreError(f"{what}: HTTP {status}")


class HttpSource:
    """One URL. Keys are ignored (the URL is the object); ``name`` is the last path segment."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self._url = url
        self.session = session
        #: ``ranged_reads`` is set by ``stat`` (the server's Accept-Ranges)
        self.features = HTTP_FEATURES

    @property
    def url(self) -> str:
        return _safe(self._url)

    @property
    def name(self) -> str:
        segment = urlsplit(self._url).path.rstrip("/").rsplit("/", 1)[-1]
        return unquote(segment) or "download"

    def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        raise UnsupportedError("an https:// source cannot be listed")

    async def stat(self, key: str = "", *, version_id: str | None = None) -> ObjectInfo:
        what = f"stat {self.url}"
        try:
            async with self.session.head(self._url, allow_redirects=True) as resp:
                if resp.status >= 400:
                    raise _classify(resp.status, what)
                length = resp.headers.get("Content-Length")
                if length is None:
                    raise UnsupportedError(f"{what}: the server does not say the size (no Content-Length)")
                ranged = resp.headers.get("Accept-Ranges", "").lower() == "bytes"
                self.features = replace(HTTP_FEATURES, ranged_reads=ranged)
                etag = resp.headers.get("ETag")
                modified = resp.headers.get("Last-Modified")
                return ObjectInfo(
                    key=self.name,
                    size=int(length),
                    last_modified=parsedate_to_datetime(modified) if modified else None,
                    # a strong ETag pins the ranged reads; weak ones cannot
                    etag=etag.strip('"') if etag and not etag.startswith("W/") else None,
                    content_type=resp.headers.get("Content-Type"),
                    encrypted_etag=True,  # an HTTP ETag is not an MD5
                )
        except aiohttp.ClientError as exc:
            raise TransientError(f"{what}: {type(exc).__name__}") from exc

    async def read(
        self,
        key: str = "",
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
        chunk_size: int = 256 * 1024,
    ) -> AsyncIterator[bytes]:
        what = f"read {self.url}"
        headers: dict[str, str] = {}
        ranged = bool(start or end is not None)
        if ranged:
            if not self.features.ranged_reads:
                raise UnsupportedError(f"{what}: the server does not serve byte ranges")
            headers["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if if_match:
            headers["If-Match"] = f'"{if_match}"'
        try:
            async with self.session.get(self._url, headers=headers, allow_redirects=True) as resp:
                if resp.status >= 400:
                    raise _classify(resp.status, what)
                if ranged and resp.status != 206:
                    raise StoreError(f"{what}: asked for a range, got HTTP {resp.status}")
                async for chunk in resp.content.iter_chunked(chunk_size):
                    yield chunk
        except aiohttp.ClientError as exc:
            raise TransientError(f"{what}: {type(exc).__name__}") from exc

    async def put(self, key: str, data: bytes, **_: object) -> PutResult:
        raise UnsupportedError("an https:// URL can only be a source")

    async def open_writer(self, key: str, **_: object) -> Writer:
        raise UnsupportedError("an https:// URL can only be a source")

    async def delete(self, key: str, *, version_id: str | None = None) -> None:
        raise UnsupportedError("an https:// URL can only be a source")

    async def copy(self, src_key: str, dst_key: str, **_: object) -> PutResult:
        raise UnsupportedError("an https:// URL can only be a source")

    def list_versions(self, prefix: str = "", *, exact: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        raise UnsupportedError("an https:// source has no versions")

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        raise UnsupportedError("an https:// source cannot be presigned")

    async def close(self) -> None:
        return None


__all__ = ["HttpSource", "PartResult"]
