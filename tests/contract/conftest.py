"""Fixtures of the store contract suite: one ``store`` fixture, four real stores.

``store`` is parametrized over ``local`` (a LocalStore on a temporary directory), ``moto`` (an S3Store on the
session's moto server, a fresh bucket with versioning enabled per test) and ``rclone`` (an S3Store on the
session's ``rclone serve s3``, a fresh bucket per test) and ``azurite`` (an AzureStore on the session's Azurite, a
fresh container per test, deleted with its blobs afterwards). The S3 remotes (one aiobotocore client each) are
session-scoped and closed at the end; every bucket a test made is emptied (all versions, all unfinished multipart
uploads) and deleted afterwards, so the shared servers stay clean for the rest of the suite.

Nothing is mocked: every call is HTTP to a real server started by ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contract.helpers import empty_and_delete_bucket, new_bucket_name
from tests.servers import AzuriteServer, S3Server
from tui.storage.azure.options import AzureOptions
from tui.storage.azure.remote import AzureRemote
from tui.storage.base import Store
from tui.storage.local import LocalStore
from tui.storage.s3 import S3Options, S3Remote

STORES = ["local", "moto", "rclone", "azurite"]
REMOTES = ["moto", "rclone"]


async def _connect(server: S3Server) -> S3Remote:
    return await S3Remote.connect(
        S3Options(
            name=server.name,
            endpoint_url=server.endpoint_url,
            access_key_id=server.access_key,
            secret_access_key=server.secret_key,
            region=server.region,
        )
    )


@pytest.fixture(scope="session")
async def moto_remote(moto_server: S3Server) -> AsyncIterator[S3Remote]:
    remote = await _connect(moto_server)
    try:
        yield remote
    finally:
        await remote.close()


@pytest.fixture(scope="session")
async def rclone_remote(rclone_server: S3Server) -> AsyncIterator[S3Remote]:
    remote = await _connect(rclone_server)
    try:
        yield remote
    finally:
        await remote.close()


@pytest.fixture(scope="session")
async def azurite_remote(azurite_server: AzuriteServer) -> AsyncIterator[AzureRemote]:
    remote = await AzureRemote.connect(
        AzureOptions(
            name="azurite",
            account_url=azurite_server.blob_endpoint,
            account_name=azurite_server.access_key,
            account_key=azurite_server.secret_key,
        )
    )
    try:
        yield remote
    finally:
        await remote.close()


@dataclass(frozen=True)
class Backend:
    """Which store a test gets: the kind, and for S3 and Azure the session server and remote."""

    kind: str
    server: S3Server | None = None
    remote: S3Remote | AzureRemote | None = None


@pytest.fixture(params=STORES)
def backend(request: pytest.FixtureRequest) -> Backend:
    # a plain fixture: ``getfixturevalue`` of the async session fixtures cannot run inside a running loop
    kind: str = request.param
    if kind == "local":
        return Backend(kind)
    return Backend(kind, request.getfixturevalue(f"{kind}_server"), request.getfixturevalue(f"{kind}_remote"))


@pytest.fixture
async def store(backend: Backend, tmp_path: Path) -> AsyncIterator[Store]:
    """One store per test: ``local``, ``moto`` (versioned bucket), ``rclone`` or ``azurite`` (a fresh container)."""
    if backend.remote is None:
        root = tmp_path / "root"
        root.mkdir()
        local = LocalStore(root)
        yield local
        await local.close()
        return
    assert backend.server is not None
    remote = backend.remote
    bucket = new_bucket_name()
    if isinstance(remote, AzureRemote):
        container = remote.client.get_container_client(bucket)
        await container.create_container()
        azure = remote.store(bucket)
        try:
            yield azure
        finally:
            await container.delete_container()  # with everything in it
        return
    client: Any = await remote.sdk()
    await client.create_bucket(Bucket=bucket)
    if remote.features.versions:
        await client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3 = remote.store(bucket)
    try:
        yield s3
    finally:
        await s3.close()
        await empty_and_delete_bucket(remote, bucket, backend.server.storage_dir)


@pytest.fixture(params=REMOTES)
def remote(request: pytest.FixtureRequest) -> S3Remote:
    """A session S3 remote (bucket operations): ``moto`` or ``rclone``."""
    return request.getfixturevalue(f"{request.param}_remote")  # type: ignore[no-any-return]
