"""Block uploads, metadata and containers on Azure (Azurite), through the engine's generic copy where it matters.

What the store contract (tests/contract) cannot see from the protocol: the committed block list, the blob's
Content-MD5, rclone's metadata, an old blob surviving a failed or cancelled upload, S3 <-> Azure streams.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import urllib.error
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContentSettings

from tests.azure.conftest import new_container_name
from tests.contract.helpers import empty_and_delete_bucket, http_get, new_bucket_name
from tests.servers import S3Server
from tui.errors import CloudpaneError, ConflictError, NotFoundError, UnsupportedError, UsageError, one_line
from tui.storage.azure.remote import AzureRemote
from tui.storage.azure.store import AzureStore
from tui.storage.local import LocalStore
from tui.storage.meta import MD5_KEY, MTIME_KEY
from tui.storage.options import S3Options
from tui.storage.s3 import S3Remote
from tui.transfer.copy import Bandwidth, CopyOptions, copy_object
from tui.transfer.retry import RetryPolicy

MiB = 1024 * 1024
PART = 5 * MiB


async def read_all(store: Any, key: str) -> bytes:
    return b"".join([chunk async for chunk in store.read(key)])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def committed_ids(store: AzureStore, key: str) -> list[str]:
    committed, _uncommitted = await store.container.get_blob_client(key).get_block_list("committed")
    return [str(b.id) for b in committed]


# ------------------------------------------------------------------------------------------- block uploads


async def test_local_upload_in_blocks_with_md5_and_mtime(container: AzureStore, tmp_path: Path) -> None:
    data = os.urandom(3 * PART + 12345)
    (tmp_path / "big.bin").write_bytes(data)
    os.utime(tmp_path / "big.bin", ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    local = LocalStore(tmp_path)
    await copy_object(local, "big.bin", container, "up/big.bin", options=CopyOptions(part_size=PART, concurrency=3))
    ids = await committed_ids(container, "up/big.bin")
    assert len(ids) == 4
    assert len({len(i) for i in ids}) == 1  # equal-length block ids, as Azure requires
    # <upload nonce><part><the block's MD5>, base64 only on the wire
    assert all(len(i) == 45 and i[16:21].isdigit() for i in ids), ids
    assert [int(i[16:21]) for i in ids] == [1, 2, 3, 4]
    assert [i[21:] for i in ids] == [
        base64.b64encode(hashlib.md5(data[n * PART : (n + 1) * PART]).digest()).decode() for n in range(4)
    ]
    info = await container.stat("up/big.bin")
    assert info.size == len(data)
    # rclone's conventions: the whole blob's MD5 as Content-MD5 (not md5chksum metadata), mtime metadata
    assert info.checksums["md5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert MD5_KEY not in info.metadata
    assert info.metadata[MTIME_KEY] == "1700000000.123456789"
    assert info.storage_class == "Hot"
    assert info.encrypted_etag  # an Azure ETag is no MD5: the engine must not compare it with one
    got = await read_all(container, "up/big.bin")
    assert sha256(got) == sha256(data)


async def test_more_blocks_than_allowed_are_refused(container: AzureStore) -> None:
    writer = await container.open_writer("many", part_size=PART)
    with pytest.raises(UsageError):
        await writer.write_part(50_001, b"x")
    assert container.features.max_parts == 50_000


async def test_a_bad_block_md5_is_refused_and_the_old_blob_stays(container: AzureStore) -> None:
    await container.put("keep.bin", b"the old content", metadata={"mtime": "1600000000"})
    before = await container.stat("keep.bin")
    writer = await container.open_writer("keep.bin", part_size=PART, metadata={"mtime": "1700000000"})
    first = await writer.write_part(1, b"a" * 1024)
    assert first.size == 1024
    with pytest.raises(CloudpaneError):
        await writer.write_part(2, b"b" * 1024, content_md5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    await writer.abort()
    after = await container.stat("keep.bin")
    assert (after.etag, after.size, after.metadata) == (before.etag, before.size, before.metadata)
    assert await read_all(container, "keep.bin") == b"the old content"


async def test_a_cancelled_upload_over_a_blob_leaves_it_intact(container: AzureStore, tmp_path: Path) -> None:
    await container.put("big.bin", b"old blob", metadata={"mtime": "1600000000"})
    before = await container.stat("big.bin")
    (tmp_path / "big.bin").write_bytes(os.urandom(8 * PART))
    local = LocalStore(tmp_path)
    task = asyncio.create_task(
        copy_object(
            local,
            "big.bin",
            container,
            "big.bin",
            # 20 MiB/s: the 40 MiB upload takes 2 s, long enough to cancel it halfway on a slow machine
            options=CopyOptions(part_size=PART, concurrency=1, bandwidth=Bandwidth(20 * MiB)),
        )
    )
    blob = container.container.get_blob_client("big.bin")
    for _ in range(600):  # wait for the first staged block (at most 30 s)
        _committed, uncommitted = await blob.get_block_list("uncommitted")
        if uncommitted or task.done():
            break
        await asyncio.sleep(0.05)
    assert not task.done(), "the upload finished before it could be cancelled"
    assert uncommitted, "no block was staged"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await container.stat("big.bin")
    assert (after.etag, after.size) == (before.etag, before.size)
    assert await read_all(container, "big.bin") == b"old blob"
    assert await committed_ids(container, "big.bin") == []  # still the one Put Blob, no block list


# ------------------------------------------------------------------------------------------- across stores


@pytest.fixture
async def moto_remote_for_azure(moto_server: S3Server) -> Any:
    remote = await S3Remote.connect(
        S3Options(
            name="moto",
            endpoint_url=moto_server.endpoint_url,
            access_key_id=moto_server.access_key,
            secret_access_key=moto_server.secret_key,
            region=moto_server.region,
        )
    )
    bucket = new_bucket_name()
    await remote.create_bucket(bucket)
    try:
        yield remote.store(bucket)
    finally:
        await empty_and_delete_bucket(remote, bucket, None)
        await remote.close()


async def test_s3_to_azure_and_back_streams_in_parts(container: AzureStore, moto_remote_for_azure: Any) -> None:
    s3 = moto_remote_for_azure
    data = os.urandom(2 * PART + 777)
    await s3.put("src.bin", data, metadata={"mtime": "1650000000.5", "color": "blue"})
    options = CopyOptions(part_size=PART, concurrency=4)
    await copy_object(s3, "src.bin", container, "from-s3.bin", options=options)
    assert len(await committed_ids(container, "from-s3.bin")) == 3
    info = await container.stat("from-s3.bin")
    assert info.metadata == {"mtime": "1650000000.5", "color": "blue"}
    assert sha256(await read_all(container, "from-s3.bin")) == sha256(data)
    await copy_object(container, "from-s3.bin", s3, "back.bin", options=options)
    assert sha256(await read_all(s3, "back.bin")) == sha256(data)
    assert (await s3.stat("back.bin")).metadata["mtime"] == "1650000000.5"


async def test_copy_inside_the_account_is_server_side(container: AzureStore, az_remote: AzureRemote) -> None:
    other_name = new_container_name()
    await az_remote.create_bucket(other_name)
    other = az_remote.store(other_name)
    try:
        await container.put("a.txt", b"content", metadata={"mtime": "1600000000"}, content_type="text/plain")
        # same_remote: Copy Blob on the service, no byte through this process
        await copy_object(container, "a.txt", other, "b/a.txt", same_remote=True)
        info = await other.stat("b/a.txt")
        assert info.content_type == "text/plain"
        assert info.metadata["mtime"] == "1600000000"
        copy_props = (await other.container.get_blob_client("b/a.txt").get_blob_properties()).copy
        assert copy_props.status == "success" and copy_props.id  # made by Copy Blob, not a Put
        assert await read_all(other, "b/a.txt") == b"content"
    finally:
        await other.container.delete_container()


# ------------------------------------------------------------------------------------------- metadata


async def test_metadata_names_azure_refuses_are_kept_as_azcopy_renames_them(container: AzureStore) -> None:
    await container.put(
        "m", b"x", metadata={"x-thing": "1", "Content-Lang": "en", "mtime": "1600000000", "ok_name": "2"}
    )
    info = await container.stat("m")
    assert info.metadata == {"x-thing": "1", "content-lang": "en", "mtime": "1600000000", "ok_name": "2"}
    raw = (await container.container.get_blob_client("m").get_blob_properties()).metadata
    assert {k.lower(): v for k, v in raw.items()} == {
        "rename_x_thing": "1",
        "rename_key_x_thing": "x-thing",
        "rename_content_lang": "en",
        "rename_key_content_lang": "Content-Lang",
        "mtime": "2020-09-13T12:26:40.000000000Z",  # rclone's azureblob form, read back as seconds (above)
        "ok_name": "2",
    }


# ------------------------------------------------------------------------------------------- containers


async def test_containers_private_listed_and_deleted_only_when_empty(az_remote: AzureRemote) -> None:
    name = new_container_name()
    assert await az_remote.create_bucket(name) == []
    try:
        names = [b.name for b in await az_remote.list_buckets()]
        assert name in names and names == sorted(names)
        store = az_remote.store(name)
        await store.put("obj", b"data")
        # private: an anonymous GET is refused
        with pytest.raises(urllib.error.HTTPError) as refused:
            await http_get(f"{az_remote.endpoint_url}/{name}/obj")
        assert refused.value.code in (401, 403, 404)
        props = await store.container.get_container_properties()
        assert props.public_access is None
        # a presigned link works
        assert await http_get(await store.presign("obj", expires=timedelta(minutes=5))) == b"data"
        with pytest.raises(ConflictError) as exists:
            await az_remote.create_bucket(name)
        assert exists.value.exit_code == 5
        with pytest.raises(ConflictError) as not_empty:
            await az_remote.delete_bucket(name)
        assert "not empty" in one_line(not_empty.value)
        assert await read_all(store, "obj") == b"data"  # nothing was deleted
        await store.delete("obj")
        await az_remote.delete_bucket(name)
        assert name not in [b.name for b in await az_remote.list_buckets()]
        with pytest.raises(NotFoundError):
            await az_remote.delete_bucket(name)
    finally:
        with contextlib.suppress(ResourceNotFoundError):
            await az_remote.client.get_container_client(name).delete_container()


async def test_refusals_are_one_line(az_remote: AzureRemote, container: AzureStore) -> None:
    with pytest.raises(UnsupportedError) as versioning:
        await az_remote.create_bucket(new_container_name(), versioning=True)
    with pytest.raises(UsageError) as region:
        await az_remote.create_bucket(new_container_name(), region="westeurope")
    with pytest.raises(UnsupportedError) as versions:
        async for _page in container.list_versions("k"):
            pass
    with pytest.raises(NotFoundError) as missing:
        async for _page in az_remote.store("no-such-container").list(""):
            pass
    for exc in (versioning.value, region.value, versions.value, missing.value):
        assert len(one_line(exc).splitlines()) == 1
    assert "ContainerNotFound" in str(missing.value)


# ------------------------------------------------------------------------------------------- integrity


@pytest.mark.parametrize("size", [1000, 2 * PART + 5])
async def test_a_download_that_does_not_match_content_md5_fails(
    container: AzureStore, tmp_path: Path, size: int
) -> None:
    """The blob's Content-MD5 is what the source vouches for (rclone checks it too): bytes that hash otherwise fail
    the copy, and nothing lands at the destination."""
    data = os.urandom(size)
    (tmp_path / "src.bin").write_bytes(data)
    options = CopyOptions(part_size=PART, concurrency=2, retry=RetryPolicy(attempts=1))
    await copy_object(LocalStore(tmp_path), "src.bin", container, "x.bin", options=options)
    good = await container.stat("x.bin")
    assert good.checksums["md5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    down = tmp_path / "down"
    down.mkdir()
    await copy_object(container, "x.bin", LocalStore(down), "ok.bin", options=options)
    assert (down / "ok.bin").read_bytes() == data
    # a blob whose Content-MD5 does not match its bytes (set by another tool, or corrupted)
    wrong = bytearray(hashlib.md5(b"something else").digest())
    await container.container.get_blob_client("x.bin").set_http_headers(ContentSettings(content_md5=wrong))
    with pytest.raises(CloudpaneError) as failed:
        await copy_object(container, "x.bin", LocalStore(down), "bad.bin", options=options)
    assert "MD5" in str(failed.value)
    assert sorted(p.name for p in down.iterdir()) == ["ok.bin"]  # no bad.bin, no temporary file
