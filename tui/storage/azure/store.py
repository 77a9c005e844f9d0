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
import base64
import builtins
import calendar
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.blob import BlobProperties, BlobSasPermissions, ContentSettings, generate_blob_sas
from azure.storage.blob.aio import BlobPrefix

from tui.errors import (
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
from tui.storage.base import MAX_PRESIGN, Entry, ObjectInfo, Page, PutResult, UploadInfo, utf8_key
from tui.storage.meta import MD5_KEY, MTIME_KEY, format_mtime_ns, parse_mtime_ns

if TYPE_CHECKING:
    from tui.storage.azure.remote import AzureRemote
    from tui.storage.azure.writer import AzureWriter

MiB = 1024 * 1024
#: chunks handed to the caller (the SDK hands whole ranged responses)
CHUNK = 1 * MiB
#: a block may hold at most this much (Azure, API version 2019-12-12 and later)
MAX_BLOCK_SIZE = 4000 * MiB

#: what ``journal_target`` puts before the account URL: the journal records the row as an Azure one
AZURE_ENDPOINT_PREFIX = "azure+"

#: the one-line refusal of every version operation (Features.versions is False on Azure for now)
NO_VERSIONS = "blob versions are not supported on Azure yet (and Azurite keeps none)"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
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


class AzureStore:
    """One container of an AzureRemote. ``bucket`` is the container's name (the engine's generic word)."""

    def __init__(self, remote: AzureRemote, bucket: str) -> None:
        self.remote = remote
        self.bucket = bucket
        self.features = remote.features
        self.container = remote.client.get_container_client(bucket)

    def __repr__(self) -> str:
        return f"AzureStore({self.url!r})"

    @property
    def url(self) -> str:
        scheme = "az://" if self.remote.name == "az" else f"{self.remote.name}:"
        return f"{scheme}{self.bucket}"

    def describe(self, key: str) -> str:
        return display_text(f"{self.url}/{key}")

    def _errors(self, what: str) -> Any:
        return azure_errors(what, self.remote.secrets)

    def _check_key(self, verb: str, key: str) -> None:
        if _CONTROL.search(key):
            # Azurite answers 500 to every listing of the container afterwards (an XML name it cannot write)
            raise UsageError(f"{verb} {self.describe(key)}: an Azure blob name cannot hold control characters")
        if not key or len(key) > 1024:
            raise UsageError(f"{verb} {self.describe(key)}: a blob name has 1 to 1,024 characters")

    def _no_versions(self, verb: str, key: str, version_id: str | None) -> None:
        if version_id and not self.features.versions:
            raise UnsupportedError(f"{verb} {self.describe(key)}: {NO_VERSIONS}")

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
        self._no_versions("stat", key, version_id)
        if not key:
            raise NotFoundError(f"stat {self.describe(key)}: no such blob")
        with self._errors(f"stat {self.describe(key)}"):
            props = await self.container.get_blob_client(key).get_blob_properties()
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
        self._no_versions("read", key, version_id)
        what = f"read {self.describe(key)}"
        kwargs: dict[str, Any] = {"max_concurrency": 1}
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
        from tui.storage.azure.writer import AzureWriter

        self._check_key("write", key)
        if part_size > MAX_BLOCK_SIZE:
            raise UsageError(f"write {self.describe(key)}: a block holds at most 4000 MiB (part size {part_size})")
        return AzureWriter(self, key, metadata=metadata, content_type=content_type)

    async def open_url_writer(self, key: str, *, metadata: dict[str, str], content_type: str | None) -> AzureWriter:
        """A block writer whose blocks the service reads from a URL (``stage_from_url``: Put Block From URL);
        tui/transfer/pull.py uses it for S3 -> Azure copies that never pass through this machine."""
        from tui.storage.azure.writer import AzureWriter

        self._check_key("write", key)
        return AzureWriter(self, key, metadata=metadata, content_type=content_type)

    # -- resumable block uploads (ResumableStore, ListsUploads) ----------------------------------------------

    def journal_target(self) -> tuple[str, str, str]:
        """(remote name, ``azure+`` and the account URL, container) for the resume journal: the prefix tells the
        journal the row's kind (tui/transfer/journal.py); never credentials (a SAS token is not in the URL)."""
        return self.remote.name, f"{AZURE_ENDPOINT_PREFIX}{self.remote.endpoint_url}", self.bucket

    def resume_writer(self, key: str, upload_id: str) -> AzureWriter:
        """The writer of a journaled upload: its nonce names its blocks; its metadata comes back from the id."""
        from tui.storage.azure.writer import AzureWriter, decode_upload_id

        nonce, metadata, content_type = decode_upload_id(upload_id)
        return AzureWriter(self, key, metadata=metadata, content_type=content_type, nonce=nonce)

    async def _uncommitted(self, key: str) -> builtins.list[tuple[str, int, str, int]]:
        """(nonce, part number, MD5, size) of our uncommitted blocks of ``key``; NotFoundError when no blob (not
        even one with only uncommitted blocks) is there."""
        from tui.storage.azure.writer import parse_block_id

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
        from tui.storage.azure.writer import decode_upload_id

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
        self._no_versions("delete", key, version_id)
        with self._errors(f"delete {self.describe(key)}"):
            try:
                await self.container.get_blob_client(key).delete_blob(delete_snapshots="include")
            except ResourceNotFoundError:
                return  # deleting what is not there succeeds, as on S3

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
        self._no_versions("copy", src_key, src_version_id)
        what = f"copy {self.describe(src_key)} to {display_text(dst_key)}"
        source = self.remote.client.get_blob_client(src_container or self.bucket, src_key)
        src_url = source.url
        if self.remote.options.account_key:
            src_url += "?" + self._sas(src_container or self.bucket, src_key, timedelta(hours=1))
        elif self.remote.options.sas_token:
            src_url += "?" + self.remote.options.sas_token
        kwargs: dict[str, Any] = {}
        if metadata is not None:
            meta, _md5 = encode_metadata(metadata)
            kwargs["metadata"] = meta
        target = self.container.get_blob_client(dst_key)
        with self._errors(what):
            await source.get_blob_properties()  # a missing source is a NotFoundError, not a failed copy
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
        raise UnsupportedError(
            f"versions of {self.describe(prefix)}: this account keeps no versions (Azurite has none)"
        )
        yield []  # pragma: no cover - makes this an async generator

    def _sas(self, container: str, key: str, expires: timedelta) -> str:
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
        )

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        """A read-only SAS URL for the blob (needs the account key: a SAS token cannot sign another)."""
        self._no_versions("presign", key, version_id)
        if expires > MAX_PRESIGN or expires.total_seconds() < 1:
            raise UsageError("presign: the expiry must be between 1 second and 7 days")
        if not self.features.presign:
            raise UnsupportedError(
                f"presign {self.describe(key)}: a SAS link needs the account key (this account uses a SAS token)"
            )
        base = f"{self.container.url.rstrip('/')}/{quote(key, safe='/~')}"
        return f"{base}?{self._sas(self.bucket, key, expires)}"

    async def close(self) -> None:
        """The client belongs to the remote; closing a store does nothing."""
