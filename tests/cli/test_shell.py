"""The CLI in shells and pipes: a closed stdout, empty directories, folders given to rm. The real executable."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.cli.conftest import CLI_TIMEOUT_S, Cli, cloudpane_command


def test_a_closed_stdout_ends_the_listing_quietly(moto_cli: Cli, tmp_path: Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    for i in range(3000):  # more than a pipe holds (64 KiB), so the writer meets the closed pipe
        (many / f"file-{i:05d}-with-a-name-long-enough-to-fill-the-pipe.txt").write_bytes(b"")
    proc = subprocess.Popen(
        [*cloudpane_command(), "ls", "-r", str(many)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=moto_cli.env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # what `| head -1` does: one line, then the reader is gone
    proc.stdout.close()
    code = proc.wait(timeout=CLI_TIMEOUT_S)
    err = proc.stderr.read().decode()
    assert b"file-00000" in first
    assert code == 0, err
    assert err == ""


def test_ls_of_an_empty_directory_is_empty_not_missing(moto_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = moto_cli.run("ls", tmp_path / "empty").check(0)
    assert r.stdout == "" and r.stderr == ""
    missing = moto_cli.run("ls", tmp_path / "missing").one_error_line(4)
    assert "missing" in missing


def test_rm_of_a_prefix_without_r_says_it_is_a_folder(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    bucket = new_bucket("rmdir")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="dir/a.txt", Body=b"a")
    line = moto_cli.run("rm", f"s3://{bucket}/dir/").one_error_line(2)
    assert "is a folder: use rm -r" in line
    assert [o["Key"] for o in moto_s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/a.txt"]
    moto_s3.put_object(Bucket=bucket, Key="marker/", Body=b"")  # a folder marker object is an object: removed
    moto_cli.run("rm", f"s3://{bucket}/marker/").check(0)
    assert [o["Key"] for o in moto_s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/a.txt"]
