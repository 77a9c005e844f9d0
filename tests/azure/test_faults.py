"""Azure under faults: the fault proxy (tests/faults/proxy.py) between the engine and Azurite.

503s, connection resets and truncated bodies must be TransientErrors that the engine's retry loop repeats, per
block; a storm that outlasts the retries fails with one line and leaves the old blob as it was.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.faults.proxy import FaultProxy, RequestRecord
from tui.errors import TransientError, one_line
from tui.storage.azure.store import AzureStore
from tui.storage.local import LocalStore
from tui.transfer.copy import CopyOptions, copy_object
from tui.transfer.retry import RetryPolicy

MiB = 1024 * 1024
PART = 5 * MiB
FAST = RetryPolicy(attempts=6, base=0.01, cap=0.05)


def put_block(rec: RequestRecord) -> bool:
    return rec.method == "PUT" and rec.query.get("comp") == "block"


def get_blob(rec: RequestRecord) -> bool:
    return rec.method == "GET" and "comp" not in rec.query and "restype" not in rec.query


async def test_blocks_survive_503_resets_and_a_failed_commit(
    proxied: tuple[FaultProxy, AzureStore], tmp_path: Path
) -> None:
    proxy, store = proxied
    data = os.urandom(3 * PART + 99)
    (tmp_path / "f.bin").write_bytes(data)
    proxy.add_rule(match=put_block, action="status", status=503, code="ServerBusy", times=2)
    proxy.add_rule(match=put_block, action="reset", times=1)
    proxy.add_rule(match=lambda r: r.query.get("comp") == "blocklist", action="status", status=500, times=1)
    options = CopyOptions(part_size=PART, concurrency=2, retry=FAST)
    await copy_object(LocalStore(tmp_path), "f.bin", store, "f.bin", options=options)
    blocks = [r for r in proxy.records if put_block(r)]
    assert len(blocks) == 4 + 3  # every block once, and the three that failed again
    assert sum(1 for r in proxy.records if r.query.get("comp") == "blocklist") == 2
    got = b"".join([c async for c in store.read("f.bin")])
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


async def test_a_truncated_download_is_read_again(proxied: tuple[FaultProxy, AzureStore], tmp_path: Path) -> None:
    proxy, store = proxied
    data = os.urandom(2 * PART + 5)
    (tmp_path / "up.bin").write_bytes(data)
    await copy_object(LocalStore(tmp_path), "up.bin", store, "d.bin", options=CopyOptions(part_size=PART, retry=FAST))
    proxy.add_rule(match=get_blob, action="truncate", times=1)
    proxy.add_rule(match=get_blob, action="status", status=503, times=1)
    down = tmp_path / "down"
    down.mkdir()
    await copy_object(store, "d.bin", LocalStore(down), "d.bin", options=CopyOptions(part_size=PART, retry=FAST))
    assert (down / "d.bin").read_bytes() == data
    assert sum(1 for r in proxy.records if get_blob(r)) == 3 + 2


async def test_a_storm_past_the_retries_fails_in_one_line_and_keeps_the_old_blob(
    proxied: tuple[FaultProxy, AzureStore], tmp_path: Path
) -> None:
    proxy, store = proxied
    await store.put("keep.bin", b"old")
    before = await store.stat("keep.bin")
    (tmp_path / "new.bin").write_bytes(os.urandom(2 * PART))
    proxy.add_rule(match=put_block, action="status", status=503, code="ServerBusy", times=None)
    with pytest.raises(TransientError) as failed:
        await copy_object(
            LocalStore(tmp_path),
            "new.bin",
            store,
            "keep.bin",
            options=CopyOptions(part_size=PART, retry=RetryPolicy(attempts=2, base=0.01, cap=0.02)),
        )
    text = one_line(failed.value)
    assert "503" in text and len(text.splitlines()) == 1
    proxy.clear_rules()
    after = await store.stat("keep.bin")
    assert (after.etag, after.size) == (before.etag, before.size)
    assert b"".join([c async for c in store.read("keep.bin")]) == b"old"


async def test_a_reset_in_the_middle_of_a_block_and_a_503_on_commit_are_retried(
    proxied: tuple[FaultProxy, AzureStore], tmp_path: Path
) -> None:
    """The connection dies after 1 MiB of a block's body (the block is sent again from its first byte: the body
    is rewound, not resumed), and Put Block List answers 503 once: the blob is whole and committed once."""
    proxy, store = proxied
    data = os.urandom(3 * PART + 5)
    (tmp_path / "f.bin").write_bytes(data)
    proxy.add_rule(match=put_block, action="reset", after_bytes=1 * MiB, times=1)
    commit = lambda r: r.query.get("comp") == "blocklist"  # noqa: E731
    proxy.add_rule(match=commit, action="status", status=503, code="ServerBusy", times=1)
    await copy_object(
        LocalStore(tmp_path), "f.bin", store, "f.bin", options=CopyOptions(part_size=PART, concurrency=2, retry=FAST)
    )
    blocks = [r for r in proxy.records if put_block(r)]
    assert len(blocks) == 4 + 1
    cut = [r for r in blocks if r.fault == "reset"]
    assert len(cut) == 1 and MiB <= cut[0].bytes_in < PART
    assert [r.status for r in proxy.records if commit(r)] == [503, 201]
    got = b"".join([c async for c in store.read("f.bin")])
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    committed, _ = await store.container.get_blob_client("f.bin").get_block_list("committed")
    assert len(committed) == 4
