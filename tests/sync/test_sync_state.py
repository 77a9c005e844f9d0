"""The two-way sync state means something: it belongs to the pair whatever the argument order, a conflict clears
once both sides hold the same content again, and ``--resolve`` settles conflicts the way rclone bisync's
``--conflict-resolve`` does (``keep-both``: the older copy beside the newer as ``NAME.conflict1``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sync.conftest import Cli, objects, tree, write_tree

FILES = {"f.txt": b"the same everywhere", "g.txt": b"g" * 30}


def _pair(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> tuple[Path, str, str, str]:
    """A local directory and an S3 prefix after one real sync."""
    b = bucket("state", versioned=False)
    a = tmp_path / "a"
    write_tree(a, FILES)
    remote = f"s3://{b}/p"
    cli.run("sync", a, remote).check(0)
    assert objects(s3, b, "p/") == FILES
    return a, b, "p/", remote


def _conflict(a: Path, s3: Any, b: str, prefix: str, *, a_age: float, b_age: float) -> tuple[bytes, bytes]:
    """Edit f.txt on both sides differently; A's copy ``a_age`` seconds old, B's ``b_age`` (rclone's ``mtime``
    metadata, which is what the sync reads as B's modification time)."""
    now = time.time()
    a_data, b_data = b"A's edit of f", b"B's own, longer edit of f"
    (a / "f.txt").write_bytes(a_data)
    os.utime(a / "f.txt", (now - a_age, now - a_age))
    when = now - b_age
    s3.put_object(Bucket=b, Key=prefix + "f.txt", Body=b_data, Metadata={"mtime": f"{when:.9f}"})
    return a_data, b_data


def test_a_conflict_clears_once_both_sides_agree(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    """Today's bug: after a conflict, making both sides identical left `sync` reporting the conflict (exit 1) on
    every run. The sides are made equal by hand, at different times (so the modification times differ): same
    size and MD5 (the local file's hash, the object's single-part ETag) is "in sync"."""
    a, b, prefix, remote = _pair(cli, s3, bucket, tmp_path)
    _a_data, b_data = _conflict(a, s3, b, prefix, a_age=100, b_age=10)
    conflict = cli.run("sync", a, remote).check(1)
    assert conflict.summary()["conflicts"] == 1, conflict

    (a / "f.txt").write_bytes(b_data)  # the user settles it: A takes B's content (a new mtime)
    cleared = cli.run("sync", a, remote).check(0)
    s = cleared.summary()
    assert (s.get("conflicts", 0), s["changed"], s["same"]) == (0, 0, 2), cleared
    assert (a / "f.txt").read_bytes() == b_data
    assert objects(s3, b, prefix)["f.txt"] == b_data
    for args in ([a, remote], [remote, a]):  # remembered as in sync, in either order
        again = cli.run("sync", *args).check(0)
        assert again.summary()["same"] == 2 and again.stdout == "", again


def test_the_state_belongs_to_the_pair_in_either_order(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """`sync A B` then `sync B A`: one state. Today the reverse order had none, so a file deleted on A came back
    from B, and a conflict was settled by "newer wins" without a word."""
    a, b, prefix, remote = _pair(cli, s3, bucket, tmp_path)
    (a / "g.txt").unlink()
    r = cli.run("sync", remote, a).check(0)
    assert r.summary()["deleted"] == 1 and r.out == ["- g.txt  (deleted on the other side, removed from A)"], r
    assert objects(s3, b, prefix) == {"f.txt": FILES["f.txt"]}
    assert tree(a) == {"f.txt": FILES["f.txt"]}

    a_data, b_data = _conflict(a, s3, b, prefix, a_age=100, b_age=10)
    for args in ([a, remote], [remote, a]):
        c = cli.run("sync", *args).check(1)
        assert c.summary()["conflicts"] == 1, c
    assert (a / "f.txt").read_bytes() == a_data
    assert objects(s3, b, prefix)["f.txt"] == b_data


@pytest.mark.parametrize(
    ("mode", "winner"),
    [("newer", "b"), ("older", "a"), ("a", "a"), ("b", "b")],
)
def test_resolve_picks_a_winner(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path, mode: str, winner: str
) -> None:
    """B's edit is the newer one (10 s old against A's 100 s)."""
    a, b, prefix, remote = _pair(cli, s3, bucket, tmp_path)
    a_data, b_data = _conflict(a, s3, b, prefix, a_age=100, b_age=10)
    r = cli.run("sync", "--resolve", mode, a, remote).check(0)
    direction = "a->b" if winner == "a" else "b->a"
    assert r.out == [f"* f.txt  (conflict, {mode} wins, {direction})"], r
    expected = a_data if winner == "a" else b_data
    assert (a / "f.txt").read_bytes() == expected
    assert objects(s3, b, prefix) == {"f.txt": expected, "g.txt": FILES["g.txt"]}
    again = cli.run("sync", remote, a).check(0)  # settled, and in sync in either order
    assert again.summary()["same"] == 2 and again.stdout == "", again


def test_resolve_keep_both(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    """The newer copy (A's, here) keeps the name on both sides; B's older one is kept as f.txt.conflict1 on both
    sides; a second conflict takes the next free number."""
    a, b, prefix, remote = _pair(cli, s3, bucket, tmp_path)
    a_data, b_data = _conflict(a, s3, b, prefix, a_age=10, b_age=100)
    r = cli.run("sync", "--resolve", "keep-both", a, remote).check(0)
    assert sorted(line.split("  (")[0] for line in r.out) == ["* f.txt", "+ f.txt.conflict1"], r
    both = {"f.txt": a_data, "f.txt.conflict1": b_data, "g.txt": FILES["g.txt"]}
    assert tree(a) == both
    assert objects(s3, b, prefix) == both
    again = cli.run("sync", a, remote).check(0)
    assert again.summary()["same"] == 3 and again.stdout == "", again

    a2, b2 = _conflict(a, s3, b, prefix, a_age=100, b_age=10)  # now B's is newer
    cli.run("sync", "--resolve", "keep-both", remote, a).check(0)
    both = {"f.txt": b2, "f.txt.conflict1": b_data, "f.txt.conflict2": a2, "g.txt": FILES["g.txt"]}
    assert tree(a) == both
    assert objects(s3, b, prefix) == both


def test_a_bad_resolve_mode_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    r = cli.run("sync", "--resolve", "largest", tmp_path / "a", tmp_path / "b")
    assert r.returncode == 2 and "'largest' is not one of" in r.stderr, r


def test_a_state_from_before_is_adopted_in_either_order(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """Before, the state was keyed by the arguments as typed (``sync B A`` had its own, columns in that order). A
    pair last synced as ``sync s3://... DIR`` keeps its history: the old file is read once, columns mapped."""
    import hashlib
    import sqlite3

    a, b, prefix, remote = _pair(cli, s3, bucket, tmp_path)
    sync_dir = Path(cli.env["CLOUDPANE_STATE_DIR"]) / "sync"
    (current,) = sync_dir.glob("*.sqlite3")  # canonical: the local side first (its columns are "a")
    legacy_name = f"s3://{b}/{prefix}|{a}/"  # what `sync s3://b/p DIR` used to be keyed by
    legacy = sync_dir / f"{hashlib.sha256(legacy_name.encode()).hexdigest()[:24]}.sqlite3"
    db = sqlite3.connect(current)
    rows = db.execute("SELECT * FROM state").fetchall()
    db.close()
    current.unlink()
    old = sqlite3.connect(legacy)
    old.execute(
        "CREATE TABLE state (rel BLOB PRIMARY KEY, a_size INT, a_time REAL, a_etag TEXT, "
        "b_size INT, b_time REAL, b_etag TEXT)"
    )
    with old:
        old.executemany("INSERT INTO state VALUES (?, ?, ?, ?, ?, ?, ?)", [(r[0], *r[4:7], *r[1:4]) for r in rows])
    old.close()

    (a / "g.txt").unlink()  # known to the old state: a delete, not a new file on B
    r = cli.run("sync", a, remote).check(0)
    assert r.summary()["deleted"] == 1 and r.summary()["new"] == 0, r
    assert objects(s3, b, prefix) == {"f.txt": FILES["f.txt"]}
    assert tree(a) == {"f.txt": FILES["f.txt"]}
