"""Pipes: ``cp - DST`` (stdin, streamed, unknown size), ``cp SRC -`` and ``cat`` (stdout), against moto, Azurite and
local files, with the real executable. Interrupted or broken streams leave no object and no multipart upload."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pty
import signal
import subprocess
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from tests.cli.conftest import CLI_TIMEOUT_S, Cli, cloudpane_command
from tests.servers import AzuriteServer

MiB = 1024 * 1024


@dataclass
class Piped:
    returncode: int
    stdout: bytes
    stderr: str
    #: peak resident set size of the cloudpane process, in KiB (ru_maxrss on Linux)
    maxrss_kib: int

    def check(self, code: int = 0) -> Piped:
        assert self.returncode == code, (self.returncode, self.stderr)
        assert "Traceback" not in self.stderr, self.stderr
        return self


def _drain(stream: IO[bytes], into: list[bytes]) -> threading.Thread:
    t = threading.Thread(target=lambda: into.append(stream.read()), daemon=True)
    t.start()
    return t


def pipe(cli: Cli, *args: str, feed: bytes | Callable[[IO[bytes]], None] = b"", cwd: Path | None = None) -> Piped:
    """Run cloudpane with ``feed`` on its stdin (bytes, or a function that writes them), and its peak RSS."""
    proc = subprocess.Popen(
        [*cloudpane_command(), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        cwd=cwd or cli.cwd,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    err: list[bytes] = []
    threads = [_drain(proc.stdout, out), _drain(proc.stderr, err)]
    timer = threading.Timer(CLI_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        try:
            if callable(feed):
                feed(proc.stdin)
            else:
                proc.stdin.write(feed)
        except BrokenPipeError:
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join(10)
    return Piped(proc.returncode, b"".join(out), b"".join(err).decode("utf-8"), usage.ru_maxrss)


def shell(cli: Cli, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A bash pipeline as a user types it, ``cloudpane`` being the executable under test."""
    bindir = Path(cloudpane_command()[0]).parent
    env = {**cli.env, "PATH": f"{bindir}{os.pathsep}{cli.env.get('PATH', '')}"}
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def no_uploads(s3: Any, bucket: str) -> None:
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# -- the "Done when" lines ---------------------------------------------------------------------------------------
def test_done_when_lines_of_the_issue(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("done")
    moto_s3.create_bucket(Bucket=bucket)
    # enough rows that the listing outlives `head` by more than a pipe buffer (64 KiB): 250 rows of 400 bytes
    long = "x" * 380
    for i in range(250):
        moto_s3.put_object(Bucket=bucket, Key=f"dir/{i:05d}-{long}", Body=b"")
    ls = shell(moto_cli, f"cloudpane ls -r s3://{bucket}/ | head -1", tmp_path)
    assert ls.returncode == 0, ls
    assert ls.stderr == ""
    assert ls.stdout.endswith(f"dir/00000-{long}\n"), ls.stdout

    done = shell(moto_cli, f"printf data | cloudpane cp - s3://{bucket}/k && cloudpane cat s3://{bucket}/k", tmp_path)
    assert done.returncode == 0, done
    assert done.stdout.endswith("data"), done.stdout  # cp's own result line comes first
    assert done.stdout.splitlines()[0] == f"- -> s3://{bucket}/k (4 Bytes)"
    assert moto_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"


# -- stdin to S3 ---------------------------------------------------------------------------------------------------
def test_stdin_of_several_parts_is_one_multipart_object(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("stdin")
    moto_s3.create_bucket(Bucket=bucket)
    data = os.urandom(17 * MiB + 123)
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB")
    got = pipe(
        cli,
        "cp",
        "--content-type",
        "application/x-tar",
        "--metadata",
        "who=me",
        "-",
        f"s3://{bucket}/a/t.bin",
        feed=data,
    )
    got.check()
    assert got.stdout.decode() == f"- -> s3://{bucket}/a/t.bin (17.0 MiB)\n"
    head = moto_s3.head_object(Bucket=bucket, Key="a/t.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-4")  # 3 parts of 5 MiB and the rest
    assert head["ContentType"] == "application/x-tar"
    assert head["Metadata"]["who"] == "me"
    assert "mtime" in head["Metadata"]  # rclone's metadata: when the stream was sent
    assert moto_s3.get_object(Bucket=bucket, Key="a/t.bin")["Body"].read() == data
    no_uploads(moto_s3, bucket)

    # and back out: cat and cp to -, byte for byte
    cat = pipe(cli, "cat", f"s3://{bucket}/a/t.bin").check()
    assert hashlib.sha256(cat.stdout).digest() == hashlib.sha256(data).digest()
    assert cat.stderr == ""
    down = pipe(cli, "cp", f"s3://{bucket}/a/t.bin", "-").check()
    assert down.stdout == data
    assert down.stderr == ""  # nothing but the bytes, and no summary line


def test_an_empty_stdin_uploads_an_empty_object(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("empty")
    moto_s3.create_bucket(Bucket=bucket)
    pipe(moto_cli, "cp", "-", f"s3://{bucket}/zero").check()
    assert moto_s3.head_object(Bucket=bucket, Key="zero")["ContentLength"] == 0
    assert pipe(moto_cli, "cat", f"s3://{bucket}/zero").check().stdout == b""
    pipe(moto_cli, "cp", "-", "zero.txt", cwd=tmp_path).check()
    assert (tmp_path / "zero.txt").read_bytes() == b""


def test_stdin_to_a_local_file_is_atomic(moto_cli: Cli, tmp_path: Path) -> None:
    data = os.urandom(11 * MiB)
    out = tmp_path / "out"
    out.mkdir()
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB")
    pipe(cli, "cp", "-", str(out / "f.bin"), feed=data).check()
    assert (out / "f.bin").read_bytes() == data
    assert os.listdir(out) == ["f.bin"]  # no temporary file left beside it
    # a directory is not a name to write a stream to
    refused = pipe(cli, "cp", "-", str(out), feed=b"x").check(2)
    assert refused.stderr.splitlines() == [f"cloudpane: error: {out} is a folder: name the object to write stdin to"]


def test_usage_errors_of_streams_are_one_line(moto_cli: Cli, new_bucket: Any) -> None:
    bucket = new_bucket("use")
    cases = {
        ("cp", "-", "-"): "cloudpane: error: cp - - copies nothing: name an object or a file on one side",
        (
            "cp",
            "-r",
            "-",
            f"s3://{bucket}/k",
        ): "cloudpane: error: cp -r copies folders; - (stdin or stdout) is one stream",
        ("mv", "-", f"s3://{bucket}/k"): "cloudpane: error: mv cannot read stdin or write stdout; use cp",
        ("cp", "--version-id", "v1", "-", f"s3://{bucket}/k"): (
            "cloudpane: error: --version-id picks a version of the source; stdin has none"
        ),
        ("cp", "-", f"s3://{bucket}/dir/"): (
            f"cloudpane: error: s3://{bucket}/dir/ is a folder: name the object to write stdin to"
        ),
        ("cat", "--range", "9-3", f"s3://{bucket}/k"): "cloudpane: error: --range 9-3: the end is before the start",
        ("cat", "--range", "x", f"s3://{bucket}/k"): (
            "cloudpane: error: --range x: expected START-END, START-, -COUNT (or bytes=START-END)"
        ),
    }
    for args, line in cases.items():
        got = pipe(moto_cli, *args, feed=b"abc").check(2)
        assert got.stderr.splitlines() == [line], args


# -- cat -------------------------------------------------------------------------------------------------------
def test_cat_ranges_versions_and_errors(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    bucket = new_bucket("cat")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = moto_s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")["VersionId"]
    moto_s3.put_object(Bucket=bucket, Key="k", Body=b"abcdefghij")
    moto_s3.put_object(Bucket=bucket, Key="dir/x", Body=b"x")
    url = f"s3://{bucket}/k"
    ranges = {
        "2-4": b"cde",
        "bytes=2-4": b"cde",
        "7-": b"hij",
        "-3": b"hij",
        "bytes=-30": b"abcdefghij",
        "5-99": b"fghij",
    }
    for spec, want in ranges.items():
        assert pipe(moto_cli, "cat", "--range", spec, url).check().stdout == want, spec
    assert pipe(moto_cli, "cat", "--version-id", first, url).check().stdout == b"0123456789"
    assert pipe(moto_cli, "cat", "--version-id", first, "--range", "0-1", url).check().stdout == b"01"
    assert pipe(moto_cli, "cp", "--version-id", first, url, "-").check().stdout == b"0123456789"
    # two objects one after the other, as cat does
    assert pipe(moto_cli, "cat", url, f"s3://{bucket}/dir/x").check().stdout == b"abcdefghijx"

    past = pipe(moto_cli, "cat", "--range", "10-", url).check(2)
    assert past.stderr == "cloudpane: error: --range starts at byte 10, past the end of the object (10 bytes)\n"
    missing = pipe(moto_cli, "cat", f"s3://{bucket}/nope").check(4)
    assert len(missing.stderr.splitlines()) == 1 and missing.stdout == b""
    folder = pipe(moto_cli, "cat", f"s3://{bucket}/dir/").check(2)
    assert folder.stderr == f"cloudpane: error: s3://{bucket}/dir/ is a folder or a bucket, not an object\n"


def test_cat_into_a_closed_pipe_ends_quietly(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("head")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="big", Body=os.urandom(4 * MiB))
    for command in (f"cloudpane cat s3://{bucket}/big | head -c 10", f"cloudpane cp s3://{bucket}/big - | head -c 10"):
        got = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command + " | wc -c"],
            capture_output=True,
            text=True,
            env={**moto_cli.env, "PATH": f"{Path(cloudpane_command()[0]).parent}{os.pathsep}{moto_cli.env['PATH']}"},
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        assert got.returncode == 0, got
        assert got.stdout.strip() == "10"
        assert got.stderr == "", got.stderr


def test_cat_of_a_local_file(moto_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"hello, world")
    assert pipe(moto_cli, "cat", "--range", "7-", "f.txt", cwd=tmp_path).check().stdout == b"world"
    assert pipe(moto_cli, "cat", "missing.txt", cwd=tmp_path).check(4).stdout == b""
    assert pipe(moto_cli, "cat", str(tmp_path), cwd=tmp_path).check(2).stderr.endswith("is a directory, not a file\n")


# -- interrupted and broken streams ----------------------------------------------------------------------------
def _feed_until_upload(s3: Any, bucket: str, chunk: bytes) -> Callable[[IO[bytes]], None]:
    """Writes stdin until the multipart upload is on the server, then leaves the pipe open and idle."""

    def feed(stdin: IO[bytes]) -> None:
        deadline = time.monotonic() + 30
        while not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
            assert time.monotonic() < deadline, "no multipart upload started"
            stdin.write(chunk)
            stdin.flush()

    return feed


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_stdin_upload_is_aborted(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, signum: signal.Signals
) -> None:
    """Ctrl-C, and SIGTERM (``timeout``, a service manager), abort the upload: exit 130, nothing left."""
    bucket = new_bucket("intr")
    moto_s3.create_bucket(Bucket=bucket)
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="1")
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", "-", f"s3://{bucket}/k"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    assert proc.stdin is not None
    try:
        _feed_until_upload(moto_s3, bucket, os.urandom(MiB))(proc.stdin)
        # stdin stays open and idle: the process sits in a read of stdin when the signal comes
        time.sleep(0.5)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert err.decode().splitlines() == ["cloudpane: interrupted"]
    assert out == b""
    no_uploads(moto_s3, bucket)
    assert moto_s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_read_error_on_stdin_aborts_the_upload(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    """A terminal that goes away mid-stream: reads of the pty's slave side fail with EIO."""
    bucket = new_bucket("eio")
    moto_s3.create_bucket(Bucket=bucket)
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="1")
    master, slave = pty.openpty()
    tty.setraw(slave)  # bytes pass as they are: no echo, no line editing, no signals
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", "-", f"s3://{bucket}/k"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    os.close(slave)
    try:
        chunk = os.urandom(64 * 1024)
        deadline = time.monotonic() + 30
        while not moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
            assert time.monotonic() < deadline, "no multipart upload started"
            os.write(master, chunk)
        os.close(master)  # the terminal is gone
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    assert err.decode().splitlines() == ["cloudpane: error: read stdin: input/output error"]
    assert out == b""
    no_uploads(moto_s3, bucket)
    assert moto_s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_sigint_during_a_stdin_write_to_a_local_file_leaves_nothing(moto_cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB")
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", "-", str(out / "f.bin")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
    )
    assert proc.stdin is not None
    try:
        deadline = time.monotonic() + 30
        while not os.listdir(out):  # the temporary file appears once the first part is full
            assert time.monotonic() < deadline, "no temporary file appeared"
            proc.stdin.write(os.urandom(MiB))
            proc.stdin.flush()
        assert ".cloudpane-tmp-" in os.listdir(out)[0]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert os.listdir(out) == []


# -- memory ----------------------------------------------------------------------------------------------------
def test_a_long_stdin_upload_uses_bounded_memory(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    """160 MiB through stdin with 2 parts of 8 MiB in flight: the peak RSS of the process grows by less than the
    stream by far (what a buffered upload would need), measured against the same command with a tiny stdin."""
    bucket = new_bucket("mem")
    moto_s3.create_bucket(Bucket=bucket)
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="8MiB", CLOUDPANE_CONCURRENCY="2")
    block = os.urandom(MiB)
    total = 160

    def feed(stdin: IO[bytes]) -> None:
        for i in range(total):
            stdin.write(i.to_bytes(4, "big") + block[4:])

    small = pipe(cli, "cp", "-", f"s3://{bucket}/small", feed=b"x").check()
    big = pipe(cli, "cp", "-", f"s3://{bucket}/big", feed=feed).check()
    assert moto_s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == total * MiB
    grown_mib = (big.maxrss_kib - small.maxrss_kib) / 1024
    # 2 part buffers of 8 MiB, the request's own copies and the allocator's slack; a buffered stream: 160 MiB
    assert grown_mib < 64, (small.maxrss_kib, big.maxrss_kib)
    no_uploads(moto_s3, bucket)


# -- Azure -----------------------------------------------------------------------------------------------------
@pytest.fixture
def az_cli(azurite_server: AzuriteServer, tmp_path: Path) -> Cli:
    return Cli({**azurite_server.env(), "CLOUDPANE_PART_SIZE": "5MiB"}, cwd=tmp_path)


def test_stdin_to_azure_in_blocks_and_back(az_cli: Cli, azurite_server: AzuriteServer, new_bucket: Any) -> None:
    from azure.storage.blob import BlobServiceClient

    name = new_bucket("az")
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string, api_version="2025-11-05")
    service.create_container(name)
    data = os.urandom(12 * MiB + 5)
    pipe(az_cli, "cp", "-", f"az://{name}/s.bin", feed=data).check()
    blob = service.get_blob_client(name, "s.bin")
    committed, uncommitted = blob.get_block_list("all")
    assert len(committed) == 3 and uncommitted == []
    assert blob.download_blob().readall() == data
    assert pipe(az_cli, "cat", "--range", "0-9", f"az://{name}/s.bin").check().stdout == data[:10]
    pipe(az_cli, "cp", "-", f"az://{name}/empty").check()
    assert service.get_blob_client(name, "empty").download_blob().readall() == b""


def test_sigint_during_a_stdin_upload_to_azure_commits_nothing(
    az_cli: Cli, azurite_server: AzuriteServer, new_bucket: Any
) -> None:
    from azure.storage.blob import BlobServiceClient

    name = new_bucket("azint")
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string, api_version="2025-11-05")
    container = service.create_container(name)
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", "-", f"az://{name}/s.bin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=az_cli.with_env(CLOUDPANE_CONCURRENCY="1").env,
    )
    assert proc.stdin is not None
    try:
        deadline = time.monotonic() + 30
        # a staged block shows as an uncommitted blob: the upload is under way
        while not list(container.list_blobs(include=["uncommittedblobs"])):
            assert time.monotonic() < deadline, "no block was staged"
            proc.stdin.write(os.urandom(MiB))
            proc.stdin.flush()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert list(container.list_blobs()) == []  # nothing committed: no blob at the name


def test_stdin_and_cat_against_rclone(rclone_cli: Cli, rclone_s3: Any, new_bucket: Any) -> None:
    """rclone's server keeps plain files, and answers a Range GET with 200: cat --range still gets its bytes."""
    bucket = new_bucket("rcs")
    rclone_s3.create_bucket(Bucket=bucket)
    data = os.urandom(11 * MiB + 1)
    cli = rclone_cli.with_env(CLOUDPANE_PART_SIZE="5MiB")
    pipe(cli, "cp", "-", f"s3://{bucket}/d/s.bin", feed=data).check()
    assert rclone_s3.get_object(Bucket=bucket, Key="d/s.bin")["Body"].read() == data
    assert pipe(cli, "cat", f"s3://{bucket}/d/s.bin").check().stdout == data
    assert pipe(cli, "cat", "--range", "5-14", f"s3://{bucket}/d/s.bin").check().stdout == data[5:15]
    assert pipe(cli, "cat", "--range", "-3", f"s3://{bucket}/d/s.bin").check().stdout == data[-3:]
    pipe(cli, "cp", "-", f"s3://{bucket}/small", feed=b"tiny").check()
    assert pipe(cli, "cat", f"s3://{bucket}/small").check().stdout == b"tiny"
