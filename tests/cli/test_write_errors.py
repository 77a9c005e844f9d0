"""Every local write error is an error, and no download writes through a symlink: the real executable against moto.

A full disk is a child process with ``RLIMIT_FSIZE`` (SIGXFSZ ignored, so a write past the limit fails with
EFBIG, as ENOSPC would): the limit is the process's own, so the test needs no mount and no root.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.cli.conftest import CLI_TIMEOUT_S, Cli, Result, cloudpane_command, tree
from tui.storage.local import TMP_MARK

MiB = 1024 * 1024
#: the file size limit of the "small disk": larger than any journal or state file, smaller than the big object
LIMIT = 1 * MiB


def _small_disk() -> None:  # runs in the child between fork and exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _run_limited(cli: Cli, *args: str | os.PathLike[str]) -> Result:
    proc = subprocess.run(
        [*cloudpane_command(), *map(str, args)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=cli.env,
        cwd=cli.cwd,
        timeout=CLI_TIMEOUT_S,
        preexec_fn=_small_disk,  # a resource limit for the child only
        check=False,
    )
    return Result(tuple(map(str, args)), proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if TMP_MARK in p.name)


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def test_full_disk_fails_cp_cp_r_mv_and_restore(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("full")
    moto_s3.create_bucket(Bucket=bucket)
    big = os.urandom(3 * MiB)  # past the limit: single PUT part size is 8 MiB, so one GET and one local write
    moto_s3.put_object(Bucket=bucket, Key="p/big.bin", Body=big)
    moto_s3.put_object(Bucket=bucket, Key="p/small.txt", Body=b"small")
    moto_s3.put_object(Bucket=bucket, Key="m/big.bin", Body=big)

    one = tmp_path / "one"
    r = _run_limited(moto_cli, "cp", f"s3://{bucket}/p/big.bin", f"{one}/")
    assert r.returncode == 1, r
    assert "Traceback" not in r.stderr, r
    assert "p/big.bin" in r.stderr and "too large" in r.stderr, r
    assert "copied 0 file(s)" in r.stderr and "1 failed" in r.stderr, r
    assert not one.exists() or (tree(one) == {} and _leftovers(one) == []), r

    many = tmp_path / "many"
    r = _run_limited(moto_cli, "cp", "-r", f"s3://{bucket}/p/", many)
    assert r.returncode == 1, r
    assert tree(many) == {"small.txt": b"small"}, r  # the rest is copied; the failed file is not there at all
    assert _leftovers(many) == [], r
    assert "copied 1 file(s)" in r.stderr and "1 failed" in r.stderr, r

    moved = tmp_path / "moved"
    r = _run_limited(moto_cli, "mv", f"s3://{bucket}/m/big.bin", f"{moved}/")
    assert r.returncode == 1, r
    assert _keys(moto_s3, bucket, "m/") == ["m/big.bin"], r  # mv never deletes a source whose copy failed
    assert "moved 0 file(s)" in r.stderr, r

    restored = tmp_path / "restored"
    r = _run_limited(moto_cli, "restore", f"s3://{bucket}/p/", restored)
    assert r.returncode == 1, r
    assert tree(restored) == {"small.txt": b"small"}, r
    assert _leftovers(restored) == [], r


def test_a_key_that_cannot_be_a_local_name_is_reported_by_name(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("long")
    moto_s3.create_bucket(Bucket=bucket)
    long_name = "n" * 256  # one byte past the 255 a file name may have
    moto_s3.put_object(Bucket=bucket, Key=f"p/sub/{long_name}", Body=b"x")
    moto_s3.put_object(Bucket=bucket, Key="p/ok.txt", Body=b"ok")
    out = tmp_path / "out"
    r = moto_cli.run("cp", "-r", f"s3://{bucket}/p/", out).check(1)
    assert tree(out) == {"ok.txt": b"ok"}
    failed = [line for line in r.stderr_lines if line.startswith("cloudpane: failed:")]
    assert len(failed) == 1, r
    assert long_name in failed[0] and "too long for the local file system" in failed[0], r
    assert "OSError" not in r.stderr, r


def test_no_download_writes_through_a_planted_symlink(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("link")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="p/sub/evil.txt", Body=b"evil")
    moto_s3.put_object(Bucket=bucket, Key="p/top.txt", Body=b"top")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "sub").symlink_to(elsewhere)

    r = moto_cli.run("cp", "-r", f"s3://{bucket}/p/", dl).check(1)  # even without -f
    assert list(elsewhere.iterdir()) == [], r
    assert "refusing to write through the symlink" in r.stderr, r
    assert (dl / "top.txt").read_bytes() == b"top"

    # a backup from the bucket into the tree with the link: refused the same way (a path the user types
    # themselves, `cp s3://b/k dl/sub/`, is theirs to choose, as with cp(1))
    r = moto_cli.run("backup", f"s3://{bucket}/p/", dl)
    assert r.returncode == 1, r
    assert list(elsewhere.iterdir()) == [], r
    assert "refusing to write through the symlink" in r.stderr, r
    assert list(elsewhere.iterdir()) == []
    assert (dl / "sub").is_symlink()


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("tmp")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="f.txt", Body=b"new")
    dl = tmp_path / "dl"
    dl.mkdir()
    dead = _dead_pid()
    killed = dl / f"f.txt{TMP_MARK}{dead}-0123abcd"  # what `kill -9` during a download leaves
    killed.write_bytes(b"partial")
    alive = dl / f"g.txt{TMP_MARK}{os.getpid()}-0123abcd"  # a download under way in a live process
    alive.write_bytes(b"in progress")
    old_form = dl / f"h.txt{TMP_MARK}89abcdef"  # the old form (no pid), from an earlier version, a day old
    old_form.write_bytes(b"old")
    os.utime(old_form, (os.path.getmtime(old_form) - 86400,) * 2)

    moto_cli.run("cp", f"s3://{bucket}/f.txt", f"{dl}/").check(0)
    assert (dl / "f.txt").read_bytes() == b"new"
    assert not killed.exists()
    assert not old_form.exists()
    assert alive.read_bytes() == b"in progress"


def _dead_pid() -> int:
    """A pid no process has now (the child of a finished process)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_follow_symlinks_stays_inside_the_source(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("follow")
    moto_s3.create_bucket(Bucket=bucket)
    secret_dir = tmp_path / "etc"
    secret_dir.mkdir()
    (secret_dir / "shadow").write_text("root:secret")
    src = tmp_path / "src"
    (src / "real").mkdir(parents=True)
    (src / "real" / "data.txt").write_text("data")
    (src / "a-link-to-real").symlink_to(src / "real")  # sorts before real/: both are backed up
    (src / "shadow").symlink_to(secret_dir / "shadow")
    (src / "etc").symlink_to(secret_dir)
    (src / "inside.txt").symlink_to(src / "real" / "data.txt")

    r = moto_cli.run("backup", "--follow-symlinks", src, f"s3://{bucket}/bk/").check(0)
    keys = _keys(moto_s3, bucket)
    assert keys == ["bk/a-link-to-real/data.txt", "bk/inside.txt", "bk/real/data.txt"], r
    assert "leads outside" in r.stderr, r
    assert "shadow" in r.stderr and "etc" in r.stderr, r
    assert "secret" not in r.stdout + r.stderr
