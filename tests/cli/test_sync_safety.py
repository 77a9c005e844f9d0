"""Safety of ``backup`` and ``sync`` as commands: one lock per destination (a second run exits 5 and names the pid
holding it; a dead holder's lock is taken over), and sides that are the same place or nested are a usage error
(exit 2) with one line.

The lock is held from this test process with the same ``DestinationLock`` the CLI uses (so the holder is a live
pid for certain, with no race against a run that might end first), or left behind in the file by a process that
exited; the CLI is the real ``cloudpane`` executable in a subprocess, against the session's moto server.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.servers import S3Server
from tests.sync.conftest import Cli, cli_for, keys, objects, write_tree
from tui.sync.lock import DestinationLock, lock_path

FILES = {"one.txt": b"1" * 10, "d/two.txt": b"2" * 20}


@pytest.fixture
def cli(moto_server: S3Server, tmp_path: Path) -> Cli:
    return cli_for(moto_server, tmp_path)


@pytest.fixture
def s3(moto_server: S3Server) -> Any:
    client = moto_server.boto3_client()
    yield client
    client.close()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"safety-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=name)
    return name


def _state(cli: Cli) -> Path:
    return Path(cli.env["CLOUDPANE_STATE_DIR"])


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_backup_refuses_a_destination_locked_by_a_live_process(
    cli: Cli, s3: Any, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    write_tree(src, FILES)
    dst = f"s3://{bucket}/bk"
    with DestinationLock([f"s3://{bucket}/bk/"], verb="backup", base=_state(cli)):
        r = cli.run("backup", src, dst)
        line = r.one_error_line(5)
        assert f"s3://{bucket}/bk/ is in use by another backup (pid {os.getpid()}," in line, r
        assert keys(s3, bucket) == []  # nothing was sent
        # a sync that has the destination as one side meets the same lock
        s = cli.run("sync", src, dst)
        assert f"(pid {os.getpid()}," in s.one_error_line(5), s
        # a dry run changes nothing and takes no lock
        cli.run("backup", "--dry-run", src, dst).check(0)
    done = cli.run("backup", src, dst).check(0)  # released: the next run goes
    assert done.summary()["new"] == 2, done
    assert objects(s3, bucket, "bk/") == FILES


def test_a_sync_refuses_when_either_side_is_locked(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    a = tmp_path / "a"
    write_tree(a, FILES)
    local = os.path.realpath(a) + "/"
    for held in (local, f"s3://{bucket}/p/"):
        with DestinationLock([held], verb="sync", base=_state(cli)):
            for args in ([a, f"s3://{bucket}/p"], [f"s3://{bucket}/p", a]):
                r = cli.run("sync", *args)
                assert f"is in use by another sync (pid {os.getpid()}," in r.one_error_line(5), r
    assert keys(s3, bucket) == []
    cli.run("sync", a, f"s3://{bucket}/p").check(0)
    assert objects(s3, bucket, "p/") == FILES


def test_a_dead_holders_lock_is_taken_over(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    """A run killed with -9 leaves its pid in the lock file; the flock died with it. The next run takes the lock,
    says so on one line, and leaves the file without a pid when it ends."""
    src = tmp_path / "src"
    write_tree(src, FILES)
    location = f"s3://{bucket}/bk/"
    path = lock_path(location, _state(cli))
    path.parent.mkdir(parents=True, exist_ok=True)
    dead = _dead_pid()
    path.write_text(json.dumps({"pid": dead, "verb": "backup", "location": location, "since": 0}))

    r = cli.run("backup", src, f"s3://{bucket}/bk").check(0)
    notes = [line for line in r.err if "took over the lock" in line]
    assert notes == [f"cloudpane: note: took over the lock of {location} left by pid {dead} (no longer running)"], r
    assert r.summary()["new"] == 2, r
    assert objects(s3, bucket, "bk/") == FILES
    assert path.read_text() == ""  # a clean end leaves no pid behind

    again = cli.run("backup", src, f"s3://{bucket}/bk").check(0)
    assert not any("took over" in line for line in again.err), again


def test_sides_that_overlap_are_a_usage_error(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    a = tmp_path / "a"
    write_tree(a, FILES)
    (tmp_path / "link").symlink_to(a)
    cases = [
        (["sync", a, a], "are the same place"),
        (["sync", a, tmp_path / "link"], "are the same place"),  # one directory under two names
        (["sync", a, a / "d"], "overlap (one is inside the other)"),
        (["sync", a / "d", a], "overlap (one is inside the other)"),
        (["sync", f"s3://{bucket}/p", f"s3://{bucket}/p/"], "are the same place"),
        (["sync", f"s3://{bucket}/p", f"s3://{bucket}/p/q"], "overlap (one is inside the other)"),
        (["sync", f"s3://{bucket}", f"s3://{bucket}/p"], "overlap (one is inside the other)"),
        (["backup", a, a / "backup"], "overlap (one is inside the other)"),
    ]
    results = cli.run_many(*[args for args, _ in cases])
    for (_args, text), r in zip(cases, results, strict=True):
        assert text in r.one_error_line(2), r
    assert keys(s3, bucket) == []
    assert not (a / "backup").exists()
    # prefixes that only share a beginning are separate places
    cli.run("sync", f"s3://{bucket}/p", f"s3://{bucket}/pq").check(0)


def test_a_place_inside_or_around_a_locked_one_is_refused(cli: Cli, s3: Any, bucket: str, tmp_path: Path) -> None:
    """A backup into ``bk/`` with ``--delete`` would delete the keys a run into ``bk/sub/`` is writing (and the
    reverse): while either holds its lock, the other place refuses too."""
    src = tmp_path / "src"
    write_tree(src, FILES)
    outer, inner = f"s3://{bucket}/bk/", f"s3://{bucket}/bk/sub/"
    for held, run in ((outer, inner), (inner, outer)):
        with DestinationLock([held], verb="backup", base=_state(cli)):
            r = cli.run("backup", "--delete", src, run)
            line = r.one_error_line(5)
            assert f"{run} overlaps {held}, in use by another backup (pid {os.getpid()})" in line, r
    assert keys(s3, bucket) == []
    # a prefix that only shares a beginning is another place
    with DestinationLock([f"s3://{bucket}/bk/"], verb="backup", base=_state(cli)):
        cli.run("backup", src, f"s3://{bucket}/bk2").check(0)
    assert objects(s3, bucket, "bk2/") == FILES
