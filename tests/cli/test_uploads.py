"""Multipart uploads that belong to someone: two processes on one file, and the server's own list of orphans."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, cloudpane_command

MiB = 1024 * 1024


def _pending(s3: Any, bucket: str) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_two_processes_uploading_one_file_to_one_key_both_finish(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    """The first cp is slow (bandwidth-limited) and has journaled its upload; a second cp of the same file to the
    same key starts meanwhile. Today the second takes over the first one's journaled upload, and one of them ends
    up sending parts to a finished upload (exit 1). Now the upload belongs to its live process: the second starts
    its own, both exit 0, the object is the file, and nothing is left pending or journaled."""
    bucket = new_bucket("twice")
    moto_s3.create_bucket(Bucket=bucket)
    data = os.urandom(24 * MiB)
    (tmp_path / "big.bin").write_bytes(data)
    state = tmp_path / "state"
    state.mkdir()
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="1", CLOUDPANE_STATE_DIR=str(state))
    slow = subprocess.Popen(
        [*cloudpane_command(), "cp", "--bwlimit", "1M", "big.bin", f"s3://{bucket}/big.bin"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # the first one's upload is journaled and has a part on the server
            uploads = _pending(moto_s3, bucket)
            if uploads and moto_s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=uploads[0][1]).get("Parts"):
                break
            assert slow.poll() is None, "the slow upload finished before the second one started"
            assert time.monotonic() < deadline, "the slow upload sent no part"
            time.sleep(0.02)
        fast = cli.run("cp", "big.bin", f"s3://{bucket}/big.bin")
        assert slow.poll() is None, "the slow upload was over before the second one ended: nothing overlapped"
        out, err = slow.communicate(timeout=60)
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.communicate()
    fast.check(0)
    assert slow.returncode == 0, (out, err)
    assert err.decode().splitlines()[-1] == "cloudpane: copied 1 file(s), 24.0 MiB", err
    assert moto_s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
    assert _pending(moto_s3, bucket) == []
    assert cli.run("transfers").check(0).stdout_lines == ["no unfinished uploads"]


def test_transfers_server_lists_and_aborts_orphans(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    """Uploads nobody journaled (another tool's, a killed run's) are listed from the server and aborted there,
    under the prefix given and nowhere else."""
    bucket = new_bucket("orphans")
    moto_s3.create_bucket(Bucket=bucket)
    a1 = moto_s3.create_multipart_upload(Bucket=bucket, Key="a/one.bin")["UploadId"]
    a2 = moto_s3.create_multipart_upload(Bucket=bucket, Key="a/two.bin")["UploadId"]
    b1 = moto_s3.create_multipart_upload(Bucket=bucket, Key="b/one.bin")["UploadId"]

    listed = moto_cli.run("transfers", "--server", f"s3://{bucket}/a/").check(0)
    assert len(listed.stdout_lines) == 2, listed
    assert f"s3://{bucket}/a/one.bin {a1}" in listed.stdout and f"s3://{bucket}/a/two.bin {a2}" in listed.stdout
    assert b1 not in listed.stdout

    # moto reports every upload as started in 2010: an age filter cannot be trusted there, so it is refused
    refused = moto_cli.run("transfers", "--server", f"s3://{bucket}/", "--older-than", "1h")
    assert "does not say when uploads started" in refused.one_error_line(2), refused
    assert "--older-than goes with --server" in moto_cli.run("transfers", "--older-than", "1h").one_error_line(2)

    aborted = moto_cli.run("transfers", "--server", f"s3://{bucket}/a/", "--abort").check(0)
    assert [line.split(" ")[0] for line in aborted.stdout_lines] == ["aborted:", "aborted:"], aborted
    assert _pending(moto_s3, bucket) == [("b/one.bin", b1)]
    assert moto_cli.run("transfers", "--server", f"s3://{bucket}/a/").check(0).stdout_lines == ["no unfinished uploads"]
    moto_s3.abort_multipart_upload(Bucket=bucket, Key="b/one.bin", UploadId=b1)


def test_rclone_ignores_if_none_match_so_a_copy_into_an_empty_prefix_writes_plainly(
    rclone_cli: Cli, rclone_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    """rclone's server ignores If-None-Match (Features.conditional_writes is false): a copy that found nothing
    at the destination must not ask for it (the store would refuse), small and multipart alike."""
    bucket = new_bucket("rcnm")
    rclone_s3.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "small.txt").write_bytes(b"small\n")
    big = os.urandom(11 * MiB)
    (src / "big.bin").write_bytes(big)
    cli = rclone_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_STATE_DIR=str(tmp_path / "state"))
    cli.run("cp", "-r", "src/", f"s3://{bucket}/dst/").check(0)
    assert rclone_s3.get_object(Bucket=bucket, Key="dst/small.txt")["Body"].read() == b"small\n"
    assert rclone_s3.get_object(Bucket=bucket, Key="dst/big.bin")["Body"].read() == big
