"""cp / mv / rm / rb / presign / ls end to end against moto."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli, all_files, tree
from tests.servers import S3Server

MiB = 1024 * 1024
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _body(s3: Any, bucket: str, key: str, **kw: Any) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def _mb(s3: Any, bucket: str, *, versioning: bool = False) -> None:
    """Set-up buckets come from boto3 (one subprocess less each); ``mb`` itself is tested on its own."""
    s3.create_bucket(Bucket=bucket)
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_cp_every_direction_and_multiple_sources(
    moto_cli: Cli, moto_s3: Any, moto_server: S3Server, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("cp")
    _mb(moto_s3, bucket)
    (tmp_path / "a.txt").write_bytes(b"alpha\n")
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 3)
    (tmp_path / "c.txt").write_bytes(b"")  # empty files are objects too

    up = moto_cli.run("cp", "a.txt", f"s3://{bucket}/dir/a.txt").check(0)
    assert up.stdout_lines == [f"{tmp_path / 'a.txt'} -> s3://{bucket}/dir/a.txt (6 Bytes)"], up
    assert _body(moto_s3, bucket, "dir/a.txt") == b"alpha\n"

    multi, no_folder = moto_cli.run_many(
        ["cp", "a.txt", "b.bin", "c.txt", f"s3://{bucket}/multi/"],
        ["cp", "a.txt", "b.bin", f"s3://{bucket}/not-a-folder"],
    )
    multi.check(0)
    assert len(multi.stdout_lines) == 3, multi
    assert multi.stderr_lines[-1] == "cloudpane: copied 3 file(s), 774 Bytes", multi
    assert _keys(moto_s3, bucket, "multi/") == ["multi/a.txt", "multi/b.bin", "multi/c.txt"]
    assert _body(moto_s3, bucket, "multi/b.bin") == bytes(range(256)) * 3
    assert _body(moto_s3, bucket, "multi/c.txt") == b""
    no_folder.one_error_line(2)
    assert "folder" in no_folder.stderr, no_folder
    assert _keys(moto_s3, bucket, "not-a-folder") == []

    # S3 -> local (into a folder, keeps the name; to a file name), S3 -> S3 on one server (server-side copy)
    (tmp_path / "down").mkdir()
    to_dir, to_name, s2s, s2s_small = moto_cli.run_many(
        ["cp", f"s3://{bucket}/multi/b.bin", "down/"],
        ["cp", f"s3://{bucket}/dir/a.txt", "down/renamed.txt"],
        ["cp", f"s3://{bucket}/multi/b.bin", f"s3://{bucket}/copied/b2.bin"],
        ["cp", f"s3://{bucket}/multi/a.txt", f"s3://{bucket}/copied/a2.txt"],
    )
    to_dir.check(0)
    to_name.check(0)
    s2s.check(0)
    s2s_small.check(0)
    assert (tmp_path / "down" / "b.bin").read_bytes() == bytes(range(256)) * 3
    assert (tmp_path / "down" / "renamed.txt").read_bytes() == b"alpha\n"
    assert sorted(os.listdir(tmp_path / "down")) == ["b.bin", "renamed.txt"]  # no temp files left
    assert _body(moto_s3, bucket, "copied/b2.bin") == bytes(range(256)) * 3
    assert _body(moto_s3, bucket, "copied/a2.txt") == b"alpha\n"
    # server-side: the bytes of multi/a.txt were never fetched (moto logs every request)
    assert moto_server.log_path is not None
    log = moto_server.log_path.read_text(errors="replace")
    assert f"PUT /{bucket}/copied/a2.txt " in log
    assert f"GET /{bucket}/multi/a.txt" not in log
    # the mtime travels: upload records it, the server-side copy keeps it, the download sets it
    src_mtime = (tmp_path / "b.bin").stat().st_mtime
    meta = moto_s3.head_object(Bucket=bucket, Key="copied/b2.bin")["Metadata"]
    assert abs(float(meta["mtime"]) - src_mtime) < 0.001, meta
    assert abs((tmp_path / "down" / "b.bin").stat().st_mtime - src_mtime) < 0.001


def test_cp_recursive_tree_round_trip(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("tree")
    _mb(moto_s3, bucket)
    src = tmp_path / "src"
    files = {
        "top.txt": b"top\n",
        "empty": b"",
        "d1/one.txt": b"one\n",
        "d1/d2/two.bin": os.urandom(3000),
        "d1/d2/d3/deep.txt": b"deep\n" * 100,
        "with space/na\u00efve \u65e5\u672c.txt": "unicode \u00e9\n".encode(),
        "other/x.json": b'{"x": 1}\n',
    }
    for rel, data in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    up = moto_cli.run("cp", "-r", "src/", f"s3://{bucket}/tree/").check(0)
    assert len(up.stdout_lines) == len(files), up
    assert up.stderr_lines[-1].startswith(f"cloudpane: copied {len(files)} file(s), "), up
    assert _keys(moto_s3, bucket) == sorted(f"tree/{rel}" for rel in files)

    # download the prefix (trailing slash: its contents) and, without the slash, as a folder of that name
    back, named = moto_cli.run_many(
        ["cp", "-r", f"s3://{bucket}/tree/", "back/"],
        ["cp", "-r", f"s3://{bucket}/tree", "named/"],
    )
    back.check(0)
    named.check(0)
    assert tree(tmp_path / "back") == tree(src) == files
    assert tree(tmp_path / "named") == files
    assert not any(".cloudpane-tmp-" in p for p in all_files(tmp_path))

    # without -r a folder is refused: exit 2, one line, nothing written
    no_r = moto_cli.run("cp", f"s3://{bucket}/tree/", "nor/").check(2)
    assert len(no_r.stderr_lines) == 2 and "use -r" in no_r.stderr_lines[0], no_r
    assert no_r.stderr_lines[1] == "cloudpane: copied 0 file(s), 0 Bytes, 1 failed", no_r
    assert not (tmp_path / "nor").exists()


def test_multipart_upload_download_and_copy(
    moto_cli: Cli, moto_s3: Any, moto_server: S3Server, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("big")
    _mb(moto_s3, bucket)
    data = os.urandom(20 * MiB + 123)
    (tmp_path / "big.bin").write_bytes(data)

    up = moto_cli.run("cp", "big.bin", f"s3://{bucket}/big.bin").check(0)
    assert "(20.0 MiB)" in up.stdout, up
    head = moto_s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    etag = head["ETag"].strip('"')
    # the default part size is 8 MiB: three parts, and S3's multipart ETag says so
    assert etag.endswith("-3"), etag
    assert hashlib.sha256(_body(moto_s3, bucket, "big.bin")).digest() == hashlib.sha256(data).digest()

    down, s2s = moto_cli.run_many(
        ["cp", f"s3://{bucket}/big.bin", "big-back.bin"],
        ["cp", f"s3://{bucket}/big.bin", f"s3://{bucket}/copy/big.bin"],
    )
    down.check(0)
    s2s.check(0)
    assert (tmp_path / "big-back.bin").read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == ["big-back.bin", "big.bin"]
    assert hashlib.sha256(_body(moto_s3, bucket, "copy/big.bin")).digest() == hashlib.sha256(data).digest()
    assert moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # the upload went in parts; the same-server copy was one CopyObject, not a multipart upload through here
    assert moto_server.log_path is not None
    log = moto_server.log_path.read_text(errors="replace")
    assert f"POST /{bucket}/big.bin?uploads" in log
    assert f"PUT /{bucket}/big.bin?partNumber=" in log or f"PUT /{bucket}/big.bin?uploadId=" in log
    assert f"/{bucket}/copy/big.bin?" not in log


def test_mv_removes_the_source(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("mv")
    _mb(moto_s3, bucket)
    (tmp_path / "m.txt").write_bytes(b"moving\n")
    up = moto_cli.run("mv", "m.txt", f"s3://{bucket}/m.txt").check(0)
    assert up.stderr_lines[-1] == "cloudpane: moved 1 file(s), 7 Bytes", up
    assert not (tmp_path / "m.txt").exists()
    assert _body(moto_s3, bucket, "m.txt") == b"moving\n"

    for key in ("pre/a", "pre/sub/b"):
        moto_s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    s2s, rec = moto_cli.run_many(
        ["mv", f"s3://{bucket}/m.txt", f"s3://{bucket}/moved/m.txt"],
        ["mv", "-r", f"s3://{bucket}/pre/", "local-pre/"],
    )
    s2s.check(0)
    rec.check(0)
    assert _keys(moto_s3, bucket) == ["moved/m.txt"]
    assert _body(moto_s3, bucket, "moved/m.txt") == b"moving\n"
    assert tree(tmp_path / "local-pre") == {"a": b"pre/a", "sub/b": b"pre/sub/b"}

    down = moto_cli.run("mv", f"s3://{bucket}/moved/m.txt", "back.txt").check(0)
    assert down.stderr_lines[-1] == "cloudpane: moved 1 file(s), 7 Bytes", down
    assert (tmp_path / "back.txt").read_bytes() == b"moving\n"
    assert _keys(moto_s3, bucket) == []


def test_mv_onto_itself_keeps_the_data(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    """A move whose destination is its source must not end by deleting the source (= the destination)."""
    bucket = new_bucket("mvself")
    _mb(moto_s3, bucket)
    moto_s3.put_object(Bucket=bucket, Key="k", Body=b"precious")
    moto_s3.put_object(Bucket=bucket, Key="d/k2", Body=b"precious too")
    (tmp_path / "f.txt").write_bytes(b"precious local")
    results = moto_cli.run_many(
        ["mv", "f.txt", "./f.txt"],
        ["mv", f"s3://{bucket}/k", f"s3://{bucket}/"],
        ["mv", "-r", f"s3://{bucket}/d/", f"s3://{bucket}/d/"],
    )
    for r in results:
        assert "Traceback" not in r.stderr, r
        assert r.returncode in (0, 2), r  # a no-op, or refused as bad input
    assert (tmp_path / "f.txt").read_bytes() == b"precious local", results[0]
    assert _keys(moto_s3, bucket) == ["d/k2", "k"], results[1:]
    assert _body(moto_s3, bucket, "k") == b"precious"
    assert _body(moto_s3, bucket, "d/k2") == b"precious too"


def test_newer_destination_is_refused_unless_force(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("newer")
    _mb(moto_s3, bucket)
    old = tmp_path / "old.txt"
    old.write_bytes(b"old local\n")
    os.utime(old, (946684800, 946684800))  # 2000-01-01: older than anything on the server
    moto_s3.put_object(Bucket=bucket, Key="k", Body=b"new remote\n")
    (tmp_path / "new-local.txt").write_bytes(b"new local\n")  # newer than the object below
    moto_s3.put_object(Bucket=bucket, Key="old-remote", Body=b"old remote\n", Metadata={"mtime": "946684800.5"})

    upload, download = moto_cli.run_many(
        ["cp", "old.txt", f"s3://{bucket}/k"],
        ["cp", f"s3://{bucket}/old-remote", "new-local.txt"],
    )
    for r, what in ((upload, f"s3://{bucket}/k"), (download, str(tmp_path / "new-local.txt"))):
        r.check(5)
        assert r.stdout == "", r
        assert len(r.stderr_lines) == 2, r
        assert r.stderr_lines[0].startswith("cloudpane: failed: "), r
        assert what in r.stderr_lines[0] and "newer" in r.stderr_lines[0] and "--force" in r.stderr_lines[0], r
        assert r.stderr_lines[1].endswith("1 failed"), r
    assert _body(moto_s3, bucket, "k") == b"new remote\n"
    assert (tmp_path / "new-local.txt").read_bytes() == b"new local\n"

    # mv of an older source is refused too, and then the source must survive
    moved = moto_cli.run("mv", "old.txt", f"s3://{bucket}/k").check(5)
    assert "newer" in moved.stderr, moved
    assert old.read_bytes() == b"old local\n"

    forced_up, forced_down = moto_cli.run_many(
        ["cp", "-f", "old.txt", f"s3://{bucket}/k"],
        ["cp", "--force", f"s3://{bucket}/old-remote", "new-local.txt"],
    )
    forced_up.check(0)
    forced_down.check(0)
    assert _body(moto_s3, bucket, "k") == b"old local\n"
    assert (tmp_path / "new-local.txt").read_bytes() == b"old remote\n"
    assert (tmp_path / "new-local.txt").stat().st_mtime == pytest.approx(946684800.5, abs=0.001)


def test_rm_rm_recursive_and_rm_version_id(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    plain, versioned = new_bucket("rm"), new_bucket("rmv")
    _mb(moto_s3, plain)
    _mb(moto_s3, versioned, versioning=True)
    for key in ("one", "dir/a", "dir/b", "dir/sub/c", "dirx", "keep/d"):
        moto_s3.put_object(Bucket=plain, Key=key, Body=b"x")

    v1 = moto_s3.put_object(Bucket=versioned, Key="k", Body=b"v1")["VersionId"]
    v2 = moto_s3.put_object(Bucket=versioned, Key="k", Body=b"v2")["VersionId"]

    one, rec, missing, bad_combo, by_version, marker = moto_cli.run_many(
        ["rm", f"s3://{plain}/one"],
        ["rm", "-r", f"s3://{plain}/dir"],
        ["rm", f"s3://{plain}/nothing-here"],
        ["rm", "-r", "--version-id", "abc", f"s3://{plain}/keep/"],
        ["rm", "--version-id", v1, f"s3://{versioned}/k"],
        ["rm", f"s3://{versioned}/k"],
    )
    assert one.check(0).stdout_lines == ["delete: one"], one
    rec.check(0)
    assert sorted(rec.stdout_lines) == ["delete: dir/a", "delete: dir/b", "delete: dir/sub/c"], rec
    missing.one_error_line(4)
    bad_combo.one_error_line(2)
    # `rm -r dir` is the folder dir/, never the sibling key dirx
    assert _keys(moto_s3, plain) == ["dirx", "keep/d"]

    # --version-id deletes that version for good; a plain rm on a versioned bucket adds a delete marker
    assert by_version.check(0).stdout_lines == [f"delete: k version {v1}"], by_version
    assert marker.check(0).stdout_lines == ["delete: k"], marker
    left = moto_s3.list_object_versions(Bucket=versioned, Prefix="k")
    assert [v["VersionId"] for v in left["Versions"]] == [v2]
    assert len(left["DeleteMarkers"]) == 1


def test_rm_recursive_local_names_what_it_deletes(moto_cli: Cli, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    (gone / "sub").mkdir(parents=True)
    (gone / "x").write_bytes(b"x")
    (gone / "sub" / "y").write_bytes(b"y")
    (tmp_path / "kept").write_bytes(b"k")
    r = moto_cli.run("rm", "-r", "gone/").check(0)
    assert not gone.exists()  # the files and the emptied directories
    assert (tmp_path / "kept").exists()
    assert all(line.startswith("delete: ") for line in r.stdout_lines), r
    shown = sorted(line.removeprefix("delete: ") for line in r.stdout_lines)
    # each line names the file deleted: absolute, or relative to the current directory as typed
    assert sorted((tmp_path / s).resolve() for s in shown) == [gone / "sub" / "y", gone / "x"], r


def test_mb_and_rb(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    full, empty = new_bucket("rbfull"), new_bucket("rbempty")
    _mb(moto_s3, full)
    moto_s3.put_object(Bucket=full, Key="x", Body=b"x")

    made, mb_key = moto_cli.run_many(["mb", f"s3://{empty}"], ["mb", f"s3://{empty}/key"])
    assert made.check(0).stdout_lines == [f"make_bucket: {empty}"], made
    assert made.stderr == "", made  # moto has Block Public Access: no warning
    block = moto_s3.get_public_access_block(Bucket=empty)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4, block
    assert moto_s3.get_bucket_versioning(Bucket=empty).get("Status") is None
    mb_key.one_error_line(2)

    not_empty, ok, with_key = moto_cli.run_many(
        ["rb", f"s3://{full}"],
        ["rb", f"s3://{empty}"],
        ["rb", f"s3://{full}/x"],
    )
    line = not_empty.one_error_line(5)
    assert full in line, not_empty
    assert ok.check(0).stdout_lines == [f"remove_bucket: {empty}"], ok
    with_key.one_error_line(2)
    names = {b["Name"] for b in moto_s3.list_buckets()["Buckets"]}
    assert full in names
    assert empty not in names
    assert _keys(moto_s3, full) == ["x"]


def test_presign(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    bucket = new_bucket("presign")
    _mb(moto_s3, bucket)
    moto_s3.put_object(Bucket=bucket, Key="dir/file name+1.txt", Body=b"presigned content\n")

    good, short, too_long, missing = moto_cli.run_many(
        ["presign", f"s3://{bucket}/dir/file name+1.txt"],
        ["presign", "--expires", "90s", f"s3://{bucket}/dir/file name+1.txt"],
        ["presign", "--expires", "8d", f"s3://{bucket}/dir/file name+1.txt"],
        ["presign", f"s3://{bucket}/dir/nope"],
    )
    for r in (good, short):
        r.check(0)
        assert len(r.stdout_lines) == 1, r
        url = r.stdout_lines[0]
        assert url.startswith(moto_cli.env["AWS_ENDPOINT_URL"] + "/"), r
        with _DIRECT.open(url, timeout=10) as reply:
            assert reply.read() == b"presigned content\n"
    assert "X-Amz-Expires=3600" in good.stdout, good
    assert "X-Amz-Expires=90" in short.stdout, short
    assert "7 days" in too_long.one_error_line(2), too_long
    missing.one_error_line(4)
    for r in (too_long, missing):
        assert r.stdout == "", r


def test_ls_buckets_prefixes_recursive_and_local(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("ls")
    _mb(moto_s3, bucket)
    for key in ("a.txt", "dir/b.txt", "dir/sub/c.txt", "z"):
        moto_s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "f.txt").write_bytes(b"12345")
    (tmp_path / "local" / "sub").mkdir()

    buckets, top, rec, rec_json, local, local_missing = moto_cli.run_many(
        ["ls", "s3://"],
        ["ls", f"s3://{bucket}"],
        ["ls", "-r", f"s3://{bucket}"],
        ["ls", "-r", "--json", f"s3://{bucket}/dir/"],
        ["ls", "local"],
        ["ls", "no-such-dir/"],
    )
    for r in (buckets, top, rec, rec_json, local):
        r.check(0)
        assert r.stderr == "", r
    assert any(line.endswith(f" {bucket}") for line in buckets.stdout_lines), buckets

    assert [line.split()[-1] for line in top.stdout_lines] == ["a.txt", "dir/", "z"], top
    assert "PRE" in top.stdout_lines[1], top
    assert top.stdout_lines[0].split()[-2] == "5", top  # size column
    assert [line.split()[-1] for line in rec.stdout_lines] == ["a.txt", "dir/b.txt", "dir/sub/c.txt", "z"], rec
    assert [json.loads(line)["key"] for line in rec_json.stdout_lines] == ["dir/b.txt", "dir/sub/c.txt"], rec_json

    assert [line.split()[-1] for line in local.stdout_lines] == ["f.txt", "sub/"], local
    assert local.stdout_lines[0].split()[-2] == "5", local
    local_missing.one_error_line(4)
