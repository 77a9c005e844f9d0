"""Small helpers shared by the contract tests."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tui.storage.azure.store import AzureStore
from tui.storage.base import Entry, Store, utf8_key
from tui.storage.local import TMP_MARK, LocalStore
from tui.storage.s3 import S3Remote, S3Store


def new_bucket_name() -> str:
    """A fresh bucket name: lower case, 3-63 characters (rclone refuses names shorter than 3)."""
    return f"ct-{uuid.uuid4().hex[:16]}"


def kind_of(store: Store) -> str:
    """``local``, ``moto``, ``rclone`` or ``azurite``."""
    if isinstance(store, LocalStore):
        return "local"
    if isinstance(store, AzureStore):
        return "azurite"
    assert isinstance(store, S3Store)
    return store.remote.name


def is_s3(store: Store) -> bool:
    return isinstance(store, S3Store)


def is_azure(store: Store) -> bool:
    return isinstance(store, AzureStore)


def is_file_backed(store: Store) -> bool:
    """Objects are files on a POSIX filesystem: every ``/``-separated component is limited to 255 bytes.

    No Features flag says so (see the report): the local store and ``rclone serve s3`` over a directory.
    """
    return kind_of(store) in ("local", "rclone")


async def read_all(store: Store, key: str, **kwargs: object) -> bytes:
    chunks = [chunk async for chunk in store.read(key, **kwargs)]  # type: ignore[arg-type]
    return b"".join(chunks)


async def pages_of(store: Store, prefix: str = "", **kwargs: object) -> list[list[Entry]]:
    return [page async for page in store.list(prefix, **kwargs)]  # type: ignore[arg-type]


async def keys_of(store: Store, prefix: str = "", **kwargs: object) -> list[str]:
    return [e.key for page in await pages_of(store, prefix, **kwargs) for e in page]


async def versions_of(store: Store, prefix: str = "", **kwargs: object) -> list[list[Entry]]:
    return [page async for page in store.list_versions(prefix, **kwargs)]  # type: ignore[arg-type]


def utf8_sorted(keys: list[str]) -> list[str]:
    return sorted(keys, key=utf8_key)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def key_of_utf8_bytes(total: int, *, component_limit: int | None) -> str:
    """A key of exactly ``total`` UTF-8 bytes, mostly two-byte ``é``; with ``component_limit`` every
    ``/``-separated component stays within that many bytes."""
    if component_limit is None:
        key = "é" * (total // 2) + "x" * (total % 2)
    else:
        parts: list[str] = []
        left = total
        while left > component_limit:
            part = "é" * ((component_limit - 55) // 2)  # well inside the limit, leaves room for the rest
            parts.append(part)
            left -= len(part.encode()) + 1
        parts.append("x" * left)
        key = "/".join(parts)
    assert len(key.encode("utf-8")) == total, len(key.encode("utf-8"))
    return key


def temp_files_under(root: Path) -> list[str]:
    """Names of the LocalStore's temporary files anywhere below ``root``."""
    found: list[str] = []
    for _dirpath, _dirnames, filenames in os.walk(root):
        found.extend(name for name in filenames if TMP_MARK in name)
    return found


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


async def http_get(url: str) -> bytes:
    """GET a URL on the loopback test servers (never anywhere else)."""
    assert url.startswith("http://127.0.0.1:"), url

    def fetch() -> bytes:
        with _DIRECT.open(url, timeout=10) as resp:
            data: bytes = resp.read()
            return data

    return await asyncio.to_thread(fetch)


async def empty_and_delete_bucket(remote: S3Remote, bucket: str, storage_dir: Path | None) -> None:
    """Remove a test bucket with everything in it, one DeleteObject per key.

    One request per key on purpose: DeleteObjects sends keys in an XML body, which cannot carry control
    characters such as the key of ``test_control_character_key``.
    """
    client: Any = await remote.sdk()
    try:
        await client.head_bucket(Bucket=bucket)
    except ClientError:
        return  # the test deleted it already (or never made it)
    kwargs: dict[str, Any] = {"Bucket": bucket}
    while True:
        try:
            resp = await client.list_multipart_uploads(**kwargs)
        except ClientError as exc:
            # rclone answers NoSuchUpload for a bucket that never had an upload
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise
            break
        for upload in resp.get("Uploads", []):
            await client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        if not resp.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = resp.get("NextKeyMarker")
        kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker")
    if remote.features.versions:
        kwargs = {"Bucket": bucket}
        while True:
            resp = await client.list_object_versions(**kwargs)
            for item in [*resp.get("Versions", []), *resp.get("DeleteMarkers", [])]:
                await client.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
            if not resp.get("IsTruncated"):
                break
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker")
    kwargs = {"Bucket": bucket}
    while True:
        resp = await client.list_objects_v2(**kwargs)
        for obj in resp.get("Contents", []):
            await client.delete_object(Bucket=bucket, Key=obj["Key"])
        if not resp.get("IsTruncated"):
            break
        kwargs["ContinuationToken"] = resp["NextContinuationToken"]
    try:
        await client.delete_bucket(Bucket=bucket)
    except ClientError:
        # a file-backed server (rclone) may keep empty directories that make the bucket look non-empty
        if storage_dir is None:
            raise
        # (rclone keeps an empty directory after an aborted multipart upload, and its directory cache still
        # calls the bucket non-empty after the directory is gone: remove it on disk, as tests.servers.reset does)
        shutil.rmtree(storage_dir / bucket, ignore_errors=True)
