"""The real ``cloudpane`` executable through the fault proxy: retries in the summary line, a kill between
CreateMultipartUpload and the journal, and a destination created by someone else during a copy.

The proxy runs in the test's event loop, so the CLI runs as an asyncio subprocess.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import cloudpane_command
from tests.faults.proxy import FaultProxy, RequestRecord
from tests.faults.test_faults import payload, pending_uploads, sha256
from tests.servers import S3Server

MiB = 1024 * 1024
CLI_TIMEOUT_S = 90


def cli_env(server: S3Server, endpoint: str, state: Path) -> dict[str, str]:
    env = {**os.environ, **server.env(), "AWS_ENDPOINT_URL": endpoint, "CLOUDPANE_STATE_DIR": str(state)}
    env.update(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="2", PYTHONUNBUFFERED="1")
    env.pop("CLOUDPANE_DEBUG", None)
    return env


async def start(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *cloudpane_command(),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )


async def finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise AssertionError("cloudpane did not finish") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def run(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, str]:
    return await finish(await start(env, cwd, *args))


@pytest.fixture
def state(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


async def test_the_summary_line_counts_retries(
    fault_proxy: FaultProxy, moto_server: S3Server, bucket: str, s3: Any, tmp_path: Path, state: Path
) -> None:
    """A SlowDown storm on one part: the copy succeeds and the summary says how many retries it took."""
    data = payload(50, 12 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    rule = fault_proxy.add_rule(op="UploadPart", part=2, action="status", status=503, code="SlowDown", times=6)
    env = cli_env(moto_server, fault_proxy.url, state)
    code, _out, err = await run(env, tmp_path, "cp", "big.bin", f"s3://{bucket}/big.bin")
    assert code == 0, err
    assert rule.fired == 6
    last = err.splitlines()[-1]
    found = re.fullmatch(r"cloudpane: copied 1 file\(s\), 12\.0 MiB, (\d+) retr(?:y|ies)", last)
    assert found, last
    # botocore tries each request twice itself: six failures are at least three of our retries
    assert 3 <= int(found.group(1)) <= 6, last
    assert sha256(s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()) == sha256(data)


@pytest.mark.parametrize("cleanup", ["rerun", "transfers-abort"])
async def test_a_kill_between_create_and_the_journal_leaves_no_orphan(
    cleanup: str,
    fault_proxy: FaultProxy,
    moto_server: S3Server,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    state: Path,
) -> None:
    """SIGKILL right after the server created the multipart upload, before the client heard of its id. Today that
    upload is untracked forever; now the journal's intent row leads the next run (or ``transfers --abort``) to it."""
    data = payload(51, 12 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    created = asyncio.Event()
    release = asyncio.Event()

    async def hold(rec: RequestRecord) -> None:
        created.set()
        await release.wait()

    fault_proxy.add_rule(op="CreateMultipartUpload", action="hold", hook=hold)
    env = cli_env(moto_server, fault_proxy.url, state)
    proc = await start(env, tmp_path, "cp", "big.bin", f"s3://{bucket}/big.bin")
    try:
        async with asyncio.timeout(CLI_TIMEOUT_S):
            await created.wait()
        proc.send_signal(signal.SIGKILL)
        await proc.communicate()
    finally:
        release.set()
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    orphans = pending_uploads(s3, bucket)
    assert [key for key, _ in orphans] == ["big.bin"], "the server never created the upload"
    fault_proxy.clear_rules()

    code, out, err = await run(env, tmp_path, "transfers")
    assert code == 0, err
    assert len(out.splitlines()) == 1 and "(starting; the process was killed)" in out, out

    if cleanup == "rerun":
        code, out, err = await run(env, tmp_path, "cp", "big.bin", f"s3://{bucket}/big.bin")
        assert code == 0, err
        assert sha256(s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()) == sha256(data)
    else:
        code, out, err = await run(env, tmp_path, "transfers", "--abort")
        assert code == 0, err
        assert out.startswith("aborted: "), out
    assert pending_uploads(s3, bucket) == [], "the orphan upload is still on the server"
    code, out, err = await run(env, tmp_path, "transfers")
    assert (code, out) == (0, "no unfinished uploads\n"), err


async def test_a_destination_created_during_the_copy_is_a_conflict_not_an_overwrite(
    fault_proxy: FaultProxy, moto_server: S3Server, bucket: str, s3: Any, tmp_path: Path, state: Path
) -> None:
    """``cp -r`` lists the destination (nothing there), then another client writes both keys just before our
    PutObject and our CompleteMultipartUpload. With If-None-Match: * both are refused (exit 5) and the other
    client's objects stay; today's main overwrites them."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "small.txt").write_bytes(b"ours\n")
    big = payload(52, 12 * MiB)
    (src / "big.bin").write_bytes(big)

    def other_client(key: str, body: bytes) -> Any:
        async def write(rec: RequestRecord) -> None:
            await asyncio.to_thread(s3.put_object, Bucket=bucket, Key=key, Body=body)

        return write

    fault_proxy.add_rule(
        op="PutObject", key="dst/small.txt", action="hook", hook=other_client("dst/small.txt", b"theirs")
    )
    fault_proxy.add_rule(
        op="CompleteMultipartUpload", key="dst/big.bin", action="hook", hook=other_client("dst/big.bin", b"theirs too")
    )
    env = cli_env(moto_server, fault_proxy.url, state)
    code, out, err = await run(env, tmp_path, "cp", "-r", "src/", f"s3://{bucket}/dst/")
    assert code == 5, (out, err)
    failed = [line for line in err.splitlines() if line.startswith("cloudpane: failed: ")]
    assert len(failed) == 2 and all("created by someone else during the copy; not overwritten" in f for f in failed), (
        err
    )
    assert s3.get_object(Bucket=bucket, Key="dst/small.txt")["Body"].read() == b"theirs"
    assert s3.get_object(Bucket=bucket, Key="dst/big.bin")["Body"].read() == b"theirs too"
    assert pending_uploads(s3, bucket) == []


async def test_a_single_file_whose_destination_appears_during_the_copy_is_a_conflict(
    moto_server: S3Server, fault_proxy: FaultProxy, s3: Any, bucket: str, tmp_path: Path, state: Path
) -> None:
    """One file, no listing: the HEAD that found nothing makes the write If-None-Match too."""
    (tmp_path / "one.txt").write_bytes(b"ours\n")

    async def write(rec: RequestRecord) -> None:
        await asyncio.to_thread(s3.put_object, Bucket=bucket, Key="one.txt", Body=b"theirs")

    fault_proxy.add_rule(op="PutObject", key="one.txt", action="hook", hook=write)
    env = cli_env(moto_server, fault_proxy.url, state)
    code, out, err = await run(env, tmp_path, "cp", "one.txt", f"s3://{bucket}/one.txt")
    assert code == 5, (out, err)
    assert "created by someone else during the copy; not overwritten" in err, err
    assert s3.get_object(Bucket=bucket, Key="one.txt")["Body"].read() == b"theirs"


async def test_a_folder_download_is_one_get_per_file(
    moto_server: S3Server, fault_proxy: FaultProxy, s3: Any, bucket: str, tmp_path: Path, state: Path
) -> None:
    """Size and ETag come from the listing, rclone's mtime from the GET's own headers: no HEAD per file."""
    mtime = "1700000000.5"
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"p/f{i}.txt", Body=f"file {i}".encode(), Metadata={"mtime": mtime})
    env = cli_env(moto_server, fault_proxy.url, state)
    since = fault_proxy.mark()
    code, out, err = await run(env, tmp_path, "cp", "-r", f"s3://{bucket}/p/", "dl/")
    assert code == 0, (out, err)
    ops = fault_proxy.ops(since)
    assert "HeadObject" not in ops, ops
    assert ops.count("GetObject") == 3, ops
    for i in range(3):
        got = tmp_path / "dl" / f"f{i}.txt"
        assert got.read_bytes() == f"file {i}".encode()
        assert got.stat().st_mtime == 1700000000.5  # from the GET's x-amz-meta-mtime
