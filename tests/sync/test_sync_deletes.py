"""``sync A B`` deletes through the one delete gate, in both directions: never because a side is empty (moved
away, unmounted, or emptied by another client), never more than ``--max-delete`` (default: half of what the last
sync knew) without ``--force``, never after a listing error; a missing side is exit 4.

Every layout is checked where it makes sense: a local directory and an S3 prefix (either order), and two S3
prefixes. Each test first makes a synced pair with a real ``cloudpane sync``, then changes one side behind the
tool's back (``os``/``boto3``), as another program or client would.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.faults.proxy import FaultProxy
from tests.servers import S3Server
from tests.sync.conftest import Cli, keys, make_unreadable, objects, tree, write_tree

FILES = {f"{name}.txt": name.encode() * 50 for name in ("a", "b", "c", "d")}


@dataclass
class Side:
    """One side of a sync: a local directory or an S3 prefix, with what a test does to it directly."""

    s3: Any
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    @property
    def arg(self) -> str:
        return str(self.path) if self.path is not None else f"s3://{self.bucket}/{self.prefix}"

    def files(self) -> dict[str, bytes]:
        return tree(self.path) if self.path is not None else objects(self.s3, self.bucket, self.prefix)

    def remove(self, rel: str) -> None:
        if self.path is not None:
            (self.path / rel).unlink()
        else:
            self.s3.delete_object(Bucket=self.bucket, Key=self.prefix + rel)

    def clear(self) -> None:
        """Empty the side, leaving the directory (or the bucket) in place: another client emptied it."""
        if self.path is not None:
            for child in self.path.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            return
        found = keys(self.s3, self.bucket, self.prefix)
        self.s3.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": self.prefix + k} for k in found], "Quiet": True}
        )
        assert keys(self.s3, self.bucket, self.prefix) == []


LAYOUTS = ["local-s3", "s3-local", "s3-s3"]


def _sides(layout: str, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> tuple[Side, Side]:
    b = bucket("sd", versioned=False)
    made: list[Side] = []
    for i, kind in enumerate(layout.split("-")):
        if kind == "local":
            path = tmp_path / f"side{i}"
            path.mkdir(parents=True)
            made.append(Side(s3, path=path))
        else:
            made.append(Side(s3, bucket=b, prefix=f"side{i}/"))
    return made[0], made[1]


def _synced(cli: Cli, layout: str, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> tuple[Side, Side]:
    """A and B after a first real sync: FILES on both sides, and a sync state that knows them."""
    a, b = _sides(layout, s3, bucket, tmp_path)
    if a.path is not None:
        write_tree(a.path, FILES)
    else:
        for rel, data in FILES.items():
            s3.put_object(Bucket=a.bucket, Key=a.prefix + rel, Body=data)
    first = cli.run("sync", a.arg, b.arg).check(0)
    assert first.summary()["new"] == len(FILES), first
    assert a.files() == FILES and b.files() == FILES
    return a, b


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("emptied", ["a", "b"])
def test_an_emptied_side_deletes_nothing_without_force(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path, layout: str, emptied: str
) -> None:
    """Today's bug: one sync, then A emptied (an unmounted disk, a wrong prefix) or B emptied by another client,
    and the next sync deleted everything on the other side with exit 0."""
    a, b = _synced(cli, layout, s3, bucket, tmp_path)
    gone, kept = (a, b) if emptied == "a" else (b, a)
    gone.clear()

    r = cli.run("sync", a.arg, b.arg)
    line = r.one_error_line(5)
    other = "B" if emptied == "a" else "A"
    assert f"refusing to delete 4 file(s) from {other} (" in line and " is empty " in line, r
    assert "--force" in line, r
    assert r.stdout == "", r
    assert kept.files() == FILES and gone.files() == {}

    # the state still knows the files: the same refusal on the next run, and in the other argument order
    again = cli.run("sync", b.arg, a.arg)
    assert "refusing to delete 4 file(s)" in again.one_error_line(5), again
    assert kept.files() == FILES

    forced = cli.run("sync", "--force", a.arg, b.arg).check(0)
    assert forced.summary()["deleted"] == 4, forced
    assert kept.files() == {} and gone.files() == {}


@pytest.mark.parametrize("layout", ["local-s3", "s3-local"])
def test_a_missing_local_side_is_not_found(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path, layout: str
) -> None:
    """A local side that is not there (moved away, a disk not mounted) is exit 4, and nothing is touched."""
    a, b = _synced(cli, layout, s3, bucket, tmp_path)
    local, remote = (a, b) if a.path is not None else (b, a)
    assert local.path is not None
    local.path.rename(tmp_path / "moved-away")

    r = cli.run("sync", a.arg, b.arg)
    line = r.one_error_line(4)
    assert "no such directory" in line and str(local.path) in line, r
    assert remote.files() == FILES
    assert not local.path.exists()

    forced = cli.run("sync", "--force", a.arg, b.arg)  # --force does not make a missing side empty
    assert "no such directory" in forced.one_error_line(4), forced
    assert remote.files() == FILES

    # a bucket that does not exist is missing too; a prefix with nothing under it is only empty
    moved = tmp_path / "moved-away"
    missing = cli.run("sync", moved, "s3://sync-no-such-bucket-0/p")
    assert "NoSuchBucket" in missing.one_error_line(4), missing
    fresh = bucket("emptyprefix", versioned=False)
    first = cli.run("sync", moved, f"s3://{fresh}/nothing-here").check(0)
    assert first.summary()["new"] == len(FILES), first
    assert objects(s3, fresh, "nothing-here/") == FILES


@pytest.mark.parametrize("layout", LAYOUTS)
def test_more_than_half_lost_is_refused(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path, layout: str
) -> None:
    a, b = _synced(cli, layout, s3, bucket, tmp_path)
    for rel in ("b.txt", "c.txt", "d.txt"):
        b.remove(rel)  # B lost 3 of the 4 files the last sync knew

    # one after the other: two syncs of one pair at once would meet each other's lock
    default = cli.run("sync", a.arg, b.arg)
    low = cli.run("sync", "--max-delete", "1", a.arg, b.arg)
    line = default.one_error_line(5)
    assert "refusing to delete 3 of 4 file(s) from A (" in line and "(limit 2)" in line, default
    assert "(limit 1)" in low.one_error_line(5), low
    assert a.files() == FILES

    plan = cli.run("sync", "--dry-run", "--max-delete", "75%", a.arg, b.arg).check(0)
    assert sorted(line.split("  (")[0] for line in plan.out) == ["- b.txt", "- c.txt", "- d.txt"], plan
    assert a.files() == FILES

    allowed = cli.run("sync", "--max-delete", "3", a.arg, b.arg).check(0)
    assert allowed.summary()["deleted"] == 3, allowed
    assert a.files() == b.files() == {"a.txt": FILES["a.txt"]}


def test_half_lost_is_allowed_and_force_lifts_the_limit(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """The default limit is 50 % of what the last sync knew: 2 of 4 go; 3 of 4 need --force. Both directions."""
    a, b = _synced(cli, "local-s3", s3, bucket, tmp_path)
    a.remove("a.txt")
    b.remove("b.txt")  # one lost on each side: 1 of 4 each way
    r = cli.run("sync", a.arg, b.arg).check(0)
    assert r.summary()["deleted"] == 2, r
    assert a.files() == b.files() == {k: v for k, v in FILES.items() if k in ("c.txt", "d.txt")}

    a2, b2 = _synced(cli, "s3-local", s3, bucket, tmp_path / "two")
    for rel in ("a.txt", "b.txt", "c.txt"):
        a2.remove(rel)
    refused = cli.run("sync", a2.arg, b2.arg)
    assert "refusing to delete 3 of 4 file(s) from B (" in refused.one_error_line(5), refused
    forced = cli.run("sync", "--force", a2.arg, b2.arg).check(0)
    assert forced.summary()["deleted"] == 3, forced
    assert a2.files() == b2.files() == {"d.txt": FILES["d.txt"]}


def test_bad_max_delete_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for value in ("half", "150%", "-1"):
        r = cli.run("sync", "--max-delete", value, tmp_path / "a", tmp_path / "b")
        assert "--max-delete" in r.one_error_line(2), r


def test_an_unreadable_folder_blocks_every_delete(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """A folder on A that cannot be listed must not look deleted: its files stay on B, and no other delete runs
    either (exit 1, the folder named). As root, ``chmod 000`` alone blocks nothing: the CLI is started without
    CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (see make_unreadable), so the listing really fails with EACCES."""
    a, b = _sides("local-s3", s3, bucket, tmp_path)
    assert a.path is not None
    write_tree(a.path, {**FILES, "locked/x.txt": b"x" * 10, "locked/y.txt": b"y" * 10})
    cli.run("sync", a.arg, b.arg).check(0)
    b.remove("a.txt")  # a real delete on B, that would otherwise cross to A
    (a.path / "new.txt").write_bytes(b"new on A")
    preexec = make_unreadable(a.path / "locked")
    try:
        r = cli.run("sync", a.arg, b.arg, preexec=preexec).check(1)
    finally:
        (a.path / "locked").chmod(0o755)
    assert any("cannot read folder" in line and "locked" in line for line in r.err), r
    s = r.summary()
    assert (s["deleted"], s["failed"], s["new"]) == (0, 1, 1), r
    assert {"locked/x.txt", "locked/y.txt"} <= set(b.files()), r  # not taken for deleted on A
    assert (a.path / "a.txt").exists()  # the delete from B did not cross while a listing was incomplete
    assert b.files()["new.txt"] == b"new on A"  # the rest of the sync ran

    # readable again: the state kept what was not deleted, so the delete on B now crosses to A
    fine = cli.run("sync", a.arg, b.arg).check(0)
    assert fine.summary()["deleted"] == 1, fine
    assert not (a.path / "a.txt").exists()
    assert set(b.files()) == {"b.txt", "c.txt", "d.txt", "locked/x.txt", "locked/y.txt", "new.txt"}


async def test_a_failed_listing_page_is_an_error_in_the_march(
    cli: Cli, moto_server: S3Server, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """B's listing fails on its second page (a proxy in front of moto answers every continued ListObjectsV2 with
    500). The failure enters the march as an error: the sync goes on with what it could list (exit 1, the
    failure in a note and the summary), deletes nothing, and copies nothing to B on the strength of a key that
    only looks absent there. Today the run died with one error line instead."""
    count = 1005  # a page holds 1000 keys
    files = {f"k{i:04d}.txt": f"{i}".encode() for i in range(count)}
    a, b = _sides("local-s3", s3, bucket, tmp_path)
    assert a.path is not None
    write_tree(a.path, files)
    for rel, data in files.items():  # the same objects on B, as a backup would have made them: equal at once
        ns = (a.path / rel).stat().st_mtime_ns
        s3.put_object(Bucket=b.bucket, Key=b.prefix + rel, Body=data, Metadata={"mtime": f"{ns / 1e9:.9f}"})
    first = await asyncio.to_thread(cli.run, "sync", a.arg, b.arg)
    assert first.check(0).summary()["same"] == count, first
    (a.path / "k0001.txt").unlink()  # a delete that would cross to B

    proxy = FaultProxy(moto_server.endpoint_url)
    await proxy.start()
    try:
        proxy.add_rule(
            "ListObjectsV2",
            "status",
            times=None,
            status=500,
            code="InternalError",
            match=lambda rec: "continuation-token" in rec.query,
        )
        proxied = Cli({**cli.env, "AWS_ENDPOINT_URL": proxy.url}, cli.cwd)
        r = (await asyncio.to_thread(proxied.run, "sync", a.arg, b.arg)).check(1)
    finally:
        await proxy.stop()
    assert any("listing of" in line and "failed" in line and "InternalError" in line for line in r.err), r
    s = r.summary()
    assert (s["deleted"], s["new"], s["changed"], s["failed"]) == (0, 0, 0, 1), r
    assert s["skipped"] >= 1, r
    assert len(keys(s3, b.bucket, b.prefix)) == count  # k0001.txt is still on B

    fine = (await asyncio.to_thread(cli.run, "sync", a.arg, b.arg)).check(0)  # whole again: the delete crosses
    assert fine.summary()["deleted"] == 1, fine
    assert "k0001.txt" not in keys(s3, b.bucket, b.prefix)

    # a backup from B into A meets the same failure on its source: what only looks gone from B stays in A
    proxy = FaultProxy(moto_server.endpoint_url)
    await proxy.start()
    try:
        proxy.add_rule(
            "ListObjectsV2",
            "status",
            times=None,
            status=500,
            code="InternalError",
            match=lambda rec: "continuation-token" in rec.query,
        )
        proxied = Cli({**cli.env, "AWS_ENDPOINT_URL": proxy.url}, cli.cwd)
        back = (await asyncio.to_thread(proxied.run, "backup", "--delete", b.arg, a.path)).check(1)
    finally:
        await proxy.stop()
    assert any("listing of" in line and "InternalError" in line for line in back.err), back
    assert any("deletion(s) not done" in line for line in back.err), back
    s = back.summary()
    assert (s["deleted"], s["failed"]) == (0, 1) and s["skipped"] >= 1, back
    assert len(tree(a.path)) == count - 1
