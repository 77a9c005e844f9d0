"""Integrity from the source's bytes to the stored object, through the fault proxy in front of moto.

moto does not check Content-MD5 (measured), so a bit flipped on the way is stored as sent unless the engine
compares the ETag it gets back (the MD5 of what the server stored) with the MD5 it sent. And a local file edited
in place while it uploads must not end up stored with the ``md5chksum`` of the file as it was.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.faults.proxy import FaultProxy, RequestRecord
from tests.faults.test_faults import (
    KEY,
    PART,
    SERIAL,
    SIZE,
    TIMEOUT_S,
    payload,
    pending_uploads,
    remote_keys,
    remote_sha256,
    sha256,
    source_file,
)
from tui.errors import SourceChangedError
from tui.storage.base import ChecksumMismatchError
from tui.storage.s3 import S3Remote
from tui.transfer.copy import CopyOptions, copy_object
from tui.transfer.journal import Journal, owner_token
from tui.transfer.retry import RetryCounter, RetryPolicy

MiB = 1024 * 1024
#: quick retries: these tests count attempts, they do not time them
FAST = RetryPolicy(attempts=3, base=0.01, floor=0.01)


@pytest.mark.parametrize("op", ["UploadPart", "PutObject"])
async def test_a_flipped_bit_is_retried_then_fails_and_nothing_bad_is_left(
    op: str, fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    """Every try of one part (or of the one PUT) has a bit flipped toward the server: the ETag the server answers
    is not the MD5 sent, so the engine tries again, gives up after its attempts, and leaves neither an object nor
    an upload behind. Without the ETag check moto keeps the damaged object and the copy says it succeeded."""
    size = SIZE if op == "UploadPart" else MiB
    data = payload(40, size)
    counter = RetryCounter()
    options = CopyOptions(part_size=PART, concurrency=4, retry=replace(FAST, counter=counter))
    rule = fault_proxy.add_rule(op=op, part=2 if op == "UploadPart" else None, action="corrupt", times=None)
    async with asyncio.timeout(TIMEOUT_S):
        with pytest.raises(ChecksumMismatchError, match="other bytes than were sent"):
            await copy_object(
                source_file(tmp_path, data), "src.bin", proxied_remote.store(bucket), KEY, options=options
            )
    assert rule.fired == FAST.attempts, "each try was sent (and damaged) once: retried, then failed"
    assert counter.count == FAST.attempts - 1
    damaged = fault_proxy.find(op, part=2 if op == "UploadPart" else None)
    assert len(damaged) == FAST.attempts
    assert all(r.fault == "corrupt" and r.status == 200 for r in damaged), "the server took them as sent"
    assert remote_keys(s3, bucket) == [], "a damaged object was left at the key"
    assert pending_uploads(s3, bucket) == []


@pytest.mark.parametrize("op", ["UploadPart", "PutObject"])
async def test_a_flipped_bit_once_is_sent_again(
    op: str, fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    size = SIZE if op == "UploadPart" else MiB
    data = payload(41, size)
    options = CopyOptions(part_size=PART, concurrency=4, retry=FAST)
    rule = fault_proxy.add_rule(op=op, part=3 if op == "UploadPart" else None, action="corrupt", times=1)
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(source_file(tmp_path, data), "src.bin", proxied_remote.store(bucket), KEY, options=options)
    assert rule.fired == 1
    assert remote_sha256(s3, bucket, KEY) == sha256(data), "the stored object is not the source"
    assert pending_uploads(s3, bucket) == []


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["edited", "edited-mtime-restored"])
@pytest.mark.parametrize("journaled", [False, True], ids=["no-journal", "journal"])
async def test_a_file_edited_during_its_upload_fails_and_leaves_nothing(
    keep_mtime: bool,
    journaled: bool,
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
) -> None:
    """The file is edited in place (same size) once part 1 is on the server and before the later parts are read.
    Today's main stores the new bytes under the old file's md5chksum, exit 0. Now: SourceChangedError naming the
    file, no object, no pending upload (a changed source is not kept for a resume either)."""
    data = payload(42)
    src = source_file(tmp_path, data)
    path = tmp_path / "src" / "src.bin"
    edited: list[int] = []

    def edit(rec: RequestRecord) -> None:
        if edited:
            return
        st = path.stat()
        with open(path, "r+b") as f:
            f.seek(4 * PART + 10)  # inside the last part, which is read after this
            f.write(b"EDITED IN PLACE")
        if keep_mtime:
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        edited.append(rec.part_number or 0)

    fault_proxy.add_rule(op="UploadPart", part=2, action="hook", hook=edit)
    with Journal(tmp_path / "journal.sqlite3") as journal:
        options = replace(SERIAL, retry=FAST, journal=journal if journaled else None)
        async with asyncio.timeout(TIMEOUT_S):
            with pytest.raises(SourceChangedError) as caught:
                await copy_object(src, "src.bin", proxied_remote.store(bucket), KEY, options=options)
        assert journal.unfinished() == []
    assert edited == [2]
    assert str(caught.value) == f"{path}: source changed during upload"
    assert remote_keys(s3, bucket) == []
    assert pending_uploads(s3, bucket) == []


async def test_an_intent_is_resolved_only_when_no_live_process_is_starting_that_key(
    proxied_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    """A dead process's intent and an upload nobody journaled: the next upload to that key aborts the orphan,
    but not while another live process has an intent there (that upload may be the live one's, not journaled
    yet)."""
    data = payload(43)
    src = source_file(tmp_path, data)
    store = proxied_remote.store(bucket)
    path = tmp_path / "journal.sqlite3"
    orphan = s3.create_multipart_upload(Bucket=bucket, Key=KEY)["UploadId"]
    ident = {"remote": proxied_remote.name, "endpoint": "", "bucket": bucket, "key": KEY, "source": "/x", "size": 1}
    live = await asyncio.create_subprocess_exec(sys.executable, "-c", "import time; time.sleep(60)")
    try:
        with Journal(path) as setup:
            dead = setup.intend(**ident, mtime_ns=1, part_size=PART)
            starting = setup.intend(**ident, mtime_ns=2, part_size=PART)
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE uploads SET owner = ? WHERE id = ?", (f"{dead_pid()}:", dead.id))
            raw.execute("UPDATE uploads SET owner = ? WHERE id = ?", (owner_token(live.pid), starting.id))
        with Journal(path) as journal:
            async with asyncio.timeout(TIMEOUT_S):
                await copy_object(src, "src.bin", store, KEY, options=replace(SERIAL, journal=journal))
            assert orphan in {u for _, u in pending_uploads(s3, bucket)}, "aborted under a live process's intent"
            assert {u.id for u in journal.unfinished()} == {dead.id, starting.id}
    finally:
        live.kill()
        await live.wait()
    with Journal(path) as journal:
        async with asyncio.timeout(TIMEOUT_S):
            await copy_object(src, "src.bin", store, KEY, options=replace(SERIAL, journal=journal))
        assert journal.unfinished() == []
    assert pending_uploads(s3, bucket) == []
    assert remote_sha256(s3, bucket, KEY) == sha256(data)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
