"""The Remote contract: bucket operations, on every S3 server (moto, rclone).

The local store has no buckets (``Features.buckets`` is False): ``test_local_store_has_no_buckets`` checks that it
says so. Every bucket a test creates is removed in a ``finally``.
"""

from __future__ import annotations

import urllib.error
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.contract.helpers import empty_and_delete_bucket, http_get, new_bucket_name, read_all
from tui.errors import ConflictError, NotFoundError, UnsupportedError, UsageError
from tui.storage.local import LocalStore
from tui.storage.s3 import S3Remote, S3Store


@pytest.fixture
async def bucket_names(remote: S3Remote) -> AsyncIterator[list[str]]:
    """Names a test creates buckets under; each is emptied and deleted afterwards (if it exists)."""
    names: list[str] = []
    yield names
    for name in names:
        await empty_and_delete_bucket(remote, name, None)


async def _bucket_names(remote: S3Remote) -> list[str]:
    return [b.name for b in await remote.list_buckets()]


def test_local_store_has_no_buckets(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store.features.buckets is False
    assert store.features.versions is False
    assert store.features.presign is False


async def test_remote_features(remote: S3Remote) -> None:
    features = remote.features
    assert features.buckets and features.multipart and features.server_side_copy and features.presign
    if remote.name == "rclone":
        assert not features.versions
        assert not features.conditional_writes
        assert not features.part_copy
        assert not features.folder_markers
    else:
        assert features.versions and features.conditional_writes and features.part_copy and features.folder_markers
    store = remote.store("some-bucket")
    assert isinstance(store, S3Store)
    assert store.features == features
    assert "some-bucket" in store.url


async def test_create_private_bucket(remote: S3Remote, bucket_names: list[str]) -> None:
    name = new_bucket_name()
    bucket_names.append(name)
    warnings = await remote.create_bucket(name)
    assert isinstance(warnings, list)
    if remote.name == "rclone":
        # no Block Public Access (nor ownership controls) on rclone: one warning says so
        assert len(warnings) == 1
        assert "Block Public Access" in warnings[0]
    else:
        assert warnings == []  # moto supports Block Public Access and BucketOwnerEnforced
    buckets = await remote.list_buckets()
    assert name in [b.name for b in buckets]
    assert [b.name for b in buckets] == sorted(b.name for b in buckets)
    mine = next(b for b in buckets if b.name == name)
    assert mine.created is not None and mine.created.tzinfo is not None
    # the new bucket is usable at once, and private: an unsigned GET is refused
    store = remote.store(name)
    await store.put("obj", b"data")
    assert await read_all(store, "obj") == b"data"
    with pytest.raises(urllib.error.HTTPError) as refused:
        await http_get(f"{remote.endpoint_url}/{name}/obj")
    assert refused.value.code in (400, 401, 403)  # rclone says 400, moto 403
    await store.delete("obj")
    await remote.delete_bucket(name)
    assert name not in await _bucket_names(remote)


async def test_create_existing_bucket(remote: S3Remote, bucket_names: list[str]) -> None:
    name = new_bucket_name()
    bucket_names.append(name)
    await remote.create_bucket(name)
    await remote.store(name).put("keep", b"me")
    with pytest.raises(ConflictError):
        await remote.create_bucket(name)
    assert await read_all(remote.store(name), "keep") == b"me"


async def test_delete_non_empty_bucket(remote: S3Remote, bucket_names: list[str]) -> None:
    name = new_bucket_name()
    bucket_names.append(name)
    await remote.create_bucket(name)
    store = remote.store(name)
    await store.put("dir/obj", b"data")
    with pytest.raises(ConflictError):
        await remote.delete_bucket(name)
    assert name in await _bucket_names(remote)
    assert await read_all(store, "dir/obj") == b"data"
    await store.delete("dir/obj")
    await remote.delete_bucket(name)
    assert name not in await _bucket_names(remote)


async def test_delete_missing_bucket(remote: S3Remote) -> None:
    with pytest.raises(NotFoundError):
        await remote.delete_bucket(new_bucket_name())


async def test_missing_bucket_store(remote: S3Remote) -> None:
    store = remote.store(new_bucket_name())
    with pytest.raises(NotFoundError):
        await store.stat("x")
    with pytest.raises(NotFoundError):
        [page async for page in store.list()]
    with pytest.raises(NotFoundError):
        await store.put("x", b"x")


async def test_invalid_bucket_name(remote: S3Remote) -> None:
    with pytest.raises(UsageError):
        await remote.create_bucket("ab")  # shorter than 3 characters


async def test_create_versioned_bucket(remote: S3Remote, bucket_names: list[str]) -> None:
    name = new_bucket_name()
    bucket_names.append(name)
    if not remote.features.versions:
        with pytest.raises(UnsupportedError):
            await remote.create_bucket(name, versioning=True)
        assert name not in await _bucket_names(remote)  # refused before anything was created
        return
    await remote.create_bucket(name, versioning=True)
    assert await remote.get_versioning(name) == "Enabled"
    store = remote.store(name)
    first = await store.put("k", b"1")
    second = await store.put("k", b"2")
    assert first.version_id and second.version_id and first.version_id != second.version_id


async def test_get_and_set_versioning(remote: S3Remote, bucket_names: list[str]) -> None:
    name = new_bucket_name()
    bucket_names.append(name)
    await remote.create_bucket(name)
    assert await remote.get_versioning(name) is None  # never enabled
    if not remote.features.versions:
        with pytest.raises(UnsupportedError):
            await remote.set_versioning(name, True)
        assert await remote.get_versioning(name) is None
        return
    await remote.set_versioning(name, True)
    assert await remote.get_versioning(name) == "Enabled"
    await remote.set_versioning(name, False)
    assert await remote.get_versioning(name) == "Suspended"


async def test_presign_in_a_new_bucket(remote: S3Remote, bucket_names: list[str]) -> None:
    name = new_bucket_name()
    bucket_names.append(name)
    await remote.create_bucket(name)
    store = remote.store(name)
    await store.put("a b/c+d.txt", b"presigned")
    url = await store.presign("a b/c+d.txt", expires=timedelta(minutes=1))
    assert url.startswith(f"{remote.endpoint_url}/")
    assert await http_get(url) == b"presigned"
