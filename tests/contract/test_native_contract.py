"""The native data plane's edges (obstore under S3Store), on both S3 servers (moto and rclone serve s3).

The store contract suite already runs every read and recursive listing through the native client where it applies;
these tests pin what is new: the GET's own response describes the object (one request per download), ranged reads
fall back where the server answers 200 (rclone), If-Match still pins the ETag, keys object_store cannot express
still list and read exactly, one credential chain (botocore's, refreshable) feeds both planes, and no secret
reaches a message.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.contract.conftest import REMOTES, Backend
from tests.contract.helpers import empty_and_delete_bucket, keys_of, md5_b64, new_bucket_name, read_all
from tests.servers import S3Server
from tui.errors import AuthError, SourceChangedError
from tui.storage.base import InfoReader
from tui.storage.meta import MD5_KEY, MTIME_KEY
from tui.storage.s3 import S3Options, S3Remote, S3Store
from tui.storage.s3_data import CredentialProvider, native_key, native_prefix


@pytest.fixture(params=REMOTES)
def s3_backend(request: pytest.FixtureRequest) -> Backend:
    kind: str = request.param
    return Backend(kind, request.getfixturevalue(f"{kind}_server"), request.getfixturevalue(f"{kind}_remote"))


@pytest.fixture
async def s3(s3_backend: Backend) -> AsyncIterator[S3Store]:
    remote = s3_backend.remote
    assert remote is not None and s3_backend.server is not None
    bucket = new_bucket_name()
    client: Any = await remote.sdk()
    await client.create_bucket(Bucket=bucket)
    store = remote.store(bucket)
    try:
        yield store
    finally:
        await empty_and_delete_bucket(remote, bucket, s3_backend.server.storage_dir)


async def _drain(stream: Any) -> bytes:
    out = bytearray()
    async for chunk in stream:
        out += chunk
    return bytes(out)


async def test_the_native_client_is_on(s3: S3Store) -> None:
    # every other test here would pass on the SDK alone: make sure the native plane is what they exercise
    assert s3.native is not None
    assert isinstance(s3, InfoReader)


async def test_open_read_reports_the_object_from_the_get_itself(s3: S3Store) -> None:
    data = b"rclone metadata rides on the GET\n" * 100
    meta = {MTIME_KEY: "1700000000.123456789", MD5_KEY: md5_b64(data)}
    await s3.put("d/k.txt", data, metadata=meta, content_type="text/plain", content_md5=md5_b64(data))
    head = await s3.stat("d/k.txt")
    stream = await s3.open_read("d/k.txt")
    info = stream.info
    assert await _drain(stream) == data
    assert info.size == len(data) == head.size
    assert info.etag == head.etag == hashlib.md5(data).hexdigest()
    assert info.metadata[MTIME_KEY] == meta[MTIME_KEY]  # lower case even where the server changes the case
    assert info.metadata[MD5_KEY] == meta[MD5_KEY]
    assert info.content_type == "text/plain"
    assert info.mtime == datetime.fromtimestamp(1700000000.123456789, tz=UTC)
    assert info.last_modified is not None


async def test_a_ranged_open_read_reports_the_whole_size(s3: S3Store) -> None:
    data = bytes(range(256)) * 64
    await s3.put("r.bin", data, content_md5=md5_b64(data))
    stream = await s3.open_read("r.bin", start=100, end=1100)
    assert await _drain(stream) == data[100:1100]
    assert stream.info.size == len(data)


async def test_ranged_reads_are_right_where_the_server_answers_200(s3: S3Store, s3_backend: Backend) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    await s3.put("big.bin", data, content_md5=md5_b64(data))
    if s3_backend.kind == "rclone":
        # the measured quirk, so that the fallback stays needed and stays chosen
        assert s3.features.partial_content is False
        assert s3.native is not None
        with pytest.raises(Exception, match="non-partial"):
            _, chunks = await s3.native.open_read(s3.bucket, "big.bin", start=10, end=20, what="probe")
            await _drain(chunks)
    else:
        assert s3.features.partial_content is True
    for start, end in ((0, 1), (1, 1000), (4096, 700_000), (len(data) - 5, len(data)), (12345, None)):
        assert await read_all(s3, "big.bin", start=start, end=end) == data[start:end], (start, end)


async def test_if_match_pins_the_etag_on_native_reads(s3: S3Store) -> None:
    await s3.put("m", b"first", content_md5=md5_b64(b"first"))
    old = (await s3.stat("m")).etag
    assert old is not None
    await s3.put("m", b"second!", content_md5=md5_b64(b"second!"))
    # rclone ignores If-Match: the store compares the ETag of the answer itself, whole or ranged
    with pytest.raises(SourceChangedError):
        await read_all(s3, "m", if_match=old)
    with pytest.raises(SourceChangedError):
        await read_all(s3, "m", start=1, end=3, if_match=old)
    new = (await s3.stat("m")).etag
    assert await read_all(s3, "m", if_match=new) == b"second!"


async def test_keys_object_store_cannot_express_still_list_and_read(s3: S3Store, s3_backend: Backend) -> None:
    keys = ["a/1", "a/b\tc", "a/z", "b/ok"]  # a tab: object_store refuses it (InvalidPathError)
    if s3.features.folder_markers:
        keys += ["a/dir/", "a//twice", "a/./dot"]
    assert not native_key("a/b\tc") and not native_prefix("a//")
    for key in keys:
        await s3.put(key, key.encode(), content_md5=md5_b64(key.encode()))
    assert await keys_of(s3, "", recursive=True) == sorted(keys, key=lambda k: k.encode())
    assert await keys_of(s3, "a/", recursive=True) == sorted((k for k in keys if k.startswith("a/")), key=str.encode)
    for key in keys:
        if not key.endswith("/"):
            assert await read_all(s3, key) == key.encode()


async def test_a_listing_of_many_pages_is_complete_and_sorted(s3: S3Store) -> None:
    keys = [f"p/{i:04d}" for i in range(25)] + ["p/ü", "p/~"]
    for key in keys:
        await s3.put(key, b"x", content_md5=md5_b64(b"x"))
    pages = [page async for page in s3.list("p/", recursive=True, page_size=10)]
    assert all(pages)
    got = [e.key for page in pages for e in page]
    assert got == sorted(keys, key=str.encode)
    assert all(e.size == 1 and e.etag == hashlib.md5(b"x").hexdigest() for page in pages for e in page)
    # the same entries the SDK lists (the native listing must not change `ls --json`)
    client: Any = await s3.sdk()
    sdk = await client.list_objects_v2(Bucket=s3.bucket, Prefix="p/")
    by_key = {e.key: e for page in pages for e in page}
    for o in sdk["Contents"]:
        e = by_key[o["Key"]]
        assert (e.size, e.etag, e.storage_class) == (o["Size"], o["ETag"].strip('"'), o.get("StorageClass"))
        assert e.last_modified is not None and abs((e.last_modified - o["LastModified"]).total_seconds()) < 1


async def test_one_credential_chain_from_the_environment(
    s3_backend: Backend, s3: S3Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = s3_backend.server
    assert server is not None
    await s3.put("env", b"from env", content_md5=md5_b64(b"from env"))
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    remote = await S3Remote.connect(S3Options(name=server.name, endpoint_url=server.endpoint_url))
    try:
        assert remote.native is not None
        store = remote.store(s3.bucket)
        # rclone checks SigV4: this works only if the native client got botocore's keys
        assert await read_all(store, "env") == b"from env"
        assert await keys_of(store, "", recursive=True) == ["env"]
    finally:
        await remote.close()


async def test_a_wrong_secret_is_an_auth_error_without_the_secret(rclone_server: S3Server) -> None:
    secret = "not-the-secret-but-secret-looking-0123456789"
    remote = await S3Remote.connect(
        S3Options(
            name="rclone",
            endpoint_url=rclone_server.endpoint_url,
            access_key_id=rclone_server.access_key,
            secret_access_key=secret,
            region=rclone_server.region,
            full_s3=False,
        )
    )
    try:
        store = remote.store("any-bucket")
        with pytest.raises(AuthError) as caught:
            await read_all(store, "k")
        assert secret not in str(caught.value)
        with pytest.raises(AuthError) as caught:
            await keys_of(store, "", recursive=True)
        assert secret not in str(caught.value)
    finally:
        await remote.close()


async def test_refreshable_credentials_refresh() -> None:
    from botocore.credentials import RefreshableCredentials

    issued: list[str] = []

    def refresh() -> dict[str, str]:
        issued.append(f"AKIA{len(issued):04d}")
        # already inside botocore's mandatory refresh window: every ask refreshes
        expiry = datetime.now(UTC) + timedelta(minutes=1)
        return {"access_key": issued[-1], "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}

    creds = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    provider = CredentialProvider(creds, refreshable=True)
    first = await provider()
    second = await provider()
    assert first["access_key_id"] != second["access_key_id"]
    assert second["access_key_id"] == issued[-1]
    assert second["token"] == "t"
    assert second["expires_at"] is not None  # so object_store asks again
    assert "s" not in repr(provider).replace("CredentialProvider", "")
