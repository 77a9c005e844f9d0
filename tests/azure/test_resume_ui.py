"""The TUI's resume offer (tui/ui/resume.py) with an Azure journal row: the row is shown, checked and discarded on
its Azure container, not looked up as an S3 bucket (``destination`` used to build an ``s3`` Location for every row).
Against Azurite: the row is a real block upload with one staged block."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.servers import AzuriteServer
from tui.config import Settings
from tui.storage.azure.store import AzureStore
from tui.storage.hub import StoreHub
from tui.transfer.journal import Journal, JournalUpload
from tui.ui.resume import describe, destination, discard, server_state

DATA = b"r" * 1000


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def staged_row(container: AzureStore, journal: Journal, source: Path, key: str) -> JournalUpload:
    """A journaled upload of ``source`` to ``key`` with block 1 staged (uncommitted) on the service."""
    source.write_bytes(DATA)  # noqa: ASYNC240 - a tiny fixture file
    writer = await container.open_writer(key)
    await writer.write_part(1, DATA[:500])
    row = journal.start(
        remote="az",
        endpoint="azure+" + container.remote.endpoint_url,
        bucket=container.bucket,
        key=key,
        upload_id=writer.upload_id,
        source=str(source),
        size=len(DATA),
        mtime_ns=1,
        part_size=500,
    )
    journal.part_done(row, 1, md5_b64(DATA[:500]), 500)
    journal.release(row)
    (found,) = journal.unfinished()
    return found


def test_destination_of_an_azure_row_is_its_container() -> None:
    row = JournalUpload(
        id=1,
        remote="az",
        endpoint="http://127.0.0.1:1/acct",
        bucket="cont",
        key="d/f.bin",
        upload_id="x",
        source="/tmp/f.bin",
        size=1,
        mtime_ns=0,
        part_size=1,
        created=datetime.now(UTC),
        kind="azure",
    )
    assert str(destination(row)) == "az://cont/d/f.bin"
    named = destination(replace(row, remote="work"))
    assert (named.kind, named.remote, str(named)) == ("azure", "work", "work:cont/d/f.bin")
    s3_row = destination(replace(row, kind="s3", remote="s3"))
    assert str(s3_row) == "s3://cont/d/f.bin"


async def test_resume_offer_checks_and_discards_an_azure_row(
    container: AzureStore, azurite_server: AzuriteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_server.connection_string)
    for var in ("AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        row = await staged_row(container, journal, tmp_path / "r.bin", "r.bin")
        assert row.kind == "azure"
        assert f"→ az://{container.bucket}/r.bin" in describe(row, journal)
        async with StoreHub(Settings()) as hub:
            store = await hub.store(destination(row))
            assert isinstance(store, AzureStore) and store.bucket == container.bucket
            assert store.journal_target()[0] == row.remote
            # the staged block is on the service: the upload is pending (S3 would not know the bucket)
            assert await server_state(hub, row) == "pending"
            assert await discard(hub, journal, [row]) == []
        assert journal.unfinished() == []
