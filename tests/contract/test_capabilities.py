"""Capabilities are visible: what the engine checks with isinstance / Features holds for the real stores, and the
hub hands out ``Remote``s from its registry. Against the session's moto server; nothing mocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contract.helpers import empty_and_delete_bucket, new_bucket_name
from tests.servers import S3Server
from tui.config import load_settings
from tui.locations import parse_location
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
