"""The SDK-free start of an S3 remote (``S3Remote.connect``'s fast path), on both S3 servers.

A one-key ``ls`` costs less than loading botocore when the configuration is static: the server kind is probed with
one request signed by ``tui.storage.s3_probe`` and one level of a folder is listed natively where keys are paths.
These tests pin that the fast path decides exactly what the SDK decides, and that the listing is the SDK's.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.contract.conftest import REMOTES, Backend
from tests.contract.helpers import empty_and_delete_bucket, md5_b64, new_bucket_name
from tests.servers import S3Server
from tui.storage.s3 import FULL_S3, LIMITED_S3, MOTO_S3, S3Options, S3Remote, S3Store, static_setup
from tui.storage.s3_probe import probe_features


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
    try:
        yield remote.store(bucket)
    finally:
        await empty_and_delete_bucket(remote, bucket, s3_backend.server.storage_dir)


def _options(server: S3Server, **changes: Any) -> S3Options:
    return S3Options(
        name=server.name,
        endpoint_url=server.endpoint_url,
        access_key_id=changes.pop("access_key_id", server.access_key),
        secret_access_key=changes.pop("secret_access_key", server.secret_key),
        region=server.region,
        **changes,
    )


async def test_the_probe_says_what_the_sdk_says(s3_backend: Backend) -> None:
    server, remote = s3_backend.server, s3_backend.remote
    assert server is not None and remote is not None
    kwargs = {"region": server.region, "access_key": server.access_key, "secret_key": server.secret_key}
    fast = await probe_features(
        server.endpoint_url, token=None, full=FULL_S3, limited=LIMITED_S3, moto=MOTO_S3, **kwargs
    )
    assert fast is not None, "the signed probe got no definite answer"
    assert fast == await S3Remote._probe(await remote.sdk())
    assert fast == (LIMITED_S3 if s3_backend.kind == "rclone" else MOTO_S3)


async def test_a_refused_probe_leaves_the_decision_to_the_sdk(rclone_server: S3Server) -> None:
    # rclone checks SigV4: a wrong secret is refused (403), which says nothing about the server's kind
    got = await probe_features(
        rclone_server.endpoint_url,
        region=rclone_server.region,
        access_key=rclone_server.access_key,
        secret_key="wrong-secret",
        token=None,
        full=FULL_S3,
        limited=LIMITED_S3,
        moto=MOTO_S3,
    )
    assert got is None


async def test_a_closed_port_leaves_the_decision_to_the_sdk() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens there once the socket is closed
    got = await probe_features(
        f"http://127.0.0.1:{port}",
        region="us-east-1",
        access_key="a",
        secret_key="b",
        token=None,
        full=FULL_S3,
        limited=LIMITED_S3,
        moto=MOTO_S3,
    )
    assert got is None


async def test_the_fast_connect_opens_no_sdk_until_a_control_call(s3_backend: Backend, s3: S3Store) -> None:
    server = s3_backend.server
    assert server is not None
    options = _options(server)
    assert static_setup(options) is not None
    remote = await S3Remote.connect(options)
    try:
        assert s3_backend.remote is not None and remote.features == s3_backend.remote.features
        with pytest.raises(RuntimeError):
            _ = remote.client
        store = remote.store(s3.bucket)
        await store.put("k", b"v", content_md5=md5_b64(b"v"))  # a control-plane call opens the SDK
        assert remote.client is not None
        assert (await store.stat("k")).size == 1
    finally:
        await remote.close()


def test_static_setup_leaves_profiles_and_refreshable_keys_to_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert static_setup(S3Options()) is None  # nothing static: botocore's chain
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SK")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert static_setup(S3Options()) is None  # no endpoint: AWS itself, resolved by botocore
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    found = static_setup(S3Options())
    assert found is not None and found[:2] == ("http://127.0.0.1:9", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:10")
    assert static_setup(S3Options()) is not None and static_setup(S3Options())[0] == "http://127.0.0.1:10"  # type: ignore[index]
    assert static_setup(S3Options(profile="p")) is None  # a profile chosen: botocore skips the environment
    assert static_setup(S3Options(addressing_style="virtual")) is None
    monkeypatch.setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z")
    assert static_setup(S3Options()) is None  # refreshable environment keys
    monkeypatch.delenv("AWS_CREDENTIAL_EXPIRATION")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.eu-west-1.amazonaws.com")
    assert static_setup(S3Options()) is None  # AWS itself: the SDK's checksums and endpoint rules


async def test_one_level_natively_is_the_sdk_listing(s3: S3Store) -> None:
    keys = ["f/a", "f/b/1", "f/b/2", "f/c/d/e", "f/ü", "f/~", "g/x", "top"]
    for key in keys:
        await s3.put(key, key.encode(), content_md5=md5_b64(key.encode()))
    client: Any = await s3.sdk()
    for prefix in ("", "f/", "f/b/", "f/c/", "nothing/"):
        pages = [page async for page in s3.list(prefix, page_size=2)]
        assert all(0 < len(page) <= 2 for page in pages)
        got = [e for page in pages for e in page]
        sdk = await client.list_objects_v2(Bucket=s3.bucket, Prefix=prefix, Delimiter="/")
        want = sorted(
            [(o["Key"], False, o["Size"], o["ETag"].strip('"'), o.get("StorageClass")) for o in sdk.get("Contents", [])]
            + [(p["Prefix"], True, None, None, None) for p in sdk.get("CommonPrefixes", [])],
            key=lambda t: t[0].encode(),
        )
        assert [(e.key, e.is_prefix, e.size, e.etag, e.storage_class) for e in got] == want, prefix
    f = {e.key: e for page in [p async for p in s3.list("f/")] for e in page}
    assert f["f/a"].etag == hashlib.md5(b"f/a").hexdigest() and f["f/a"].last_modified is not None


async def test_a_key_object_store_refuses_falls_back_to_the_sdk_listing(s3: S3Store) -> None:
    keys = ["t/ok", "t/b\tc", "t/sub/x"]  # a tab: object_store refuses the key
    for key in keys:
        await s3.put(key, b"x", content_md5=md5_b64(b"x"))
    got = [e.key for page in [p async for p in s3.list("t/")] for e in page]
    assert got == ["t/b\tc", "t/ok", "t/sub/"]


async def test_a_proxied_endpoint_is_left_to_the_sdk(rclone_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # the probe speaks to no proxy: where one is configured for the endpoint, botocore (which honours it) decides
    kwargs: dict[str, Any] = {
        "region": rclone_server.region,
        "access_key": rclone_server.access_key,
        "secret_key": rclone_server.secret_key,
        "token": None,
        "full": FULL_S3,
        "limited": LIMITED_S3,
        "moto": MOTO_S3,
    }
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert await probe_features(rclone_server.endpoint_url, **kwargs) is None
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert await probe_features(rclone_server.endpoint_url, **kwargs) == LIMITED_S3


async def test_a_missing_bucket_listed_natively_says_what_the_server_said(rclone_remote: S3Remote) -> None:
    from tui.errors import NotFoundError

    store = rclone_remote.store(new_bucket_name())
    assert store.native is not None and not store.features.folder_markers  # the native listing serves this
    with pytest.raises(NotFoundError, match="NoSuchBucket: The specified bucket does not exist"):
        [page async for page in store.list("x/")]
