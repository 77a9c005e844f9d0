"""Block uploads: Put Block for each part (in parallel, any order), Put Block List to commit.

- Block ids are ``<16 hex nonce of this upload><5 digits of the part><the block's Content-MD5, base64>`` (45
  characters; base64 again on the wire, done by the SDK): all of one length, as Azure requires, never shared between
  two uploads of one blob, and they say what they hold, so an uncommitted block list (``get_block_list``) tells a
  resumed upload which parts the service has and with which bytes (Azure lists a block's id and size, no MD5).
- ``upload_id`` is synthetic (Azure has no upload object): ``<nonce>.<urlsafe base64 of the JSON of the metadata
  and content type>``. Azure takes the metadata when the blocks are committed, not when the upload starts (S3 does),
  so a writer resumed from the journal (``AzureStore.resume_writer``) gets them back from its id.
- At most 50,000 blocks (``Features.max_parts``); the engine grows the part size to fit.
- Every block carries a transactional Content-MD5 (the caller's, or one computed off the event loop), which the
  service checks. The bytes are not copied on their way out (``_Body``: no ``bytes()``, and none of the copies
  aiohttp and asyncio make of a bytes-like body).
- ``complete`` commits the blocks in part order with the metadata, the content type and, when known (rclone's
  ``md5chksum`` from the engine), the whole blob's Content-MD5.
- ``abort`` commits nothing: the blob as it was (or its absence) stays. The uncommitted blocks cannot be deleted
  one by one; Azure drops them on the next commit to the blob or after a week.
- ``stage_from_url`` is Put Block From URL: the service reads the block from a (presigned) URL itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlsplit

from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobBlock, ContentSettings
from azure.storage.blob.aio import ContainerClient

from tui.errors import UnsupportedError, UsageError
from tui.storage.azure.errors import _code, azure_errors, scrub
from tui.storage.azure.metadata import _etag, encode_metadata
from tui.storage.base import PartResult, PutResult


class BlobTarget(Protocol):
    """What a writer needs of its store (``tui.storage.azure.store.AzureStore``, which imports this module)."""

    @property
    def container(self) -> ContainerClient: ...

    @property
    def secrets(self) -> tuple[str, ...]: ...

    def describe(self, key: str) -> str: ...


MAX_BLOCKS = 50_000
NONCE_LEN = 16
#: nonce + part number + base64 MD5 (always 24 characters)
BLOCK_ID_LEN = NONCE_LEN + 5 + 24
_NONCE = re.compile(r"[0-9a-f]{16}")


def _md5_b64(data: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def encode_upload_id(nonce: str, metadata: dict[str, str] | None, content_type: str | None) -> str:
    blob = json.dumps({"m": metadata or {}, "t": content_type}, separators=(",", ":"), sort_keys=True)
    return f"{nonce}.{base64.urlsafe_b64encode(blob.encode()).decode()}"


def decode_upload_id(upload_id: str) -> tuple[str, dict[str, str], str | None]:
    """(nonce, metadata, content type) of a synthetic upload id; UsageError when it is not one of ours."""
    nonce, _, rest = upload_id.partition(".")
    try:
        if not _NONCE.fullmatch(nonce):
            raise ValueError("nonce")
        raw = json.loads(base64.urlsafe_b64decode(rest.encode()).decode()) if rest else {}
        metadata = {str(k): str(v) for k, v in dict(raw.get("m") or {}).items()}
        content_type = raw.get("t")
        return nonce, metadata, str(content_type) if content_type else None
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError):
        raise UsageError("not an Azure upload id of cloudpane's (journal row from another version?)") from None


def parse_block_id(block_id: str) -> tuple[str, int, str] | None:
    """(nonce, part number, MD5 base64) of one of our block ids, None for anyone else's."""
    if len(block_id) != BLOCK_ID_LEN or not _NONCE.fullmatch(block_id[:NONCE_LEN]):
        return None
    number = block_id[NONCE_LEN : NONCE_LEN + 5]
    if not number.isdigit():
        return None
    return block_id[:NONCE_LEN], int(number), block_id[NONCE_LEN + 5 :]


class _Body:
    """A block's bytes handed to the SDK without a copy. A bytes-like body costs two copies of every block in
    aiohttp and asyncio (measured: the request's headers and body joined into one new buffer, then what the
    socket does not take at once kept in the transport's buffer), a bytearray a third (sliced to the
    Content-Length); an async iterable is sent chunk by chunk as the socket drains. ``read``, ``seek`` and
    ``tell`` let the SDK's own retry rewind it."""

    CHUNK = 256 * 1024

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(data).cast("B")
        self._pos = 0

    def __len__(self) -> int:
        return len(self._view)

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._view)}[whence]
        self._pos = max(0, min(len(self._view), base + offset))
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else min(len(self._view), self._pos + size)
        out = bytes(self._view[self._pos : end])
        self._pos = end
        return out

    async def __aiter__(self) -> AsyncIterator[memoryview]:
        while self._pos < len(self._view):
            end = min(len(self._view), self._pos + self.CHUNK)
            chunk = self._view[self._pos : end]
            self._pos = end
            yield chunk


class AzureWriter:
    def __init__(
        self,
        store: BlobTarget,
        key: str,
        *,
        metadata: dict[str, str] | None,
        content_type: str | None,
        nonce: str | None = None,
    ) -> None:
        self._store = store
        self._key = key
        self._blob = store.container.get_blob_client(key)
        self._raw_metadata = dict(metadata or {})
        self._metadata, self._whole_md5 = encode_metadata(metadata)
        self._content_type = content_type
        self._prefix = nonce or uuid.uuid4().hex[:NONCE_LEN]
        self._upload_id = encode_upload_id(self._prefix, self._raw_metadata, content_type)
        self._done = False

    @property
    def upload_id(self) -> str:
        return self._upload_id

    def block_id(self, number: int, md5: str) -> str:
        """The block's id before base64 (the SDK encodes it on the wire and decodes it in block lists)."""
        if len(md5) != 24:
            raise UsageError(f"block {number}: not a base64 MD5: {md5!r}")
        return f"{self._prefix}{number:05d}{md5}"

    def _check_number(self, what: str, number: int) -> None:
        if not 1 <= number <= MAX_BLOCKS:
            raise UsageError(f"{what}: a blob has at most {MAX_BLOCKS} blocks")

    async def write_part(
        self, number: int, data: bytes | bytearray | memoryview, *, content_md5: str | None = None
    ) -> PartResult:
        what = f"write block {number} of {self._store.describe(self._key)}"
        self._check_number(what, number)
        md5 = content_md5 if content_md5 else await asyncio.to_thread(_md5_b64, data)
        size = memoryview(data).nbytes
        with azure_errors(what, self._store.secrets):
            # no copy of the block (_Body): sent in chunks straight from the caller's buffer
            await self._blob.stage_block(
                self.block_id(number, md5),
                _Body(data),  # type: ignore[arg-type]
                length=size,
                headers={"Content-MD5": md5},
            )
        # the block id is what the commit needs; the MD5 stands in for the part's ETag
        return PartResult(number, md5, size)

    async def stage_from_url(
        self, number: int, url: str, start: int, end: int, *, md5: str | None = None
    ) -> PartResult:
        """Put Block From URL: the service reads bytes ``[start, end)`` of ``url`` itself. Without the source's
        MD5 of the range the block id carries the MD5 of the block id's own number (ids must be of one length);
        the service checks ``md5`` against what it read when it is given."""
        what = f"write block {number} of {self._store.describe(self._key)} from a URL"
        self._check_number(what, number)
        tag = md5 or base64.b64encode(hashlib.md5(f"url:{number}:{start}:{end}".encode()).digest()).decode()
        kwargs: dict[str, Any] = {"source_offset": start, "source_length": end - start}
        if md5:
            kwargs["source_content_md5"] = bytearray(base64.b64decode(md5))
        # the URL's signature never reaches a message
        secrets = (*self._store.secrets, urlsplit(url).query)
        with azure_errors(what, secrets):
            try:
                await self._blob.stage_block_from_url(self.block_id(number, tag), url, **kwargs)
            except HttpResponseError as exc:
                code = _code(exc)
                if code == "CannotVerifyCopySource" or exc.status_code == 501:
                    # Azurite answers 501; Azure answers CannotVerifyCopySource when it cannot reach or read the URL
                    label = f"{exc.status_code} {code}".strip()
                    raise UnsupportedError(
                        scrub(f"{what}: the service cannot pull from the source ({label})", secrets)
                    ) from None
                raise
        return PartResult(number, tag, end - start)

    async def complete(self, parts: list[PartResult]) -> PutResult:
        what = f"commit {self._store.describe(self._key)}"
        numbers = sorted(p.number for p in parts)
        if len(set(numbers)) != len(numbers):
            raise UsageError(f"{what}: a block is listed twice")
        kwargs: dict[str, Any] = {"metadata": self._metadata or None}
        settings: dict[str, Any] = {}
        if self._content_type:
            settings["content_type"] = self._content_type
        if self._whole_md5:
            raw = base64.b64decode(self._whole_md5)
            if len(raw) == 16:
                settings["content_md5"] = bytearray(raw)
        if settings:
            kwargs["content_settings"] = ContentSettings(**settings)
        blocks = [BlobBlock(block_id=self.block_id(p.number, p.etag)) for p in sorted(parts, key=lambda p: p.number)]
        with azure_errors(what, self._store.secrets):
            resp = await self._blob.commit_block_list(blocks, **kwargs)
        self._done = True
        etag, version = resp.get("etag"), resp.get("version_id")
        return PutResult(_etag(etag) if isinstance(etag, str) else None, version if isinstance(version, str) else None)

    async def abort(self) -> None:
        """Nothing was committed, so nothing changed at the key; the staged blocks expire on the service."""
        self._done = True
