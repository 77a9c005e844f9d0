"""Ctrl-C during a download: exit 130, one line, and neither a partial file nor a temp file is left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, cloudpane_command
from tests.servers import S3Server

MiB = 1024 * 1024
SIZE = 32 * MiB


def test_sigint_during_download_leaves_nothing(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("sigint")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(SIZE))
    dst = tmp_path / "dst"
    dst.mkdir()
    # the smallest parts, one at a time: the download takes long enough to be caught in the middle
    env = {**moto_cli.env, "CLOUDPANE_PART_SIZE": "5MiB", "CLOUDPANE_CONCURRENCY": "1"}
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", f"s3://{bucket}/big.bin", "dst/"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        temp: list[str] = []
        while not temp:
            names = os.listdir(dst)
            # the final name never shows up while the data is still arriving
            assert "big.bin" not in names, names
            temp = [n for n in names if ".cloudpane-tmp-" in n]
            assert proc.poll() is None, "the download finished before it could be interrupted"
            assert time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.002)
        assert temp[0].startswith("big.bin"), temp
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        moto_s3.delete_object(Bucket=bucket, Key="big.bin")
    assert proc.returncode == 130, (out, err)
    assert err.decode().splitlines() == ["cloudpane: interrupted"], err
    assert out == b"", out
    assert os.listdir(dst) == []


def test_sigint_during_upload_keeps_it_for_resume_and_a_rerun_finishes_it(
    moto_cli: Cli, moto_s3: Any, moto_server: S3Server, new_bucket: Any, tmp_path: Path
) -> None:
    """DESIGN: an interrupted upload is kept for resume (journal in the state dir); rerunning the same cp resumes."""
    bucket = new_bucket("sigup")
    moto_s3.create_bucket(Bucket=bucket)
    data = os.urandom(SIZE)
    (tmp_path / "big.bin").write_bytes(data)
    state = tmp_path / "state"  # a journal of this test's own
    state.mkdir()
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="1", CLOUDPANE_STATE_DIR=str(state))
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", "big.bin", f"s3://{bucket}/big.bin"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # interrupt once at least one part is on the server
            uploads = moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            if uploads and moto_s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=uploads[0]["UploadId"]).get(
                "Parts"
            ):
                break
            assert proc.poll() is None, "the upload finished before it could be interrupted"
            assert time.monotonic() < deadline, "no part was uploaded"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (out, err)
    assert err.decode().splitlines() == ["cloudpane: interrupted"], err
    assert moto_s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # nothing half-uploaded is visible
    kept = moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert len(kept) == 1, kept

    listed = cli.run("transfers").check(0)
    assert len(listed.stdout_lines) == 1 and f"s3://{bucket}/big.bin" in listed.stdout, listed

    again = cli.run("cp", "big.bin", f"s3://{bucket}/big.bin").check(0)
    assert again.stderr_lines[-1] == "cloudpane: copied 1 file(s), 32.0 MiB", again
    assert moto_s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
    assert moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # the rerun resumed the kept upload (same UploadId) instead of starting over
    assert moto_server.log_path is not None
    log = moto_server.log_path.read_text(errors="replace")
    used = set(re.findall(rf"PUT /{bucket}/big\.bin\?[^ ]*uploadId=([^& ]+)", log))
    assert used == {kept[0]["UploadId"]}, used
    moto_s3.delete_object(Bucket=bucket, Key="big.bin")
    assert cli.run("transfers").check(0).stdout_lines == ["no unfinished uploads"]


def test_sigint_during_a_sync_upload_keeps_it_and_the_next_sync_resumes_it(
    moto_cli: Cli, moto_s3: Any, moto_server: S3Server, new_bucket: Any, tmp_path: Path
) -> None:
    """sync makes its CopyOptions where cp does, with the resume journal: a multipart upload of a sync that is
    interrupted stays on the server and in the journal, and the next sync continues it (the same UploadId).
    Before, sync passed no journal: the interrupted upload was aborted and the next run started over."""
    bucket = new_bucket("syncup")
    moto_s3.create_bucket(Bucket=bucket)
    data = os.urandom(SIZE)
    side = tmp_path / "side"
    side.mkdir()
    (side / "big.bin").write_bytes(data)
    state = tmp_path / "state"
    state.mkdir()
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="1", CLOUDPANE_STATE_DIR=str(state))
    proc = subprocess.Popen(
        [*cloudpane_command(), "sync", "side", f"s3://{bucket}/mirror/"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        cwd=tmp_path,
    )
    key = "mirror/big.bin"
    try:
        deadline = time.monotonic() + 30
        while True:  # interrupt once at least one part is on the server
            uploads = moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            if uploads and moto_s3.list_parts(Bucket=bucket, Key=key, UploadId=uploads[0]["UploadId"]).get("Parts"):
                break
            assert proc.poll() is None, "the upload finished before it could be interrupted"
            assert time.monotonic() < deadline, "no part was uploaded"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (out, err)
    assert moto_s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # nothing half-uploaded is visible
    kept = moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert len(kept) == 1, kept
    listed = cli.run("transfers").check(0)
    assert len(listed.stdout_lines) == 1 and f"s3://{bucket}/{key}" in listed.stdout, listed

    cli.run("sync", "side", f"s3://{bucket}/mirror/").check(0)
    assert moto_s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert moto_server.log_path is not None
    log = moto_server.log_path.read_text(errors="replace")
    used = set(re.findall(rf"PUT /{bucket}/mirror/big\.bin\?[^ ]*uploadId=([^& ]+)", log))
    assert used == {kept[0]["UploadId"]}, used
    assert cli.run("transfers").check(0).stdout_lines == ["no unfinished uploads"]
