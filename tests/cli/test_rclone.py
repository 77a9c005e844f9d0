"""Against ``rclone serve s3``: stricter about signatures, no versioning."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, all_files, tree
from tests.servers import S3Server


def test_cp_and_ls_round_trip(
    rclone_cli: Cli, rclone_s3: Any, rclone_server: S3Server, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("rc")
    mb = rclone_cli.run("mb", f"s3://{bucket}").check(0)
    assert mb.stdout_lines == [f"make_bucket: {bucket}"], mb
    assert all(line.startswith("cloudpane: warning: ") for line in mb.stderr_lines), mb

    src = tmp_path / "src"
    # two.bin is past the 8 MiB part size: a multipart upload and a ranged, parallel download
    files = {"one.txt": b"one\n", "d/two.bin": os.urandom(9 * 1024 * 1024 + 5), "d/e/three.txt": b"three\n"}
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)

    up_file, up_tree = rclone_cli.run_many(
        ["cp", "src/one.txt", f"s3://{bucket}/single.txt"],
        ["cp", "-r", "src/", f"s3://{bucket}/tree/"],
    )
    up_file.check(0)
    up_tree.check(0)
    assert len(up_tree.stdout_lines) == 3, up_tree
    # rclone keeps plain files: the bucket is a directory of its storage dir
    assert rclone_server.storage_dir is not None
    assert tree(rclone_server.storage_dir / bucket) == {
        "single.txt": b"one\n",
        **{f"tree/{rel}": data for rel, data in files.items()},
    }

    ls, ls_json, buckets, down_tree = rclone_cli.run_many(
        ["ls", f"s3://{bucket}"],
        ["ls", "--json", f"s3://{bucket}/single.txt"],
        ["ls", "s3://"],
        ["cp", "-r", f"s3://{bucket}/tree/", "back/"],
    )
    for r in (ls, ls_json, buckets, down_tree):
        r.check(0)
    assert [line.split()[-1] for line in ls.stdout_lines] == ["single.txt", "tree/"], ls
    (row,) = [json.loads(line) for line in ls_json.stdout_lines]
    head = rclone_s3.head_object(Bucket=bucket, Key="single.txt")
    assert (row["key"], row["size"], row["etag"]) == ("single.txt", 4, head["ETag"].strip('"'))
    assert "last_modified" in row
    assert any(line.endswith(f" {bucket}") for line in buckets.stdout_lines), buckets
    assert tree(tmp_path / "back") == files
    assert not any(".cloudpane-tmp-" in p for p in all_files(tmp_path))


def test_no_versioning_on_rclone(rclone_cli: Cli, rclone_s3: Any, rclone_server: S3Server, new_bucket: Any) -> None:
    bucket, versioned = new_bucket("rcv"), new_bucket("rcnov")
    rclone_s3.create_bucket(Bucket=bucket)
    rclone_s3.put_object(Bucket=bucket, Key="k", Body=b"k")

    mb, versions, ls_versions, rm_version = rclone_cli.run_many(
        ["mb", "--versioning", f"s3://{versioned}"],
        ["versions", "--json", f"s3://{bucket}/k"],
        ["ls", "--versions", f"s3://{bucket}"],
        ["rm", "--version-id", "v1", f"s3://{bucket}/k"],
    )
    line = mb.one_error_line(2)
    assert "versioning" in line, mb
    assert mb.stdout == "", mb
    assert versioned not in {b["Name"] for b in rclone_s3.list_buckets()["Buckets"]}
    assert rclone_server.storage_dir is not None
    assert not (rclone_server.storage_dir / versioned).exists()

    for r in (versions, ls_versions):
        line = r.one_error_line(2)
        assert "version" in line, r
        assert r.stdout == "", r
    # deleting one version cannot be done here either, and must not delete the object instead
    rm_version.check(2)
    assert rclone_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"k"


def test_wrong_secret_is_exit_3(rclone_server: S3Server, rclone_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("rcauth")
    rclone_s3.create_bucket(Bucket=bucket)
    cli = Cli(rclone_server.env(), cwd=tmp_path).with_env(AWS_SECRET_ACCESS_KEY="not-the-secret")
    (tmp_path / "f.txt").write_bytes(b"f")
    buckets, listing, upload = cli.run_many(
        ["ls", "s3://"],
        ["ls", f"s3://{bucket}/"],
        ["cp", "f.txt", f"s3://{bucket}/f.txt"],
    )
    for r in (buckets, listing):
        line = r.one_error_line(3)
        assert line.startswith("cloudpane: error: "), r
        assert "not-the-secret" not in r.stderr, r
        assert r.stdout == "", r
    upload.check(3)
    assert "not-the-secret" not in upload.stderr, upload
    assert rclone_s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
