"""Capabilities are visible: what the engine checks with isinstance / Features holds for the real stores, and the
hub hands out ``Remote``s from its registry. Against the session's moto server; nothing mocked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.contract.helpers import empty_and_delete_bucket, new_bucket_name
from tests.servers import AzuriteServer, S3Server
from tui.config import load_settings
from tui.locations import parse_location
from tui.storage.azure_account import sas_expiry
from tui.storage.base import (
    MAX_PRESIGN,
    ExclusiveWriter,
    InContainer,
    InfoReader,
    ListsUploads,
    LocalSource,
    LocalTarget,
    PartCopyWriter,
    Remote,
    ResumableStore,
)
from tui.storage.hub import BACKENDS, StoreHub
from tui.storage.local import LocalStore
from tui.storage.s3 import S3Remote


async def test_the_hub_gives_s3_remotes_that_declare_what_they_can_do(
    moto_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    assert "s3" in BACKENDS
    async with StoreHub(load_settings()) as hub:
        bucket = new_bucket_name()
        loc = parse_location(f"s3://{bucket}/k")
        remote = await hub.remote(loc)
        assert isinstance(remote, Remote)
        assert await hub.remote(parse_location("s3://other/x")) is remote  # one client per remote
        assert remote.container_name_problem("Bad_Name") is not None
        assert remote.container_name_problem("good-name") is None
        assert await remote.credentials_expire() is None  # static keys never expire
        assert remote.features.presign and remote.features.max_presign == MAX_PRESIGN
        assert hub.same_remote(loc, parse_location("s3://other/x"))
        assert not hub.same_remote(loc, parse_location(str(tmp_path)))
        await remote.create_bucket(bucket)
        try:
            store = await hub.store(loc)
            assert isinstance(store, InContainer) and store.bucket == bucket
            assert isinstance(store, ResumableStore) and isinstance(store, ListsUploads)
            assert not isinstance(store, LocalSource) and not isinstance(store, LocalTarget)
            assert store.features.ranged_reads
            writer = await store.open_writer("k")
            try:
                assert isinstance(writer, PartCopyWriter) and isinstance(writer, ExclusiveWriter)
            finally:
                await writer.abort()
        finally:
            assert isinstance(remote, S3Remote)
            await empty_and_delete_bucket(remote, bucket, None)


def test_local_stores_are_local_and_in_no_container(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert isinstance(store, LocalSource) and isinstance(store, LocalTarget)
    assert not isinstance(store, InContainer) and not isinstance(store, ResumableStore)
    assert not isinstance(store, InfoReader)
    assert store.features.ranged_reads


async def test_the_hub_gives_azure_accounts_from_the_same_registry(
    azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azure is one entry of the registry: the hub's az:// remote is a Remote, its stores name their container."""
    for name, value in azurite_server.env().items():
        monkeypatch.setenv(name, value)
    assert "azure" in BACKENDS
    async with StoreHub(load_settings()) as hub:
        container = new_bucket_name()
        loc = parse_location(f"az://{container}/k")
        remote = await hub.remote(loc)
        assert isinstance(remote, Remote)
        assert await hub.remote(parse_location("az://other/x")) is remote
        assert hub.same_remote(loc, parse_location("az://other/x"))
        assert not hub.same_remote(loc, parse_location("s3://other/x"))
        assert remote.container_name_problem("Bad_Name") is not None
        assert remote.container_name_problem("good-name") is None
        assert await remote.credentials_expire() is None  # a shared key does not expire
        await remote.create_bucket(container)
        try:
            store = await hub.store(loc)
            assert isinstance(store, InContainer) and store.bucket == container
        finally:
            await remote.delete_bucket(container)


def test_a_sas_token_says_when_it_expires() -> None:
    assert sas_expiry("sv=2024-08-04&se=2030-01-02T03:04:05Z&sig=abc") == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sas_expiry("?sv=2024-08-04&sig=abc") is None
    assert sas_expiry(None) is None
