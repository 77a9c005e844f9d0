"""An in-memory store with fixed dates, for deterministic UI snapshots only (never for cloud behaviour tests)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tui.config import Settings
from tui.errors import ConflictError, NotFoundError
from tui.locations import Location, validate_bucket_name
from tui.storage.base import (
    BucketFact,
    BucketInfo,
    BucketReport,
    Entry,
    Features,
    ObjectInfo,
    PutResult,
    Store,
    utf8_key,
)
from tui.storage.hub import StoreHub

WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
FEATURES = Features(
    versions=True, server_side_copy=True, conditional_writes=True, buckets=True, presign=True, multipart=True,
    folder_markers=True,
)  # fmt: skip


def aws_version_id(key: str, n: int) -> str:
    """A fixed VersionId of AWS's shape (32 characters of [A-Za-z0-9._])."""
    raw = base64.b64encode(hashlib.sha256(f"{key}#{n}".encode()).digest()).decode()
    return raw.replace("+", ".").replace("/", "_")[:32]


class MemoryStore:
    features = FEATURES

    def __init__(self, bucket: str, objects: dict[str, tuple[bytes, datetime]], *, aws_ids: bool = False) -> None:
        self.bucket = bucket
        self.objects = objects
        self.history: dict[str, list[Entry]] = {}
        #: VersionIds of AWS's shape and length (else short ones like ``v3-README``)
        self.aws_ids = aws_ids

    @property
    def url(self) -> str:
        return f"mem:{self.bucket}"

    def _entry(self, key: str) -> Entry:
        data, when = self.objects[key]
        return Entry(key, len(data), when, hashlib.md5(data).hexdigest(), "STANDARD")

    async def list(
        self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000
    ) -> AsyncIterator[list[Entry]]:
        out: dict[str, Entry] = {}
        for key in self.objects:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            if not recursive and "/" in rest:
                sub = prefix + rest.split("/", 1)[0] + "/"
                out[sub] = Entry(sub, is_prefix=True)
            else:
                out[key] = self._entry(key)
        rows = sorted(out.values(), key=lambda e: utf8_key(e.key))
        for i in range(0, len(rows), page_size):
            yield rows[i : i + page_size]

    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        if key not in self.objects:
            raise NotFoundError(f"stat mem:{self.bucket}/{key}: no such key")
        e = self._entry(key)
        return ObjectInfo(key, e.size or 0, e.last_modified, e.etag, "v-latest", "STANDARD", "text/plain",
                          {"owner": "demo"}, {"crc32": "AAAAAA=="})  # fmt: skip

    async def read(self, key: str, *, start: int = 0, end: int | None = None, version_id: str | None = None,
                   if_match: str | None = None) -> AsyncIterator[bytes]:  # fmt: skip
        data = self.objects[key][0]
        yield data[start:end]

    async def put(self, key: str, data: bytes, **_: object) -> PutResult:
        self.objects[key] = (data, WHEN)
        return PutResult(hashlib.md5(data).hexdigest(), "v-new")

    async def open_writer(self, key: str, **_: object) -> object:
        raise NotImplementedError

    async def delete(self, key: str, *, version_id: str | None = None) -> None:
        self.objects.pop(key, None)

    async def copy(self, src_key: str, dst_key: str, **_: object) -> PutResult:
        self.objects[dst_key] = self.objects[src_key]
        return PutResult()

    async def list_versions(
        self, prefix: str = "", *, exact: bool = False, page_size: int = 1000
    ) -> AsyncIterator[list[Entry]]:
        rows: list[Entry] = []
        for key in sorted(self.objects):
            if (exact and key != prefix) or not key.startswith(prefix):
                continue
            e = self._entry(key)
            for n in range(3):
                vid = aws_version_id(key, n) if self.aws_ids else f"v{3 - n}-{key[:6]}"
                rows.append(replace(e, version_id=vid, is_latest=n == 0,
                                    last_modified=WHEN - timedelta(days=n), size=(e.size or 0) + n))  # fmt: skip
        yield rows

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        return f"https://example.invalid/{self.bucket}/{key}?X-Amz-Signature=0"

    async def close(self) -> None:
        return None


class MemoryRemote:
    features = FEATURES
    region = "us-east-1"
    name = "mem"

    def __init__(self, buckets: dict[str, dict[str, tuple[bytes, datetime]]], *, aws_ids: bool = False) -> None:
        self.buckets = buckets
        self.aws_ids = aws_ids
        self.versioning: dict[str, str] = {}

    def store(self, bucket: str) -> MemoryStore:
        if bucket not in self.buckets:
            raise NotFoundError(f"list mem:{bucket}: NoSuchBucket")
        return MemoryStore(bucket, self.buckets[bucket], aws_ids=self.aws_ids)

    async def get_versioning(self, bucket: str) -> str | None:
        return self.versioning.get(bucket)

    async def set_versioning(self, bucket: str, enabled: bool) -> None:
        self.versioning[bucket] = "Enabled" if enabled else "Suspended"

    async def inspect_bucket(self, name: str) -> BucketReport:
        """``BucketInspector``: fixed settings, one of each status."""
        if name not in self.buckets:
            raise NotFoundError(f"inspect bucket {name}: NoSuchBucket")
        status = self.versioning.get(name, "")
        facts = (
            BucketFact("Region", "eu-central-1"),
            BucketFact("Versioning", status) if status else BucketFact("Versioning", "never enabled", "not set"),
            BucketFact("Block Public Access", "all public access blocked (4 of 4 settings on)"),
            BucketFact("Object ownership", "BucketOwnerEnforced (ACLs disabled)"),
            BucketFact("Object Lock", "", "not set"),
            BucketFact("Default encryption", "", "not available"),
        )
        return BucketReport(name, facts, status)

    async def list_buckets(self) -> list[BucketInfo]:
        return [BucketInfo(name, WHEN) for name in sorted(self.buckets)]

    async def create_bucket(self, name: str, *, region: str | None = None, versioning: bool = False) -> list[str]:
        if name in self.buckets:
            raise ConflictError("BucketAlreadyExists")
        self.buckets[name] = {}
        return []

    async def delete_bucket(self, name: str) -> None:
        self.buckets.pop(name, None)

    def container_name_problem(self, name: str) -> str | None:
        return validate_bucket_name(name)

    async def credentials_expire(self) -> datetime | None:
        return None

    async def close(self) -> None:
        return None


class MemoryHub(StoreHub):
    """Every s3 location resolves to the in-memory remote."""

    def __init__(self, buckets: dict[str, dict[str, tuple[bytes, datetime]]], *, aws_ids: bool = False) -> None:
        super().__init__(Settings())
        self.memory = MemoryRemote(buckets, aws_ids=aws_ids)

    async def remote(self, location: Location) -> MemoryRemote:  # type: ignore[override]
        return self.memory

    async def store(self, location: Location) -> Store:
        assert location.bucket is not None
        store: Store = self.memory.store(location.bucket)  # type: ignore[assignment]
        return store

    def same_remote(self, a: Location, b: Location) -> bool:
        return a.kind == b.kind == "s3"


def sample_buckets() -> dict[str, dict[str, tuple[bytes, datetime]]]:
    photos: dict[str, tuple[bytes, datetime]] = {}
    for month in range(1, 4):
        for n in range(1, 4):
            photos[f"2024/{month:02d}/IMG_{month}{n:03d}.jpg"] = (b"x" * (1000 * n * month), WHEN)
    photos["README.txt"] = (b"Demo photos\n", WHEN)
    photos["notes/todo.txt"] = (b"buy milk\n", WHEN)
    photos["[@click=app.quit]x"] = (b"not a link", WHEN)
    photos["escape-\x1b[31mred"] = (b"not red", WHEN)
    backups = {"db/dump-2025-01-01.sql.gz": (b"y" * 123456, WHEN), ".hidden-marker": (b"", WHEN)}
    return {"photos": photos, "backups": backups, "logs": {}}
