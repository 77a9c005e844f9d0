"""One Azure container as a ``Store``.

- Listings page with ``list_blobs`` (flat) or ``walk_blobs`` (delimiter ``/``); each page is sorted by UTF-8 bytes
  (the SDK yields a page's prefixes before its blobs). Azure orders pages itself (Azurite by JavaScript string
  order, which differs from UTF-8 byte order only between characters above U+FFFF and U+E000..U+FFFF).
- ``stat`` gives the ETag (``0x...``, not an MD5: ``encrypted_etag`` says so), the access tier as
  ``storage_class``, the blob's Content-MD5 as ``checksums["md5"]`` (base64, like S3's checksums) and metadata.
- Ranged reads are pinned by ETag (``If-Match``): a changed blob is a SourceChangedError before any byte.
- ``put`` is one Put Blob with Content-MD5 (checked by the service), metadata and content type; ``if_none_match``
  sends ``If-None-Match: *`` (Azure answers 409 BlobAlreadyExists: PreconditionFailed).
- Metadata names must be C# identifiers on Azure; other names (``x-thing``) are stored as azcopy's
  ``--s2s-handle-invalid-metadata RenameIfInvalid`` does (``rename_x_thing`` + ``rename_key_x_thing``) and read back
  under their own name. rclone's ``mtime`` goes in the form rclone's azureblob backend writes and reads (RFC 3339,
  nine fraction digits, UTC; its S3 backend and the engine use seconds since the epoch, converted both ways,
  exactly); rclone's ``md5chksum`` becomes the blob's Content-MD5 (rclone's Azure convention) instead of metadata.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobProperties, BlobSasPermissions, ContentSettings, generate_blob_sas
from azure.storage.blob.aio import BlobPrefix, BlobServiceClient

from tui.errors import (
    CloudpaneError,
    ConflictError,
    NotFoundError,
    PreconditionFailed,
    SourceChangedError,
    StoreError,
    UnsupportedError,
    UsageError,
)
from tui.safety import display_text
from tui.storage.azure.errors import azure_errors
from tui.storage.azure.metadata import (
    _etag,
    _md5_b64,
    decode_metadata,
    encode_metadata,
    mtime_from_azure,
    mtime_to_azure,
)
from tui.storage.azure.options import AzureOptions
from tui.storage.azure.versions import MARKERS, NO_CURRENT, NO_VERSIONS, SOFT_DELETED, grouped, key_rows
from tui.storage.azure.writer import AzureWriter, decode_upload_id, parse_block_id
from tui.storage.base import MAX_PRESIGN, Entry, Features, ObjectInfo, Page, PutResult, UploadInfo, utf8_key

__all__ = ["AzureStore", "decode_metadata", "encode_metadata", "mtime_from_azure", "mtime_to_azure"]


class Account(Protocol):
    """What a store needs of its account (``tui.storage.azure.remote.AzureRemote``, which imports this module)."""

    options: AzureOptions
    client: BlobServiceClient
    features: Features
    endpoint_url: str

    @property
    def name(self) -> str: ...

    @property
    def secrets(self) -> tuple[str, ...]: ...


MiB = 1024 * 1024
#: chunks handed to the caller (the SDK hands whole ranged responses)
CHUNK = 1 * MiB
#: a block may hold at most this much (Azure, API version 2019-12-12 and later)
MAX_BLOCK_SIZE = 4000 * MiB

#: what ``journal_target`` puts before the account URL: the journal records the row as an Azure one
AZURE_ENDPOINT_PREFIX = "azure+"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AzureStore:
    """One container of an AzureRemote. ``bucket`` is the container's name (the engine's generic word)."""

    def __init__(self, remote: Account, bucket: str) -> None:
        self.remote = remote
        self.bucket = bucket
        self.features = remote.features
        self.container = remote.client.get_container_client(bucket)
        self._probed = False

    def __repr__(self) -> str:
        return f"AzureStore({self.url!r})"

    @property
    def url(self) -> str:
        scheme = "az://" if self.remote.name == "az" else f"{self.remote.name}:"
        return f"{scheme}{self.bucket}"

    def describe(self, key: str) -> str:
        return display_text(f"{self.url}/{key}")

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.remote.secrets

    def _errors(self, what: str) -> Any:
        return azure_errors(what, self.remote.secrets)

    def _check_key(self, verb: str, key: str) -> None:
        if _CONTROL.search(key):
            # Azurite answers 500 to every listing of the container afterwards (an XML name it cannot write)
            raise UsageError(f"{verb} {self.describe(key)}: an Azure blob name cannot hold control characters")
        if not key or len(key) > 1024:
            raise UsageError(f"{verb} {self.describe(key)}: a blob name has 1 to 1,024 characters")

    async def probe(self) -> Features:
        """What the account keeps, asked once per store (tui/storage/azure/versions.py): soft delete from the
        service properties' delete retention policy, versioning from a version id in a listing row. A question
        the credentials may not ask (a container SAS cannot read service properties) counts as no."""
        if self._probed:
            return self.features
        soft = False
        with contextlib.suppress(CloudpaneError), self._errors(f"service properties of {self.remote.name}"):
            props = await self.remote.client.get_service_properties()
            policy = props.get("delete_retention_policy")
            soft = bool(policy is not None and policy.enabled)
        versioned = False
        with contextlib.suppress(CloudpaneError), self._errors(f"list versions in {self.url}"):
            async for blob in self.container.list_blobs(include=["versions"], results_per_page=1):
                versioned = blob.version_id is not None
                break
        self.features = replace(self.features, versions=soft or versioned, soft_delete=soft)
        self._probed = True
        return self.features

    async def _no_versions(self, verb: str, key: str, version_id: str | None) -> None:
        if version_id and not (await self.probe()).versions:
            raise UnsupportedError(f"{verb} {self.describe(key)}: {NO_VERSIONS}")
        if version_id in MARKERS and verb != "delete":
            raise UsageError(f"{verb} {self.describe(key)}: {version_id} is a delete marker, not a version")

    # -- listing --------------------------------------------------------------------------------------------

    async def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        what = f"list {self.describe(prefix)}"
        if recursive:
            pager: Any = self.container.list_blobs(name_starts_with=prefix or None, results_per_page=page_size)
        else:
            pager = self.container.walk_blobs(
                name_starts_with=prefix or None, delimiter="/", results_per_page=page_size
            )
        pages = pager.by_page()
        while True:
            with self._errors(what):
                try:
                    page_iter = await pages.__anext__()
                except StopAsyncIteration:
                    return
                items = [item async for item in page_iter]
            page: Page = []
            for item in items:
                if isinstance(item, BlobPrefix):
                    page.append(Entry(key=str(item.name), is_prefix=True))
                else:
                    page.append(self._entry(item))
            if page:
                yield sorted(page, key=lambda e: utf8_key(e.key))

    @staticmethod
    def _entry(blob: BlobProperties) -> Entry:
        return Entry(
            key=str(blob.name),
            size=int(blob.size) if blob.size is not None else None,
            last_modified=blob.last_modified,
            etag=_etag(blob.etag),
            storage_class=str(blob.blob_tier) if blob.blob_tier else None,
        )

    # -- objects --------------------------------------------------------------------------------------------

    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        await self._no_versions("stat", key, version_id)
        if not key:
            raise NotFoundError(f"stat {self.describe(key)}: no such blob")
        with self._errors(f"stat {self.describe(key)}"):
            props = await self.container.get_blob_client(key).get_blob_properties(version_id=version_id)
        md5 = _md5_b64(props.content_settings.content_md5)
        return ObjectInfo(
            key=key,
            size=int(props.size),
            last_modified=props.last_modified,
            etag=_etag(props.etag),
            version_id=props.version_id,
            storage_class=str(props.blob_tier) if props.blob_tier else None,
            content_type=props.content_settings.content_type,
            metadata=decode_metadata(props.metadata),
            checksums={"md5": md5} if md5 else {},
            # an Azure ETag is an opaque 0x... value, never the content's MD5
            encrypted_etag=True,
        )

    async def read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        await self._no_versions("read", key, version_id)
        what = f"read {self.describe(key)}"
        kwargs: dict[str, Any] = {"max_concurrency": 1}
        if version_id:
            kwargs["version_id"] = version_id
        if start or end is not None:
            kwargs["offset"] = start
            if end is not None:
                kwargs["length"] = end - start
        if if_match:
            kwargs["etag"] = f'"{if_match}"'
            kwargs["match_condition"] = MatchConditions.IfNotModified
        blob = self.container.get_blob_client(key)
        try:
            with self._errors(what):
                downloader = await blob.download_blob(**kwargs)
        except PreconditionFailed:
            raise SourceChangedError(f"{what}: source changed (ETag is no longer {if_match})") from None
        got = _etag(downloader.properties.etag)
        if if_match and got and got != if_match:
            raise SourceChangedError(f"{what}: source changed (ETag {got}, expected {if_match})")
        chunks = downloader.chunks()
        while True:
            with self._errors(what):
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except HttpResponseError as exc:
                    if exc.status_code == 412:
                        raise SourceChangedError(f"{what}: source changed while it was read") from None
                    raise
            view = memoryview(chunk)
            for offset in range(0, len(view), CHUNK):
                yield bytes(view[offset : offset + CHUNK])

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_md5: str | None = None,
        if_none_match: bool = False,
    ) -> PutResult:
        what = f"put {self.describe(key)}"
        self._check_key("put", key)
        meta, whole_md5 = encode_metadata(metadata)
        kwargs: dict[str, Any] = {
            "overwrite": not if_none_match,
            "metadata": meta or None,
            "length": len(data),
            "max_concurrency": 1,
        }
        if content_type:
            kwargs["content_settings"] = ContentSettings(content_type=content_type)
        md5 = content_md5 or whole_md5
        if md5:
            # Put Blob checks a Content-MD5 header against the body and stores it as the blob's MD5
            kwargs["headers"] = {"Content-MD5": md5}
        blob = self.container.get_blob_client(key)
        try:
            with self._errors(what):
                resp = await blob.upload_blob(data, **kwargs)
        except PreconditionFailed:
            raise
        except ConflictError:
            if if_none_match:  # If-None-Match: * on an existing blob is 409 BlobAlreadyExists on Azure
                raise PreconditionFailed(f"{what}: the blob already exists") from None
            raise
        return PutResult(_etag(resp.get("etag")), resp.get("version_id"))

    async def open_writer(
        self,
        key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        part_size: int = 8 * MiB,
    ) -> AzureWriter:
        self._check_key("write", key)
        if part_size > MAX_BLOCK_SIZE:
            raise UsageError(f"write {self.describe(key)}: a block holds at most 4000 MiB (part size {part_size})")
        return AzureWriter(self, key, metadata=metadata, content_type=content_type)

    async def open_url_writer(self, key: str, *, metadata: dict[str, str], content_type: str | None) -> AzureWriter:
        """A block writer whose blocks the service reads from a URL (``stage_from_url``: Put Block From URL);
        tui/transfer/pull.py uses it for S3 -> Azure copies that never pass through this machine."""
        self._check_key("write", key)
        return AzureWriter(self, key, metadata=metadata, content_type=content_type)

    # -- resumable block uploads (ResumableStore, ListsUploads) ----------------------------------------------

    def journal_target(self) -> tuple[str, str, str]:
        """(remote name, ``azure+`` and the account URL, container) for the resume journal: the prefix tells the
        journal the row's kind (tui/transfer/journal.py); never credentials (a SAS token is not in the URL)."""
        return self.remote.name, f"{AZURE_ENDPOINT_PREFIX}{self.remote.endpoint_url}", self.bucket

    def resume_writer(self, key: str, upload_id: str) -> AzureWriter:
        """The writer of a journaled upload: its nonce names its blocks; its metadata comes back from the id."""
        nonce, metadata, content_type = decode_upload_id(upload_id)
        return AzureWriter(self, key, metadata=metadata, content_type=content_type, nonce=nonce)

    async def _uncommitted(self, key: str) -> builtins.list[tuple[str, int, str, int]]:
        """(nonce, part number, MD5, size) of our uncommitted blocks of ``key``; NotFoundError when no blob (not
        even one with only uncommitted blocks) is there."""
        with self._errors(f"list blocks of {self.describe(key)}"):
            _committed, uncommitted = await self.container.get_blob_client(key).get_block_list("uncommitted")
        found = []
        for block in uncommitted:
            parsed = parse_block_id(str(block.id))
            if parsed is not None:
                found.append((*parsed, int(block.size)))
        return found

    async def list_parts(self, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
        """The blocks the service holds for a journaled upload (``get_block_list("uncommitted")``): part number ->
        (Content-MD5 from the block id, size)."""
        nonce, _meta, _type = decode_upload_id(upload_id)
        return {n: (md5, size) for got, n, md5, size in await self._uncommitted(key) if got == nonce}

    async def list_uploads(self, prefix: str = "") -> builtins.list[UploadInfo]:
        """Uploads in progress under ``prefix``: one per nonce among the uncommitted blocks of each blob (ids of
        nonce only: the metadata part of a journaled id is not on the service). Azure keeps no start time
        (``Features.upload_times`` is False). One Get Block List per blob under the prefix."""
        found: builtins.list[UploadInfo] = []
        what = f"list uploads in {self.describe(prefix)}"
        with self._errors(what):
            names = [
                str(b.name)
                async for b in self.container.list_blobs(name_starts_with=prefix or None, include=["uncommittedblobs"])
            ]
        for name in sorted(set(names), key=utf8_key):
            try:
                blocks = await self._uncommitted(name)
            except NotFoundError:
                continue
            for nonce in sorted({b[0] for b in blocks}):
                found.append(UploadInfo(name, nonce, None))
        return found

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """Nothing to do: Azure cannot drop some uncommitted blocks (they go at the blob's next commit, or after a
        week) and nothing was committed, so the blob is as it was."""

    async def delete(self, key: str, *, version_id: str | None = None) -> None:
        await self._no_versions("delete", key, version_id)
        blob = self.container.get_blob_client(key)
        if version_id == SOFT_DELETED:
            with self._errors(f"undelete {self.describe(key)}"):
                await blob.undelete_blob()
            return
        if version_id == NO_CURRENT:
            await self._restore_newest(key)
            return
        with self._errors(f"delete {self.describe(key)}"):
            try:
                if version_id:
                    await blob.delete_blob(version_id=version_id)
                else:
                    await blob.delete_blob(delete_snapshots="include")
            except ResourceNotFoundError:
                if version_id:
                    raise
                return  # deleting what is not there succeeds, as on S3

    async def _restore_newest(self, key: str) -> None:
        """Undelete a versioned blob that has no current version: its newest version becomes the blob again."""
        newest: str | None = None
        async for page in self.list_versions(key, exact=True):
            newest = next((e.version_id for e in page if not e.is_delete_marker and e.version_id), newest)
            if newest:
                break
        if newest is None:
            raise NotFoundError(f"undelete {self.describe(key)}: no version to restore")
        await self.copy(key, key, src_version_id=newest)

    async def copy(
        self,
        src_key: str,
        dst_key: str,
        *,
        src_version_id: str | None = None,
        metadata: dict[str, str] | None = None,
        src_container: str | None = None,
    ) -> PutResult:
        """Copy Blob inside the account (asynchronous on the service: polled until it is done)."""
        await self._no_versions("copy", src_key, src_version_id)
        what = f"copy {self.describe(src_key)} to {display_text(dst_key)}"
        source = self.remote.client.get_blob_client(src_container or self.bucket, src_key, version_id=src_version_id)
        src_url = source.url  # with ?versionid= for a version (restore a version as current: copy it over the blob)
        sep = "&" if "?" in src_url else "?"
        if self.remote.options.account_key:
            sas = self._sas(src_container or self.bucket, src_key, timedelta(hours=1), version_id=src_version_id)
            src_url += sep + sas
        elif self.remote.options.sas_token:
            src_url += sep + self.remote.options.sas_token
        kwargs: dict[str, Any] = {}
        if metadata is not None:
            meta, _md5 = encode_metadata(metadata)
            kwargs["metadata"] = meta
        target = self.container.get_blob_client(dst_key)
        with self._errors(what):
            await source.get_blob_properties()  # a missing source (or version) is a NotFoundError, not a failed copy
            resp = await target.start_copy_from_url(src_url, **kwargs)
            status = resp.get("copy_status")
            delay = 0.05
            while status == "pending":
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                props = await target.get_blob_properties()
                status = props.copy.status
            if status != "success":
                raise StoreError(f"{what}: the copy ended as {display_text(str(status))}")
            props = await target.get_blob_properties()
        return PutResult(_etag(props.etag), props.version_id)

    async def list_versions(
        self, prefix: str = "", *, exact: bool = False, page_size: int = 1000
    ) -> AsyncIterator[Page]:
        """Every version, soft-deleted blob and (for a versioned blob with no current version) delete marker under
        ``prefix`` (or of exactly that key), newest first per key (tui/storage/azure/versions.py)."""
        what = f"versions of {self.describe(prefix)}"
        if not (await self.probe()).versions:
            raise UnsupportedError(f"{what}: {NO_VERSIONS}")
        pager: Any = self.container.list_blobs(
            name_starts_with=prefix or None, include=["versions", "deleted"], results_per_page=page_size
        )
        pages = pager.by_page()
        carry: builtins.list[Entry] = []
        while True:
            with self._errors(what):
                try:
                    page_iter = await pages.__anext__()
                except StopAsyncIteration:
                    break
                items = [b async for b in page_iter if not exact or str(b.name) == prefix]
            page, carry = grouped(items, carry)
            if page:
                yield page
        if carry:
            yield key_rows(carry)

    def _sas(self, container: str, key: str, expires: timedelta, *, version_id: str | None = None) -> str:
        options = self.remote.options
        assert options.account_key and options.account_name
        return generate_blob_sas(
            options.account_name,
            container,
            key,
            account_key=options.account_key,
            permission=BlobSasPermissions(read=True),
            expiry=datetime.now(UTC) + expires,
            start=datetime.now(UTC) - timedelta(minutes=5),
            version_id=version_id,
        )

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        """A read-only SAS URL for the blob (needs the account key: a SAS token cannot sign another)."""
        await self._no_versions("presign", key, version_id)
        if expires > MAX_PRESIGN or expires.total_seconds() < 1:
            raise UsageError("presign: the expiry must be between 1 second and 7 days")
        if not self.features.presign:
            raise UnsupportedError(
                f"presign {self.describe(key)}: a SAS link needs the account key (this account uses a SAS token)"
            )
        base = f"{self.container.url.rstrip('/')}/{quote(key, safe='/~')}"
        if version_id:
            return f"{base}?versionid={quote(version_id)}&{self._sas(self.bucket, key, expires, version_id=version_id)}"
        return f"{base}?{self._sas(self.bucket, key, expires)}"

    async def close(self) -> None:
        """The client belongs to the remote; closing a store does nothing."""
