"""``cloudpane sync A B`` (a local directory and an S3 prefix): both ways, changes cross over, deletions since the
last sync cross over, a change on both sides is a conflict (reported, left alone, exit 1), and ``--dry-run``
changes nothing, the sync state included."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sync.conftest import Cli, Result, objects, tree, versions, write_tree


def _state_rows(cli: Cli) -> list[tuple[Any, ...]]:
    """Every row of every sync state database under ``$CLOUDPANE_STATE_DIR/sync``."""
    rows: list[tuple[Any, ...]] = []
    for path in sorted((Path(cli.env["CLOUDPANE_STATE_DIR"]) / "sync").glob("*.sqlite3")):
        db = sqlite3.connect(path)
        try:
            rows += db.execute("SELECT * FROM state ORDER BY rel").fetchall()
        finally:
            db.close()
    return rows


def _counts(r: Result) -> tuple[int, int, int, int]:
    s = r.summary()
    return s["new"], s["changed"], s["deleted"], s.get("conflicts", 0)


def test_two_way_sync(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    b = bucket("sync", versioned=False)
    a = tmp_path / "a"
    write_tree(a, {"a-only.txt": b"from A", "d/a2.txt": b"from A too"})
    s3.put_object(Bucket=b, Key="p/b-only.txt", Body=b"from B")
    s3.put_object(Bucket=b, Key="p/d/b2.txt", Body=b"from B too")
    bdst = f"s3://{b}/p"

    # a dry run of the first sync: the plan, and nothing changes (no state either)
    dry = cli.run("sync", "--dry-run", a, bdst).check(0)
    assert sorted(line.split("  (")[0] for line in dry.out) == [
        "+ a-only.txt",
        "+ b-only.txt",
        "+ d/a2.txt",
        "+ d/b2.txt",
    ], dry
    assert dry.summary()["new"] == 4 and dry.err[-1].endswith("(dry run: nothing changed)"), dry
    assert sorted(tree(a)) == ["a-only.txt", "d/a2.txt"]
    assert sorted(objects(s3, b, "p/")) == ["b-only.txt", "d/b2.txt"]
    assert _state_rows(cli) == []

    # the first sync: what is only on one side goes to the other
    first = cli.run("sync", a, bdst).check(0)
    assert _counts(first) == (4, 0, 0, 0), first
    everything = {
        "a-only.txt": b"from A",
        "b-only.txt": b"from B",
        "d/a2.txt": b"from A too",
        "d/b2.txt": b"from B too",
    }
    assert tree(a) == everything
    assert objects(s3, b, "p/") == everything
    assert len(_state_rows(cli)) == 4

    quiet = cli.run("sync", "--json", a, bdst).check(0).json()
    assert (quiet["new"], quiet["changed"], quiet["deleted"], quiet["same"]) == (0, 0, 0, 4), quiet

    # a change on A crosses to B; a change on B crosses to A
    (a / "a-only.txt").write_bytes(b"from A, changed")
    s3.put_object(Bucket=b, Key="p/d/b2.txt", Body=b"from B, changed")
    changed = cli.run("sync", a, bdst).check(0)
    assert _counts(changed) == (0, 2, 0, 0), changed
    assert s3.get_object(Bucket=b, Key="p/a-only.txt")["Body"].read() == b"from A, changed"
    assert (a / "d/b2.txt").read_bytes() == b"from B, changed"

    # a deletion on B since the last sync removes the file from A (a dry run first: it must not forget the state,
    # or the real run would take the file on A for new and copy it back to B)
    s3.delete_object(Bucket=b, Key="p/b-only.txt")
    (a / "d" / "a2.txt").unlink()
    dry = cli.run("sync", "--dry-run", a, bdst).check(0)
    assert sorted(line.split("  (")[0] for line in dry.out) == ["- b-only.txt", "- d/a2.txt"], dry
    assert (a / "b-only.txt").exists() and "d/a2.txt" in objects(s3, b, "p/")
    deleted = cli.run("sync", a, bdst).check(0)
    assert _counts(deleted) == (0, 0, 2, 0), deleted
    left = {"a-only.txt": b"from A, changed", "d/b2.txt": b"from B, changed"}
    assert tree(a) == left
    assert objects(s3, b, "p/") == left

    # changed on both sides: a conflict, reported and left alone, exit 1 (and again on the next run)
    (a / "a-only.txt").write_bytes(b"A's edit")
    s3.put_object(Bucket=b, Key="p/a-only.txt", Body=b"B's other edit")
    conflict = cli.run("sync", a, bdst).check(1)
    assert _counts(conflict) == (0, 0, 0, 1), conflict
    (line,) = [line for line in conflict.err if "conflict" in line and "a-only.txt" in line]
    assert line.startswith("cloudpane: failed: ! a-only.txt"), conflict
    assert (a / "a-only.txt").read_bytes() == b"A's edit"
    assert s3.get_object(Bucket=b, Key="p/a-only.txt")["Body"].read() == b"B's other edit"
    again = cli.run("sync", "--json", a, bdst).check(1)  # still a conflict on the next run, still left alone
    j = again.json()
    assert (j["conflicts"], j["changed"], j["new"], j["deleted"]) == (1, 0, 0, 0), again
    assert any("a-only.txt" in e for e in j["errors"]), j
    assert (a / "a-only.txt").read_bytes() == b"A's edit"
    assert s3.get_object(Bucket=b, Key="p/a-only.txt")["Body"].read() == b"B's other edit"


def test_first_sync_of_identical_sides_transfers_nothing(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """twoway.py, first sync, present on both sides: "equal: remember; else the newer side wins". A prefix made by
    ``backup`` of the same directory is equal file for file (same size, same bytes, the file's mtime in the
    object's ``mtime`` metadata), so the first sync has nothing to copy."""
    b = bucket("same", versioned=True)
    a = tmp_path / "a"
    files = {"one.txt": b"1" * 100, "d/two.txt": b"2" * 200, "d/e/three.txt": b"3" * 300}
    write_tree(a, files)
    cli.run("backup", a, f"s3://{b}/p").check(0)
    before = versions(s3, b, "p/")
    mtimes = {rel: (a / rel).stat().st_mtime_ns for rel in files}

    r = cli.run("sync", a, f"s3://{b}/p").check(0)
    assert _counts(r) == (0, 0, 0, 0) and r.summary()["same"] == 3, r
    assert r.stdout == "", r
    assert versions(s3, b, "p/") == before
    assert {rel: (a / rel).stat().st_mtime_ns for rel in files} == mtimes
