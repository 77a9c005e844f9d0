"""Resuming Azure block uploads: the journal row (kind ``azure``, a synthetic upload id), the uncommitted block
list (``get_block_list("uncommitted")``) and the real ``cloudpane`` killed mid-upload, through the fault proxy
(tests/faults/proxy.py) in front of Azurite, which counts every Put Block."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.faults.proxy import FaultProxy, RequestRecord
from tests.faults.test_cli_faults import finish, run, start
from tests.servers import AzuriteServer
from tui.errors import NotFoundError, TransientError
from tui.storage.azure.store import AzureStore
from tui.storage.local import LocalStore
from tui.storage.meta import MTIME_KEY
from tui.transfer.copy import CopyOptions, copy_object
from tui.transfer.journal import Journal
from tui.transfer.retry import RetryPolicy

MiB = 1024 * 1024
PART = 5 * MiB


def put_block(rec: RequestRecord) -> bool:
    return rec.method == "PUT" and rec.query.get("comp") == "block"


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def committed(store: AzureStore, key: str) -> list[str]:
    blocks, _ = await store.container.get_blob_client(key).get_block_list("committed")
    return [str(b.id) for b in blocks]


async def test_a_failed_upload_is_journaled_and_resumed_from_the_uncommitted_blocks(
    proxied: tuple[FaultProxy, AzureStore], tmp_path: Path
) -> None:
    proxy, store = proxied
    data = os.urandom(6 * PART + 7)
    (tmp_path / "f.bin").write_bytes(data)
    os.utime(tmp_path / "f.bin", ns=(1_700_000_000_000_000_005, 1_700_000_000_000_000_005))
    answered = 0

    def storm_after_three(rec: RequestRecord) -> bool:
        nonlocal answered
        if not put_block(rec):
            return False
        answered += 1
        return answered > 3

    proxy.add_rule(match=storm_after_three, action="status", status=503, code="ServerBusy", times=None)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        options = CopyOptions(part_size=PART, concurrency=1, retry=RetryPolicy(attempts=2, base=0.01), journal=journal)
        with pytest.raises(TransientError):
            await copy_object(LocalStore(tmp_path), "f.bin", store, "f.bin", options=options)
        (row,) = journal.unfinished()
        assert (row.kind, row.key, row.bucket) == ("azure", "f.bin", store.bucket)
        assert row.endpoint == store.remote.endpoint_url  # the account URL, without the kind's prefix
        assert row.upload_id is not None
        assert sorted(journal.parts(row)) == [1, 2, 3]
        on_service = await store.list_parts("f.bin", row.upload_id)
        assert on_service == journal.parts(row)  # the block ids carry each block's MD5
        uploads = await store.list_uploads("f.")
        assert [(u.key, row.upload_id.startswith(u.upload_id + ".")) for u in uploads] == [("f.bin", True)]
        with pytest.raises(NotFoundError):  # nothing committed: no blob
            await store.stat("f.bin")

        proxy.clear_rules()
        since = len(proxy.records)
        await copy_object(LocalStore(tmp_path), "f.bin", store, "f.bin", options=options)
        again = [r for r in proxy.records[since:] if put_block(r)]
        assert len(again) == 7 - 3  # only the blocks the service did not hold
        assert journal.unfinished() == []
    ids = await committed(store, "f.bin")
    assert len(ids) == 7 and len({i[:16] for i in ids}) == 1  # one upload, resumed
    info = await store.stat("f.bin")
    # the resumed writer committed the metadata the upload started with (carried in its synthetic id)
    assert info.checksums["md5"] == md5_b64(data)
    assert info.metadata[MTIME_KEY] == "1700000000.000000005"
    got = b"".join([c async for c in store.read("f.bin")])
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


async def test_a_journal_row_whose_blocks_are_gone_starts_again(container: AzureStore, tmp_path: Path) -> None:
    """A row for a blob the service has nothing of (the blocks expired): the upload starts over, all of it."""
    data = os.urandom(2 * PART + 1)
    (tmp_path / "g.bin").write_bytes(data)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        writer = await container.open_writer("g.bin", part_size=PART)
        info = await LocalStore(tmp_path).stat("g.bin")
        row = journal.start(
            remote="az",
            endpoint="azure+" + container.remote.endpoint_url,
            bucket=container.bucket,
            key="g.bin",
            upload_id=writer.upload_id,
            source=str(tmp_path / "g.bin"),
            size=info.size,
            mtime_ns=info.mtime_ns or 0,
            part_size=PART,
        )
        journal.part_done(row, 1, md5_b64(data[:PART]), PART)  # recorded, but never on the service
        journal.release(row)
        options = CopyOptions(part_size=PART, journal=journal)
        await copy_object(LocalStore(tmp_path), "g.bin", container, "g.bin", options=options)
        assert journal.unfinished() == []
    got = b"".join([c async for c in container.read("g.bin")])
    assert got == data


def cli_env(server: AzuriteServer, blob_endpoint: str, state: Path) -> dict[str, str]:
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={server.access_key};AccountKey={server.secret_key};"
        f"BlobEndpoint={blob_endpoint};"
    )
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": conn, "CLOUDPANE_STATE_DIR": str(state)}
    env.update(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="2", PYTHONUNBUFFERED="1")
    env.pop("CLOUDPANE_DEBUG", None)
    return env


async def test_cp_killed_at_40_percent_resumes_and_stages_at_most_65_percent_again(
    proxied: tuple[FaultProxy, AzureStore], azurite_server: AzuriteServer, tmp_path: Path
) -> None:
    proxy, store = proxied
    blocks = 20
    data = os.urandom(blocks * PART)
    (tmp_path / "big.bin").write_bytes(data)
    state = tmp_path / "state"
    state.mkdir()
    env = cli_env(azurite_server, f"{proxy.url}/{azurite_server.access_key}", state)
    kill_at = 8  # the 8th block's answer never reaches the client: 7 of 20 are journaled (35 %), 8+ staged (40 %)
    reached = asyncio.Event()
    never = asyncio.Event()
    answered = 0

    async def hold(rec: RequestRecord) -> None:
        nonlocal answered
        answered += 1
        if answered >= kill_at:
            reached.set()
            await never.wait()

    proxy.add_rule(match=put_block, action="hold", hook=hold, times=None)
    target = f"az://{store.bucket}/big.bin"
    proc = await start(env, tmp_path, "cp", "big.bin", target)
    try:
        async with asyncio.timeout(90):
            await reached.wait()
        await asyncio.sleep(0.5)  # the answers it did get are journaled
        proc.send_signal(signal.SIGKILL)
        await proc.communicate()
    finally:
        never.set()
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    proxy.clear_rules()
    first = sum(1 for r in proxy.records if put_block(r))
    assert kill_at <= first <= kill_at + 2
    code, out, _ = await run(env, tmp_path, "transfers")
    assert code == 0 and f"-> {target} 35.0 MiB of 100.0 MiB" in out, out

    since = len(proxy.records)
    code, out, err = await run(env, tmp_path, "cp", "big.bin", target)
    assert code == 0, err
    again = sum(1 for r in proxy.records[since:] if put_block(r))
    assert again == blocks - (kill_at - 1)
    assert again <= 0.65 * blocks
    ids = await committed(store, "big.bin")
    assert len(ids) == blocks and len({i[:16] for i in ids}) == 1
    got = b"".join([c async for c in store.read("big.bin")])
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    code, out, _ = await run(env, tmp_path, "transfers")
    assert (code, out.strip()) == (0, "no unfinished uploads")


async def test_transfers_abort_forgets_an_azure_row(
    container: AzureStore, azurite_server: AzuriteServer, tmp_path: Path
) -> None:
    """``transfers --abort`` opens the row's store by its kind: an Azure row is not looked up as an S3 profile."""
    (tmp_path / "h.bin").write_bytes(b"h" * 100)
    state = tmp_path / "state"
    state.mkdir()
    with Journal(state / "transfers.sqlite3") as journal:
        writer = await container.open_writer("h.bin")
        await writer.write_part(1, b"h" * 100)
        row = journal.start(
            remote="az",
            endpoint="azure+" + container.remote.endpoint_url,
            bucket=container.bucket,
            key="h.bin",
            upload_id=writer.upload_id,
            source=str(tmp_path / "h.bin"),
            size=100,
            mtime_ns=1,
            part_size=PART,
        )
        journal.part_done(row, 1, md5_b64(b"h" * 100), 100)
    with sqlite3.connect(state / "transfers.sqlite3") as raw:
        raw.execute("UPDATE uploads SET owner = ''")  # as a killed process leaves it: nobody owns it
    env = cli_env(azurite_server, azurite_server.blob_endpoint, state)
    proc = await start(env, tmp_path, "transfers", "--abort")
    code, out, err = await finish(proc)
    assert code == 0, err
    assert out.startswith("forgotten, nothing to abort on Azure") and f"-> az://{container.bucket}/h.bin" in out, out
    with Journal(state / "transfers.sqlite3") as journal:
        assert journal.unfinished() == []
