"""``cloudpane restore s3://bucket/prefix/ DIR``: byte-equal restores, keys that would land outside DIR refused,
no writes through symlinks, no setuid/setgid bits, and ``--as-of`` on a versioned bucket."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.sync.conftest import Cli, tree, write_tree

SPECIAL = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX


def _snapshot(root: Path, skip: set[str]) -> dict[str, bytes | str]:
    """Everything under ``root`` except the top-level names in ``skip``: files by content, links by target."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirs[:] = [d for d in dirs if d not in skip]
        for name in [*files, *dirs]:
            path = here / name
            rel = path.relative_to(root).as_posix()
            if rel.split("/")[0] in skip:
                continue
            if path.is_symlink():
                found[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                found[rel] = path.read_bytes()
            else:
                found[rel] = "dir"
    return found


def test_restore_round_trip_without_special_bits(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    b = bucket("rt", versioned=False)
    src = tmp_path / "src"
    files = {"a.txt": b"alpha\n" * 100, "d/b.bin": bytes(range(256)) * 8, "d/e/setuid": b"#!/bin/sh\n", "sgid": b"g"}
    write_tree(src, files)
    (src / "d/e/setuid").chmod(0o4755)
    (src / "sgid").chmod(0o2775)
    cli.run("backup", src, f"s3://{b}/p").check(0)
    # an object that claims a setuid mode in metadata (as rclone's --metadata would write it)
    s3.put_object(Bucket=b, Key="p/claims-suid", Body=b"x", Metadata={"mode": "104755", "uid": "0", "gid": "0"})
    files["claims-suid"] = b"x"

    out = tmp_path / "out"
    r = cli.run("restore", f"s3://{b}/p/", out).check(0)
    s = r.summary()
    assert (s["new"], s["failed"]) == (5, 0), r
    assert tree(out) == files
    for rel in files:
        mode = (out / rel).stat().st_mode
        assert not mode & SPECIAL, f"{rel} restored with mode {stat.filemode(mode)}"
        if rel != "claims-suid":  # the mtime comes back from the object's mtime metadata
            assert abs((out / rel).stat().st_mtime - (src / rel).stat().st_mtime) < 0.001, rel

    again = cli.run("restore", "--json", f"s3://{b}/p/", out).check(0)
    j = again.json()
    assert (j["new"], j["changed"], j["same"], j["bytes"]) == (0, 0, 5, 0), again
    assert again.out == [again.out[-1]] and again.stderr == "", again


def test_restore_refuses_keys_that_leave_the_directory(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b, root_bucket = bucket("evil", versioned=False), bucket("evilroot", versioned=False)
    out, outside = tmp_path / "out", tmp_path / "outside"
    write_tree(outside, {"file.txt": b"original"})
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)  # a symlink in DIR that points outside
    (out / "flink").symlink_to(outside / "file.txt")
    (out / "sib").symlink_to("../out-evil", target_is_directory=True)
    (tmp_path / "out-evil").mkdir()
    # absolute keys point into tmp_path (never a real /etc) so that a regression cannot damage the machine
    absolute = str(tmp_path / "abs" / "x")
    assert absolute.startswith("/")
    bad = {
        "../x": "'..' path component",
        "/" + absolute.lstrip("/"): "absolute",
        "a/../../x": "'..' path component",
        "..": "'..' path component",
        "../out-evil/x": "'..' path component",  # a sibling whose name starts with DIR's name
        "sib/x": "through the symlink",  # the same sibling through a link
        "link/x": "through the symlink",
        "flink": "",
    }
    good = {"ok.txt": b"ok", "sub/ok2.txt": b"ok2"}
    for rel in bad:
        s3.put_object(Bucket=b, Key=f"p/{rel}", Body=b"evil")
    for rel, data in good.items():
        s3.put_object(Bucket=b, Key=f"p/{rel}", Body=data)
    assert len(s3.list_objects_v2(Bucket=b)["Contents"]) == len(bad) + len(good)  # the server keeps them as is
    s3.put_object(Bucket=root_bucket, Key=absolute, Body=b"evil")  # "/tmp/.../abs/x" at the bucket's root
    s3.put_object(Bucket=root_bucket, Key="fine.txt", Body=b"fine")
    before = _snapshot(tmp_path, skip={"out", "cloudpane"})

    r, r_root = cli.run_many(["restore", f"s3://{b}/p/", out], ["restore", f"s3://{root_bucket}/", tmp_path / "out2"])
    r.check(1)
    warnings = [line for line in r.err if line.startswith("cloudpane: failed: ! ")]
    assert len(warnings) == len(bad), r
    for rel, why in bad.items():
        (line,) = [w for w in warnings if w.startswith(f"cloudpane: failed: ! {rel}  (")]
        assert "refusing" in line and why in line, line
    s = r.summary()
    assert (s["new"], s["failed"]) == (len(good), len(bad)), r
    assert r.stdout.count("\n") == len(good), r

    r_root.check(1)
    assert r_root.summary()["failed"] == 1 and r_root.summary()["new"] == 1, r_root
    assert [line for line in r_root.err if "absolute" in line], r_root
    assert tree(tmp_path / "out2") == {"fine.txt": b"fine"}

    # nothing was written outside DIR, and nothing through the links in it
    assert _snapshot(tmp_path, skip={"out", "out2", "cloudpane"}) == before
    assert not (tmp_path / "abs").exists() and not (tmp_path / "x").exists()
    assert (outside / "file.txt").read_bytes() == b"original"
    assert (out / "flink").is_symlink() and (out / "link").is_symlink()
    assert tree(out) == good

    j = cli.run("restore", "--json", f"s3://{b}/p/", out).check(1).json()
    assert (j["refused"], j["failed"], j["new"], j["same"]) == (len(bad), 0, 0, len(good)), j
    assert len(j["errors"]) == len(bad), j


def test_restore_as_of_a_point_in_time(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    b = bucket("asof")
    put = lambda key, body: s3.put_object(Bucket=b, Key=f"p/{key}", Body=body)  # noqa: E731
    put("a.txt", b"a, version 1")
    put("keep.txt", b"keep")
    put("later-deleted.txt", b"existed at T")
    put("gone.txt", b"deleted before T")
    s3.delete_object(Bucket=b, Key="p/gone.txt")
    when = datetime.now(UTC)  # LastModified is whole seconds, cut down: everything above is at or before T
    time.sleep(1.1)  # ... and everything below is after T
    put("a.txt", b"a, version 2 (longer)")
    s3.delete_object(Bucket=b, Key="p/later-deleted.txt")
    put("new.txt", b"created after T")

    then, now = cli.run_many(
        ["restore", "--as-of", when.isoformat(), f"s3://{b}/p/", tmp_path / "then"],
        ["restore", f"s3://{b}/p/", tmp_path / "now"],
    )
    assert then.check(0).summary()["new"] == 3, then
    assert tree(tmp_path / "then") == {
        "a.txt": b"a, version 1",
        "keep.txt": b"keep",
        "later-deleted.txt": b"existed at T",
    }
    assert now.check(0).summary()["new"] == 3, now
    assert tree(tmp_path / "now") == {
        "a.txt": b"a, version 2 (longer)",
        "keep.txt": b"keep",
        "new.txt": b"created after T",
    }

    # rolling an existing directory back: a.txt changes back to version 1 (a "Z" time works as well)
    back = cli.run("restore", "--as-of", when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), f"s3://{b}/p/", tmp_path / "now")
    s = back.check(0).summary()
    assert (s["changed"], s["new"], s["same"]) == (1, 1, 1), back
    assert (tmp_path / "now" / "a.txt").read_bytes() == b"a, version 1"
