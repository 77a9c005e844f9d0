"""The one async protocol every store speaks, and the records it returns.

A store is bound to one container: a local root directory, one S3 bucket, or one Azure container. Keys are
``/``-separated strings relative to that container; a key ending in ``/`` is a prefix ("folder"). Operations on
the containers themselves (list, create, delete buckets) live on the ``Remote`` that made the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from tui.errors import TransientError

#: presigned links live at most this long (SigV4's limit)
MAX_PRESIGN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Features:
    """What a store can do. Callers check these instead of catching NotImplemented from the server."""

    versions: bool = False
    #: deleted objects are kept for a while and can be undeleted (Azure's soft delete)
    soft_delete: bool = False
    server_side_copy: bool = False
    #: UploadPartCopy works (rclone's S3 server answers 200 and writes an empty part: measured)
    part_copy: bool = False
    #: If-None-Match / If-Match on writes are honoured
    conditional_writes: bool = False
    #: Content-MD5 on writes is checked by the server
    checks_md5: bool = False
    buckets: bool = False
    presign: bool = False
    multipart: bool = False
    #: largest number of parts in a multipart upload
    max_parts: int = 10_000
    min_part_size: int = 5 * 1024 * 1024
    #: the largest part (block) written by default, whatever the configured part size (None: no cap); grown only to
    #: fit ``max_parts``. Azure: 4 MiB blocks as rclone writes them, so 8 blocks in flight keep RSS low
    part_size_cap: int | None = None
    #: an object named ``dir/`` can exist beside ``dir/x`` (not on file-backed servers)
    folder_markers: bool = False
    #: user metadata is kept (a local file keeps none)
    user_metadata: bool = True
    #: keys are file paths: ``f`` and ``f/x`` cannot both exist, and a path component has at most 255 bytes
    key_is_path: bool = False
    #: CopyObject with new metadata replaces it (rclone's server merges the old and the new)
    copy_replaces_metadata: bool = True
    #: the ETag a single PUT or an UploadPart returns is the MD5 of the bytes stored (unless that response says
    #: SSE-KMS or SSE-C): the engine compares it with the Content-MD5 it sent
    etag_is_md5: bool = False
    #: ListMultipartUploads reports when each upload started (moto answers one fixed date in 2010: measured)
    upload_times: bool = True
    #: an unfinished upload can be aborted on the server (AbortMultipartUpload); Azure cannot delete uncommitted
    #: blocks (they go at the blob's next commit, or after 7 days)
    aborts_uploads: bool = True
    #: byte ranges can be read (``read(start=, end=)``): parts are read in parallel; without them a source is read
    #: front to back once (an https server without ``Accept-Ranges: bytes``)
    ranged_reads: bool = True
    #: the longest a presigned link may live (with ``presign``): SigV4's 7 days on S3
    max_presign: timedelta = MAX_PRESIGN
    #: a Range GET answers 206 Partial Content (``rclone serve s3`` answers 200 with the right bytes, which native
    #: clients refuse: ranged reads there go through the SDK)
    partial_content: bool = True


def utf8_key(key: str) -> bytes:
    """The sort key S3 uses: UTF-8 bytes (surrogate-escaped local names keep their raw bytes)."""
    return key.encode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a listing: an object, a prefix, a version or a delete marker."""

    key: str
    size: int | None = None
    last_modified: datetime | None = None
    etag: str | None = None
    storage_class: str | None = None
    is_prefix: bool = False
    version_id: str | None = None
    is_latest: bool | None = None
    is_delete_marker: bool = False

    @property
    def name(self) -> str:
        """The last path component (with its trailing ``/`` for prefixes)."""
        stripped = self.key[:-1] if self.key.endswith("/") else self.key
        base = stripped.rsplit("/", 1)[-1]
        return base + "/" if self.is_prefix else base


#: one page of a listing
Page = list[Entry]


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What ``stat`` knows about one object (one version of it)."""

    key: str
    size: int
    last_modified: datetime | None = None
    etag: str | None = None
    version_id: str | None = None
    storage_class: str | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    #: local files only
    mode: int | None = None
    #: local files only: the exact modification time
    mtime_ns: int | None = None
    is_delete_marker: bool = False
    #: SSE-KMS or SSE-C: the ETag is not the MD5 of the content
    encrypted_etag: bool = False
    #: built from a listing row (``from_entry``), not a ``stat``: size, ETag, LastModified and version are known;
    #: metadata, content type, checksums and encryption are not (a store's ``InfoReader`` may supply them with the
    #: GET's own response; else the engine asks ``stat`` when it needs them)
    partial: bool = False
    #: the rest of what the server said of the object (S3 HEAD: CacheControl, Expires, ObjectLockMode, Restore,
    #: ServerSideEncryption, PartsCount, ...), by the SDK's field name, for ``stat``; untrusted text
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entry(cls, entry: Entry) -> ObjectInfo | None:
        """What a listing row says of an object, as a partial ObjectInfo; None when the row lacks the size."""
        if entry.is_prefix or entry.is_delete_marker or entry.size is None:
            return None
        return cls(
            key=entry.key,
            size=entry.size,
            last_modified=entry.last_modified,
            etag=entry.etag,
            version_id=entry.version_id,
            storage_class=entry.storage_class,
            partial=True,
        )

    @property
    def mtime(self) -> datetime | None:
        """The modification time: rclone's ``mtime`` metadata when present, else LastModified."""
        from tui.storage.meta import parse_mtime

        raw = self.metadata.get("mtime")
        parsed = parse_mtime(raw) if raw else None
        return parsed or self.last_modified


@dataclass(frozen=True, slots=True)
class PutResult:
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class PartResult:
    number: int
    etag: str
    size: int


@dataclass(frozen=True, slots=True)
class UploadInfo:
    """One unfinished multipart upload on a server (ListMultipartUploads)."""

    key: str
    upload_id: str
    initiated: datetime | None = None


class ChecksumMismatchError(TransientError):
    """The server stored other bytes than those sent: its ETag (an MD5) is not the Content-MD5 of the request.
    Worth another try (a flipped bit on the way); the engine fails the copy once the tries run out."""


@dataclass(frozen=True, slots=True)
class BucketInfo:
    name: str
    created: datetime | None = None


#: how one setting of a bucket was found: ``set`` (the value says what), ``not set`` (the server answered that
#: nothing is configured: S3's NoSuchPublicAccessBlockConfiguration and the like), ``not available`` (this server or
#: kind of store has no such setting, or it cannot be read from here), ``error`` (asking failed: the value says why)
FactStatus = Literal["set", "not set", "not available", "error"]


@dataclass(frozen=True, slots=True)
class BucketFact:
    """One line of a bucket's inspector: a label and what the server said. Values are server text: untrusted."""

    label: str
    value: str = ""
    status: FactStatus = "set"


@dataclass(frozen=True, slots=True)
class BucketReport:
    """What a remote tells about one bucket (container): its settings, in the order to show them."""

    name: str
    facts: tuple[BucketFact, ...]
    #: the versioning status that a toggle starts from: "Enabled", "Suspended" or "" (never enabled); None when
    #: versioning cannot be changed here (``Remote.set_versioning`` would refuse)
    versioning: str | None = None


@runtime_checkable
class BucketInspector(Protocol):
    """A remote that can describe a bucket's settings (region, versioning, public access, ownership, object lock).
    Missing configurations are ``not set`` facts, never errors; a missing bucket raises NotFoundError."""

    async def inspect_bucket(self, name: str) -> BucketReport: ...


@runtime_checkable
class Writer(Protocol):
    """A multipart upload (S3 parts, Azure blocks, or a local temporary file written at offsets)."""

    @property
    def upload_id(self) -> str | None: ...

    async def write_part(self, number: int, data: bytes | bytearray, *, content_md5: str | None = None) -> PartResult:
        """Upload part ``number`` (1-based). Parts may be written concurrently and in any order."""
        ...

    async def complete(self, parts: list[PartResult]) -> PutResult: ...

    async def abort(self) -> None:
        """Throw the upload away; nothing is left at the key or on the server. Safe to call twice."""
        ...


@runtime_checkable
class Store(Protocol):
    """One container (bucket, Azure container, or local root)."""

    features: Features

    @property
    def url(self) -> str:
        """Where this store is, for people (``s3://bucket``, ``/home/x``). Never holds secrets."""
        ...

    def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        """Yield pages of entries under ``prefix``, sorted by key (UTF-8 byte order) within the listing.

        With ``recursive=False`` the listing uses the delimiter ``/`` and yields prefixes as entries with
        ``is_prefix=True``. A listing never loads a whole prefix before yielding its first page.
        """
        ...

    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """Raise NotFoundError when the key (or version) is not there."""
        ...

    def read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` of an object. ``if_match`` pins the ETag: a changed object raises
        SourceChangedError before any byte is yielded."""
        ...

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
        """Write a small object in one request."""
        ...

    async def open_writer(
        self,
        key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        part_size: int = 8 * 1024 * 1024,
    ) -> Writer:
        """Start a multipart upload; every part but the last has ``part_size`` bytes."""
        ...

    async def delete(self, key: str, *, version_id: str | None = None) -> None: ...

    async def copy(
        self,
        src_key: str,
        dst_key: str,
        *,
        src_version_id: str | None = None,
        metadata: dict[str, str] | None = None,
        src_container: str | None = None,
    ) -> PutResult:
        """Server-side copy (CopyObject) from ``src_container`` (default: this one) on the same remote. Local
        stores copy the file."""
        ...

    def list_versions(self, prefix: str = "", *, exact: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        """Every version and delete marker under ``prefix`` (or of exactly the key ``prefix``), newest first per
        key. Raises UnsupportedError when ``features.versions`` is false."""
        ...

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str: ...

    async def close(self) -> None: ...


@runtime_checkable
class ExclusiveWriter(Protocol):
    """A writer that can complete only if nothing is at the key yet (``If-None-Match: *`` on
    CompleteMultipartUpload): a 412 raises PreconditionFailed and the upload stays open for ``abort``."""

    async def complete_if_absent(self, parts: list[PartResult]) -> PutResult: ...


@runtime_checkable
class LocalSource(Protocol):
    """A store whose objects are local files (resume journal, re-stat after an upload, rclone's md5chksum)."""

    def read_path(self, key: str) -> Path: ...


@runtime_checkable
class ResumableStore(Protocol):
    """A store whose multipart uploads outlive the process: they can be journaled, found again and resumed."""

    def journal_target(self) -> tuple[str, str, str]:
        """(remote name, endpoint URL, bucket) as the resume journal records them: never credentials."""
        ...

    def resume_writer(self, key: str, upload_id: str) -> Writer: ...

    async def list_parts(self, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
        """The parts the server holds for an unfinished upload: number -> (ETag, size)."""
        ...


@runtime_checkable
class ListsUploads(Protocol):
    """A store that can list the unfinished multipart uploads on its server, the journal's and everyone else's."""

    async def list_uploads(self, prefix: str = "") -> list[UploadInfo]:
        """Every unfinished multipart upload whose key starts with ``prefix``, in key order."""
        ...

    async def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort one of them; an upload that is gone already is not an error."""
        ...


@runtime_checkable
class PartCopyWriter(Protocol):
    """A writer whose parts can be copied server-side from another key on the same remote (UploadPartCopy).
    Only used where ``Features.part_copy`` says the server really copies (rclone's writes empty parts)."""

    async def copy_part(
        self,
        number: int,
        src_key: str,
        start: int,
        end: int,
        *,
        src_version_id: str | None = None,
        src_bucket: str | None = None,
    ) -> PartResult:
        """Bytes ``[start, end)`` of ``src_key`` (in ``src_bucket``, default: the writer's own) become part
        ``number``."""
        ...


@runtime_checkable
class LocalTarget(Protocol):
    """A store whose keys are local paths to write (the engine refuses a copy onto its own source)."""

    def path(self, key: str) -> Path: ...


@runtime_checkable
class StorageClasses(Protocol):
    """A store whose objects have storage classes that a write can choose (S3's StorageClass)."""

    def with_storage_class(self, name: str) -> Store:
        """The same container, writing every new object in storage class ``name``."""
        ...


@runtime_checkable
class InContainer(Protocol):
    """A store that is one container (S3 bucket, Azure container) of a remote. Server-side copies name it as
    their source (``Store.copy(src_container=)``, ``PartCopyWriter.copy_part(src_bucket=)``)."""

    @property
    def bucket(self) -> str: ...


class ReadStream(Protocol):
    """An open GET: what the response said about the object, then its bytes."""

    @property
    def info(self) -> ObjectInfo:
        """The object as the GET's own response headers describe it: size of the whole object (not of the
        range), ETag, LastModified, version, Content-Type and the user metadata (``x-amz-meta-*``, keys in lower
        case: rclone's ``mtime`` and ``md5chksum``); ``partial`` false."""
        ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class StreamOf:
    """A ReadStream over an async iterator of chunks and the info taken from the response."""

    def __init__(self, info: ObjectInfo, chunks: AsyncIterator[bytes], close: Callable[[], Awaitable[None]]) -> None:
        self._info = info
        self._chunks = chunks
        self._close = close

    @property
    def info(self) -> ObjectInfo:
        return self._info

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def aclose(self) -> None:
        await self._close()


@runtime_checkable
class InfoReader(Protocol):
    """A store whose GET answers what ``stat`` would (metadata, content type, encryption) in its headers, so a
    copy from a listing needs one request per object, not a HEAD and a GET.

    ``open_read`` sends the GET and returns once the response headers are in; the caller reads the stream to the
    end or closes it (``aclose``). Errors are those of ``read`` (``if_match`` on a changed object raises
    SourceChangedError before any byte)."""

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> ReadStream: ...


@runtime_checkable
class Remote(Protocol):
    """An account or endpoint: holds the client (kept open for the app's life) and the bucket operations.

    Made by the hub from its registry of backends (``tui.storage.hub.BACKENDS``, keyed by location kind)."""

    @property
    def name(self) -> str: ...

    @property
    def features(self) -> Features:
        """What the remote's stores can do (every store of a remote shares them)."""
        ...

    @property
    def region(self) -> str | None:
        """The default region for new buckets (None where a remote has no regions)."""
        ...

    def container_name_problem(self, name: str) -> str | None:
        """Why ``name`` cannot be a bucket (container) here, or None: the UI checks as the user types."""
        ...

    async def credentials_expire(self) -> datetime | None:
        """When the credentials in use expire (SSO, assumed roles, SAS tokens); None for long-lived ones or when
        unknown. A presigned link cannot outlive them."""
        ...

    def store(self, bucket: str) -> Store: ...

    async def list_buckets(self) -> list[BucketInfo]: ...

    async def create_bucket(self, name: str, *, region: str | None = None, versioning: bool = False) -> list[str]:
        """Create a private bucket. Returns warnings (e.g. the server has no Block Public Access)."""
        ...

    async def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket; a bucket with objects raises ConflictError."""
        ...

    async def get_versioning(self, bucket: str) -> str | None: ...

    async def set_versioning(self, bucket: str, enabled: bool) -> None: ...

    async def close(self) -> None: ...
