"""``cloudpane backup SRC s3://bucket/prefix``: incremental, what "changed" means, ``--checksum`` and its cache,
what a backup leaves out, and symlinks.

Backups go to versioned buckets: every PUT adds a version, so "0 PUTs" is "the version ids did not change".
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sync.conftest import Cli, keys, objects, versions, write_tree

FILES = {
    "a.txt": b"alpha\n" * 300,
    "d/b.bin": bytes(range(256)) * 12,
    "d/e/c.txt": b"c" * 1000,
}


def _hash_rows(cli: Cli) -> dict[str, str]:
    """The hash cache (``$CLOUDPANE_CACHE_DIR/hashes.sqlite3``): file name -> cached MD5."""
    db = sqlite3.connect(Path(cli.env["CLOUDPANE_CACHE_DIR"]) / "hashes.sqlite3")
    try:
        return {Path(path).name: md5 for path, md5 in db.execute("SELECT path, md5 FROM md5v2")}
    finally:
        db.close()


def test_incremental_backup_sends_only_what_changed(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b = bucket("inc")
    src = tmp_path / "src"
    write_tree(src, FILES)
    dst = f"s3://{b}/p"

    first = cli.run("backup", "--json", src, dst).check(0)
    j = first.json()
    assert (j["new"], j["changed"], j["same"], j["failed"], j["refused"]) == (3, 0, 0, 0, 0), first
    assert j["bytes"] == sum(map(len, FILES.values())), first
    assert sorted(first.out[:-1]) == ["+ a.txt  (new)", "+ d/b.bin  (new)", "+ d/e/c.txt  (new)"], first
    assert objects(s3, b, "p/") == FILES
    before = versions(s3, b, "p/")
    assert {k: len(v) for k, v in before.items()} == dict.fromkeys(FILES, 1)

    # a rerun: nothing new, nothing changed, not one PUT (text and JSON summaries agree)
    # one after the other: two runs into one destination at once would meet its lock
    again_json = cli.run("backup", "--json", src, dst)
    again_text = cli.run("backup", src, dst)
    j = again_json.check(0).json()
    assert (j["new"], j["changed"], j["same"], j["bytes"]) == (0, 0, 3, 0), again_json
    assert again_json.out == [again_json.out[-1]], again_json  # no plan lines for unchanged files
    s = again_text.check(0).summary()
    assert (s["new"], s["changed"], s["same"], s["failed"]) == (0, 0, 3, 0), again_text
    assert again_text.stdout == "", again_text
    assert versions(s3, b, "p/") == before

    # a modified file (content and size) is sent again, and only that one
    (src / "a.txt").write_bytes(b"alpha, rewritten and longer\n" * 300)
    changed = cli.run("backup", src, dst).check(0)
    s = changed.summary()
    assert (s["new"], s["changed"], s["same"]) == (0, 1, 2), changed
    assert changed.out == [f"* a.txt  (size {300 * 28} != {300 * 6})"], changed
    now = versions(s3, b, "p/")
    assert len(now["a.txt"]) == 2 and now["d/b.bin"] == before["d/b.bin"] and now["d/e/c.txt"] == before["d/e/c.txt"]
    assert s3.get_object(Bucket=b, Key="p/a.txt")["Body"].read() == (src / "a.txt").read_bytes()


def test_touched_file_follows_the_documented_mtime_rule(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """backup.py: without --checksum a same-size file that looks newer than the upload is compared by the object's
    ``mtime`` metadata (HEAD): a touched file is sent again; a file whose mtime equals the recorded one is not, even
    though it is newer than the object's LastModified. With --checksum the content decides: a touched file with
    the same bytes is not sent."""
    b = bucket("touch")
    src = tmp_path / "src"
    write_tree(src, FILES)
    future = time.time() + 3600  # newer than any upload time of this test
    os.utime(src / "d/b.bin", (future, future))
    dst = f"s3://{b}/p"
    cli.run("backup", src, dst).check(0)
    before = versions(s3, b, "p/")
    meta = s3.head_object(Bucket=b, Key="p/d/b.bin")["Metadata"]
    assert abs(float(meta["mtime"]) - future) < 0.001, meta

    # d/b.bin is newer than its object's LastModified, but its mtime is the recorded one: no PUT
    rerun = cli.run("backup", src, dst).check(0)
    assert rerun.summary()["same"] == 3 and rerun.summary()["changed"] == 0, rerun
    assert versions(s3, b, "p/") == before

    # touch c.txt (same size, same bytes, newer mtime): the recorded mtime differs, so it is sent again
    touched = time.time() + 7200
    os.utime(src / "d/e/c.txt", (touched, touched))
    r = cli.run("backup", src, dst).check(0)
    assert r.out == ["* d/e/c.txt  (modified)"], r
    assert len(versions(s3, b, "p/")["d/e/c.txt"]) == 2
    meta = s3.head_object(Bucket=b, Key="p/d/e/c.txt")["Metadata"]
    assert abs(float(meta["mtime"]) - touched) < 0.001, meta

    # with --checksum, a touched file whose bytes did not change is not sent
    later = time.time() + 10800
    os.utime(src / "a.txt", (later, later))
    before = versions(s3, b, "p/")
    r = cli.run("backup", "--checksum", src, dst).check(0)
    s = r.summary()
    assert (s["new"], s["changed"], s["same"]) == (0, 0, 3), r
    assert versions(s3, b, "p/") == before


def test_checksum_finds_same_size_same_mtime_change_and_caches_hashes(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b = bucket("sum")
    src = tmp_path / "src"
    write_tree(src, FILES)
    dst = f"s3://{b}/p"
    cli.run("backup", src, dst).check(0)

    # same size, same mtime, other bytes: invisible to size + mtime ...
    path = src / "d/e/c.txt"
    st = path.stat()
    path.write_bytes(b"C" * 1000)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    before = versions(s3, b, "p/")
    plain = cli.run("backup", src, dst).check(0)
    assert plain.summary()["changed"] == 0, plain
    assert versions(s3, b, "p/") == before

    # ... but not to --checksum
    summed = cli.run("backup", "--checksum", src, dst).check(0)
    assert summed.out == ["* d/e/c.txt  (content (md5))"], summed
    assert summed.summary()["changed"] == 1, summed
    assert s3.get_object(Bucket=b, Key="p/d/e/c.txt")["Body"].read() == b"C" * 1000
    assert len(versions(s3, b, "p/")["d/e/c.txt"]) == 2

    # every local file was hashed once and cached
    cached = _hash_rows(cli)
    assert set(cached) == {"a.txt", "b.bin", "c.txt"}, cached

    # a rerun does not hash again: it takes the cached MD5. Proof without timing: poison one cached MD5, and the
    # dry run believes the poisoned value (it would find b.bin unchanged if it had read the file again)
    db = sqlite3.connect(Path(cli.env["CLOUDPANE_CACHE_DIR"]) / "hashes.sqlite3")
    with db:
        db.execute("UPDATE md5v2 SET md5 = ? WHERE path LIKE ?", ("0" * 32, "%/b.bin"))
    db.close()
    poisoned = cli.run("backup", "--checksum", "--dry-run", src, dst).check(0)
    assert [line for line in poisoned.out if not line.startswith("=")] == ["* d/b.bin  (content (md5))"], poisoned
    assert poisoned.summary()["changed"] == 1, poisoned
    assert len(_hash_rows(cli)) == 3


def test_checksum_cache_notices_an_in_place_rewrite_with_restored_mtime(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """The hash cache is keyed by (path, size, mtime_ns, inode). A file rewritten in place (same inode) with the
    same size and its mtime put back has the same key, so a second ``--checksum`` run reads the stale MD5 and
    misses the change --checksum exists for. The ctime (which utime cannot set back) does change."""
    b = bucket("stale")
    src = tmp_path / "src"
    write_tree(src, FILES)
    dst = f"s3://{b}/p"
    cli.run("backup", src, dst).check(0)
    filled = cli.run("backup", "--checksum", src, dst).check(0)  # compares by MD5: fills the cache
    assert filled.summary()["same"] == 3 and len(_hash_rows(cli)) == 3, filled

    path = src / "d/e/c.txt"
    st = path.stat()
    with open(path, "r+b") as f:  # in place: the inode stays
        f.write(b"X" * 1000)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_ino == st.st_ino and path.stat().st_ctime_ns != st.st_ctime_ns

    r = cli.run("backup", "--checksum", src, dst).check(0)
    assert r.summary()["changed"] == 1, f"--checksum used a stale cached MD5 for d/e/c.txt\n{r}"
    assert s3.get_object(Bucket=b, Key="p/d/e/c.txt")["Body"].read() == b"X" * 1000


def test_what_a_backup_leaves_out(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    b = bucket("filters", versioned=False)
    src = tmp_path / "src"
    write_tree(
        src,
        {
            "keep.txt": b"k",
            "d/keep2.txt": b"k2",
            "other/build": b"a file named build is not the build/ folder",
            "d/buildfile.txt": b"b",
            # hidden files and folders
            ".hidden.txt": b"h",
            ".git/config": b"[core]",
            "d/.cache/x": b"x",
            # OS junk: always left out
            ".DS_Store": b"junk",
            "d/.DS_Store": b"junk",
            "d/Thumbs.db": b"junk",
            "desktop.ini": b"junk",
            # --exclude '*.log' --exclude 'build/'
            "app.log": b"log",
            "d/deep/x.log": b"log",
            "build/out.o": b"obj",
            "d/build/out.o": b"obj",
            # .cloudpaneignore: secret/, *.tmp, and a negation of the --exclude
            "secret/key.pem": b"pem",
            "d/secret/key.pem": b"pem",
            "notes.tmp": b"tmp",
            "keep.log": b"kept by !keep.log",
            ".cloudpaneignore": b"# cloudpane ignore file\nsecret/\n*.tmp\n!keep.log\n",
        },
    )
    default, hidden = cli.run_many(
        ["backup", "--exclude", "*.log", "--exclude", "build/", src, f"s3://{b}/default"],
        ["backup", "--include-hidden", "--exclude", "*.log", "--exclude", "build/", src, f"s3://{b}/hidden"],
    )
    visible = ["d/buildfile.txt", "d/keep2.txt", "keep.log", "keep.txt", "other/build"]
    assert default.check(0).summary()["new"] == len(visible), default
    assert keys(s3, b, "default/") == visible
    assert hidden.check(0).summary()["new"] == len(visible) + 3, hidden
    assert keys(s3, b, "hidden/") == sorted([*visible, ".git/config", ".hidden.txt", "d/.cache/x"])

    # without the excludes, *.log and build/ go too; the ignore file and OS junk still do not
    plain = cli.run("backup", src, f"s3://{b}/plain").check(0)
    assert keys(s3, b, "plain/") == sorted([*visible, "app.log", "build/out.o", "d/build/out.o", "d/deep/x.log"]), plain


def test_symlinks_skipped_by_default_and_followed_without_looping(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b = bucket("links", versioned=False)
    src = tmp_path / "src"
    write_tree(src, {"real.txt": b"real", "dir/inner.txt": b"inner"})
    (src / "link-file").symlink_to("real.txt")
    (src / "dir" / "loop").symlink_to("..", target_is_directory=True)  # dir/loop -> src: a loop
    (src / "dangling").symlink_to(tmp_path / "nowhere")
    (src / "self").symlink_to("self")  # ELOOP when followed

    default, follow = cli.run_many(
        ["backup", src, f"s3://{b}/default"],
        ["backup", "--follow-symlinks", src, f"s3://{b}/follow"],
    )
    assert default.check(0).summary()["new"] == 2, default
    assert keys(s3, b, "default/") == ["dir/inner.txt", "real.txt"]
    assert follow.check(0).summary()["new"] == 3, follow  # the CLI timeout fails the test if the loop hangs
    assert objects(s3, b, "follow/") == {"dir/inner.txt": b"inner", "link-file": b"real", "real.txt": b"real"}
