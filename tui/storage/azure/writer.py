"""Block uploads: Put Block for each part (in parallel, any order), Put Block List to commit.

- Block ids are ``<16 hex of this upload><5 digits of the part>`` (base64 on the wire, done by the SDK): all of one
  length, as Azure requires, and never shared between two uploads of one blob.
- At most 50,000 blocks (``Features.max_parts``); the engine grows the part size to fit.
- Every block carries a transactional Content-MD5 (the caller's, or one computed off the event loop), which the
  service checks.
- ``complete`` commits the blocks in part order with the metadata, the content type and, when known (rclone's
  ``md5chksum`` from the engine), the whole blob's Content-MD5.
- ``abort`` commits nothing: the blob as it was (or its absence) stays. The uncommitted blocks cannot be deleted
  one by one; Azure drops them on the next commit to the blob or after a week.
- ``upload_id`` is None: resuming from the uncommitted block list is not written yet, so the engine keeps no
  journal row for Azure uploads and aborts on any failure.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from azure.storage.blob import BlobBlock, ContentSettings

from tui.errors import UsageError
from tui.storage.azure.store import _etag, encode_metadata
from tui.storage.base import PartResult, PutResult

if TYPE_CHECKING:
    from tui.storage.azure.store import AzureStore

MAX_BLOCKS = 50_000


def _md5_b64(data: bytes | bytearray) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


class AzureWriter:
    def __init__(
        self,
        store: AzureStore,
        key: str,
        *,
        metadata: dict[str, str] | None,
        content_type: str | None,
    ) -> None:
        self._store = store
        self._key = key
        self._blob = store.container.get_blob_client(key)
        self._metadata, self._whole_md5 = encode_metadata(metadata)
        self._content_type = content_type
        self._prefix = uuid.uuid4().hex[:16]
        self._done = False

    @property
    def upload_id(self) -> str | None:
        return None

    def block_id(self, number: int) -> str:
        """The block's id before base64 (the SDK encodes it on the wire and decodes it in block lists)."""
        return f"{self._prefix}{number:05d}"

    async def write_part(self, number: int, data: bytes | bytearray, *, content_md5: str | None = None) -> PartResult:
        what = f"write block {number} of {self._store.describe(self._key)}"
        if not 1 <= number <= MAX_BLOCKS:
            raise UsageError(f"{what}: a blob has at most {MAX_BLOCKS} blocks")
        md5 = content_md5 if content_md5 else await asyncio.to_thread(_md5_b64, data)
        with self._store._errors(what):
            await self._blob.stage_block(
                self.block_id(number), bytes(data), length=len(data), headers={"Content-MD5": md5}
            )
        # the block id is what the commit needs; the MD5 stands in for the part's ETag
        return PartResult(number, md5, len(data))

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
        with self._store._errors(what):
            resp = await self._blob.commit_block_list([BlobBlock(block_id=self.block_id(n)) for n in numbers], **kwargs)
        self._done = True
        etag, version = resp.get("etag"), resp.get("version_id")
        return PutResult(_etag(etag) if isinstance(etag, str) else None, version if isinstance(version, str) else None)

    async def abort(self) -> None:
        """Nothing was committed, so nothing changed at the key; the staged blocks expire on the service."""
        self._done = True
