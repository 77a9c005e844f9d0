"""``cloudpane transfers --server az://c --abort``: Azure cannot delete uncommitted blocks, so nothing is aborted and
the command says so (it used to print "aborted:" for a no-op); the journal row of that upload (a synthetic id that
starts with the nonce the service lists) is forgotten; one a live process owns is "in use". The real ``cloudpane``
against Azurite, with a real staged block."""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
from pathlib import Path

from tests.faults.test_cli_faults import finish, start
from tests.servers import AzuriteServer
from tui.storage.azure.store import AzureStore
from tui.transfer.journal import Journal


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def env_for(server: AzuriteServer, state: Path) -> dict[str, str]:
    env = {**os.environ, **server.env(), "CLOUDPANE_STATE_DIR": str(state)}
    env.pop("CLOUDPANE_DEBUG", None)
    return env


async def staged(container: AzureStore, key: str) -> str:
    writer = await container.open_writer(key)
    await writer.write_part(1, b"s" * 100)
    assert writer.upload_id is not None
    return writer.upload_id


async def test_server_abort_on_azure_says_nothing_was_aborted(
    container: AzureStore, azurite_server: AzuriteServer, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    upload_id = await staged(container, "s.bin")
    with Journal(state / "transfers.sqlite3") as journal:
        row = journal.start(
            remote="az",
            endpoint="azure+" + container.remote.endpoint_url,
            bucket=container.bucket,
            key="s.bin",
            upload_id=upload_id,
            source=str(tmp_path / "s.bin"),
            size=100,
            mtime_ns=1,
            part_size=100,
        )
        journal.part_done(row, 1, md5_b64(b"s" * 100), 100)
    with sqlite3.connect(state / "transfers.sqlite3") as raw:
        raw.execute("UPDATE uploads SET owner = ''")  # as a killed process leaves it: nobody owns it
    env = env_for(azurite_server, state)
    code, out, err = await finish(await start(env, tmp_path, "transfers", "--server", f"az://{container.bucket}"))
    nonce = upload_id.partition(".")[0]
    assert (code, out.strip()) == (0, f"az://{container.bucket}/s.bin {nonce}"), err

    code, out, err = await finish(
        await start(env, tmp_path, "transfers", "--server", f"az://{container.bucket}", "--abort")
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("not aborted, nothing to abort on Azure"), out
    assert lines[0].endswith(f"az://{container.bucket}/s.bin {nonce}"), out
    # the journal forgets the upload (matched by its nonce); the service still holds the block, untouched
    with Journal(state / "transfers.sqlite3") as journal:
        assert journal.unfinished() == []
    assert [u.upload_id for u in await container.list_uploads("s.bin")] == [nonce]


async def test_server_abort_on_azure_leaves_an_upload_in_use(
    container: AzureStore, azurite_server: AzuriteServer, tmp_path: Path
) -> None:
    """A journal row owned by a live process (this one): "in use", matched by the nonce the service lists."""
    state = tmp_path / "state"
    state.mkdir()
    upload_id = await staged(container, "u.bin")
    with Journal(state / "transfers.sqlite3") as journal:
        journal.start(
            remote="az",
            endpoint="azure+" + container.remote.endpoint_url,
            bucket=container.bucket,
            key="u.bin",
            upload_id=upload_id,
            source=str(tmp_path / "u.bin"),
            size=100,
            mtime_ns=1,
            part_size=100,
        )  # not released: owned by this (live) test process
        env = env_for(azurite_server, state)
        code, out, err = await finish(
            await start(env, tmp_path, "transfers", "--server", f"az://{container.bucket}", "--abort")
        )
        assert code == 0, err
        assert out.strip().startswith("in use, not aborted: "), out
        assert len(journal.unfinished()) == 1
