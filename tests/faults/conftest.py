"""Fixtures for the fault tests: a fresh fault proxy per test in front of the session's moto server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.faults.proxy import FaultProxy
from tests.servers import S3Server
from tui.storage.s3 import S3Options, S3Remote


@pytest.fixture
async def fault_proxy(moto_server: S3Server) -> AsyncIterator[FaultProxy]:
    """A proxy with no rules yet, forwarding to moto; fails the test if the proxy itself broke."""
    proxy = FaultProxy(moto_server.endpoint_url)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
    assert not proxy.errors, f"the fault proxy itself failed: {proxy.errors!r}"


async def connect_through(proxy: FaultProxy, server: S3Server, **options: Any) -> S3Remote:
    """An S3Remote whose every request goes through ``proxy`` (credentials from ``server``)."""
    return await S3Remote.connect(
        S3Options(
            name="faults",
            endpoint_url=proxy.url,
            access_key_id=server.access_key,
            secret_access_key=server.secret_key,
            region=server.region,
            **options,
        )
    )


@pytest.fixture
async def proxied_remote(fault_proxy: FaultProxy, moto_server: S3Server) -> AsyncIterator[S3Remote]:
    remote = await connect_through(fault_proxy, moto_server)
    try:
        yield remote
    finally:
        await remote.close()


@pytest.fixture
def s3(moto_server: S3Server) -> Iterator[Any]:
    """A boto3 client straight to moto (not through the proxy), for setup and verification."""
    client = moto_server.boto3_client()
    yield client
    client.close()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    """A fresh bucket, emptied and removed afterwards (the moto server is shared by the session)."""
    name = f"faults-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for upload in s3.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)
