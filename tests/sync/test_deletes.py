"""``backup --delete``: what is gone from the source goes from the destination, carefully (rclone's rules): never
after a failed transfer, never from an empty source, never more than ``--max-delete`` (default: half of the
destination) without ``--force``; ``--dry-run`` only prints the plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sync.conftest import Cli, keys, make_unreadable, objects, tree, versions, write_tree

FILES = {f"{name}.txt": name.encode() * 100 for name in ("a", "b", "c", "d")}


def _seed(s3: Any, bucket: Callable[..., str], tmp_path: Path, stem: str) -> tuple[str, Path, str]:
    """A source directory and its backup. The backup is made with boto3 (cheaper than a CLI run) exactly as
    ``backup`` would make it: same bytes, the file's mtime in rclone's ``mtime`` metadata."""
    b = bucket(stem)
    src = tmp_path / "src"
    write_tree(src, FILES)
    for rel, data in FILES.items():
        ns = (src / rel).stat().st_mtime_ns
        s3.put_object(Bucket=b, Key=f"p/{rel}", Body=data, Metadata={"mtime": f"{ns // 10**9}.{ns % 10**9:09d}"})
    dst = f"s3://{b}/p"
    return b, src, dst


def test_delete_removes_what_is_gone_from_the_source(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b, src, dst = _seed(s3, bucket, tmp_path, "del")
    (src / "d.txt").unlink()

    kept = cli.run("backup", src, dst).check(0)  # without --delete nothing is deleted
    s = kept.summary()
    assert (s["deleted"], s["same"], s["new"], s["changed"]) == (0, 3, 0, 0), kept
    assert keys(s3, b, "p/") == sorted(FILES)

    deleted = cli.run("backup", "--delete", src, dst).check(0)
    s = deleted.summary()
    assert (s["deleted"], s["same"], s["new"], s["changed"]) == (1, 3, 0, 0), deleted
    assert deleted.out == ["- d.txt"], deleted
    assert keys(s3, b, "p/") == ["a.txt", "b.txt", "c.txt"]


def test_no_deletes_after_a_failed_transfer(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    """The failing transfer is a source file the CLI cannot read: ``chmod 000``, and when the suite runs as root
    (where mode bits do not stop reads) the CLI is started without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH in its
    bounding set, so the open fails with EACCES exactly as it would for any other user."""
    b, src, dst = _seed(s3, bucket, tmp_path, "fail")
    (src / "d.txt").unlink()
    (src / "locked.txt").write_bytes(b"cannot read me")
    preexec = make_unreadable(src / "locked.txt")
    before = versions(s3, b, "p/")

    r = cli.run("backup", "--delete", "--json", src, dst, preexec=preexec).check(1)
    j = r.json()
    assert (j["failed"], j["deleted"], j["skipped"], j["same"]) == (1, 0, 1, 3), r
    assert any("deletion(s) not done" in e for e in j["notes"]), j
    assert [line for line in r.err if line.startswith("cloudpane: failed: ")] == [r.err[0]], r
    assert r.err[0].startswith("cloudpane: failed: ! locked.txt  ("), r
    assert versions(s3, b, "p/") == before  # d.txt is still there, and nothing else was written


def test_delete_refuses_an_empty_or_missing_source(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b, _src, dst = _seed(s3, bucket, tmp_path, "empty")
    empty, only_hidden = tmp_path / "empty", tmp_path / "only-hidden"
    empty.mkdir()
    write_tree(only_hidden, {".hidden": b"h", ".DS_Store": b"junk"})  # nothing a backup takes part in
    before = versions(s3, b, "p/")

    # one after the other: runs into one destination at once would meet its lock (tests/cli/test_sync_safety.py)
    r_empty = cli.run("backup", "--delete", empty, dst)
    r_hidden = cli.run("backup", "--delete", only_hidden, dst)
    r_missing = cli.run("backup", "--delete", tmp_path / "not-there", dst)
    for r in (r_empty, r_hidden):
        line = r.one_error_line(5)
        assert "refusing to delete 4 object(s): the source is empty" in line, r
        assert r.stdout == "", r
    assert "no such directory" in r_missing.one_error_line(4), r_missing
    assert versions(s3, b, "p/") == before


def test_delete_limit_and_force(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    b, src, dst = _seed(s3, bucket, tmp_path, "limit")
    for name in ("b.txt", "c.txt", "d.txt"):
        (src / name).unlink()
    before = versions(s3, b, "p/")

    default, plan = cli.run_many(  # a dry run takes no lock: it may run beside a real run
        ["backup", "--delete", src, dst],  # 3 of 4 > half of the destination
        ["backup", "--delete", "--max-delete", "3", "--dry-run", src, dst],
    )
    low = cli.run("backup", "--delete", "--max-delete", "2", src, dst)
    assert "refusing to delete 3 of 4 object(s) at the destination (limit 2)" in default.one_error_line(5), default
    assert "(limit 2)" in low.one_error_line(5), low
    assert default.stdout == "" and low.stdout == "", (default, low)
    plan.check(0)
    assert sorted(line for line in plan.out if line.startswith("-")) == ["- b.txt", "- c.txt", "- d.txt"], plan
    assert plan.summary()["deleted"] == 3, plan
    assert versions(s3, b, "p/") == before

    forced = cli.run("backup", "--delete", "--force", src, dst).check(0)
    assert forced.summary()["deleted"] == 3, forced
    assert keys(s3, b, "p/") == ["a.txt"]


def test_dry_run_prints_the_plan_and_changes_nothing(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b, src, dst = _seed(s3, bucket, tmp_path, "dry")
    (src / "b.txt").write_bytes(b"b, changed")
    (src / "d.txt").unlink()
    (src / "new.txt").write_bytes(b"new")
    before_versions, before_objects = versions(s3, b, "p/"), objects(s3, b, "p/")

    r = cli.run("backup", "--delete", "--dry-run", "-v", src, dst).check(0)  # -v: the unchanged (=) too
    plan = sorted(r.out)
    assert plan == ["* b.txt  (size 10 != 100)", "+ new.txt  (new)", "- d.txt", "= a.txt", "= c.txt"], r
    s = r.summary()
    assert (s["new"], s["changed"], s["deleted"], s["same"], s["bytes"]) == (1, 1, 1, 2, 0), r
    assert r.err[-1].endswith("(dry run: nothing changed)"), r
    assert versions(s3, b, "p/") == before_versions
    assert objects(s3, b, "p/") == before_objects


def test_names_that_sort_differently_pair_up(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    """The march pairs keys in UTF-8 byte order on both sides (``a-b`` < ``a.txt`` < ``a/b`` < ``a0``); a local walk
    in another order would re-send files, or worse, make ``--delete`` delete what is there."""
    b = bucket("names", versioned=False)
    src = tmp_path / "src"
    names = ["a-b.txt", "a.txt", "a/b.txt", "a0", "a-b/x", "a.d/y", "A", "a~", "sp ace/z", "é/w", "ü.txt", "z+z"]
    names += ["q%20", "日本.txt", "a b", "x/y/z/deep"]
    files = {name: name.encode() * 3 for name in names}
    write_tree(src, files)
    first = cli.run("backup", src, f"s3://{b}/p").check(0)
    assert first.summary()["new"] == len(files), first
    assert objects(s3, b, "p/") == files

    again, back = cli.run_many(
        ["backup", "--delete", "--json", src, f"s3://{b}/p"],
        ["restore", f"s3://{b}/p/", tmp_path / "back"],
    )
    j = again.check(0).json()
    assert (j["new"], j["changed"], j["deleted"], j["same"]) == (0, 0, 0, len(files)), again
    assert back.check(0).summary()["new"] == len(files), back
    assert tree(tmp_path / "back") == files


def test_an_unreadable_folder_fails_its_files_not_the_whole_backup(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """Exit 1 means "some items failed, the rest done" (tui/errors.py). A folder the backup cannot list (a
    root-owned cache in a home directory, say) must fail and be reported, block the deletes, and leave the
    rest of the backup to run, as a file that cannot be read does."""
    b, src, dst = _seed(s3, bucket, tmp_path, "lockdir")
    (src / "a-locked").mkdir()
    (src / "a-locked" / "secret.txt").write_bytes(b"s")
    (src / "d.txt").unlink()
    (src / "z-new.txt").write_bytes(b"new")
    preexec = make_unreadable(src / "a-locked")
    try:
        r = cli.run("backup", "--delete", src, dst, preexec=preexec).check(1)
    finally:
        (src / "a-locked").chmod(0o755)
    assert "Traceback" not in r.stderr and any("a-locked" in line for line in r.err), r
    assert keys(s3, b, "p/") == sorted([*FILES, "z-new.txt"]), r  # the rest was backed up, nothing deleted
    s = r.summary()
    assert (s["new"], s["deleted"], s["failed"]) == (1, 0, 1), r
