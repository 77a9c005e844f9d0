"""Bad input is exit 2 with one line; missing sources are exit 4; keys never write outside the download root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, all_files, tree


def test_malformed_locations_are_usage_errors(moto_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"x")
    cases = [
        (["ls", "s3:/x"], "s3:/x"),
        (["cp", "s3:///k", "out"], "s3:///k"),
        (["mb", "s3://Bad_Name"], "Bad_Name"),
        (["cp", "f.txt", "s3://Bad_Name/k"], "Bad_Name"),
        (["ls", "nosuch:bucket/k"], "nosuch"),
    ]
    results = moto_cli.run_many(*(args for args, _ in cases))
    for r, (_, named) in zip(results, cases, strict=True):
        line = r.one_error_line(2)
        assert line.startswith("cloudpane: error: "), r
        assert named in line, r
        assert r.stdout == "", r
    assert all_files(tmp_path) == ["f.txt"]


def test_missing_local_source_is_not_found(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("nolocal")
    moto_s3.create_bucket(Bucket=bucket)
    (tmp_path / "real.txt").write_bytes(b"real")
    missing, partly, missing_dir = moto_cli.run_many(
        ["cp", "no-such-file.txt", f"s3://{bucket}/k"],
        ["cp", "real.txt", "no-such-file.txt", f"s3://{bucket}/multi/"],
        ["cp", "-r", "no-such-dir/", f"s3://{bucket}/d/"],
    )
    for r in (missing, missing_dir):
        r.check(4)
        assert r.stdout == "", r
        assert len(r.stderr_lines) == 2, r
        assert r.stderr_lines[0].startswith("cloudpane: failed: ") and "no-such-" in r.stderr_lines[0], r
    # one copied, one missing: exit 1, the failure listed
    partly.check(1)
    assert len(partly.stdout_lines) == 1 and "real.txt" in partly.stdout, partly
    assert [line for line in partly.stderr_lines if "failed: " in line and "no-such-file.txt" in line], partly
    assert partly.stderr_lines[-1] == "cloudpane: copied 1 file(s), 4 Bytes, 1 failed", partly
    objects = moto_s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert [o["Key"] for o in objects] == ["multi/real.txt"]


def test_keys_that_escape_the_download_root_are_refused(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("escape")
    moto_s3.create_bucket(Bucket=bucket)
    evil = ["../evil.txt", "a/../../evil2.txt"]
    good = {"good.txt": b"good\n", "a/nested.txt": b"nested\n"}
    for key in evil:
        moto_s3.put_object(Bucket=bucket, Key=key, Body=b"owned\n")
    for key, data in good.items():
        moto_s3.put_object(Bucket=bucket, Key=key, Body=data)
    stored = sorted(o["Key"] for o in moto_s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert stored == sorted([*evil, *good]), "the server must hold the evil keys verbatim for this test"

    work = tmp_path / "work"
    work.mkdir()
    before = all_files(tmp_path)
    r = moto_cli.run("cp", "-r", f"s3://{bucket}/", "./dst/", cwd=work).check(1)
    failed = [line for line in r.stderr_lines if line.startswith("cloudpane: failed: ")]
    assert len(failed) == 2, r
    for key in evil:
        assert any(key in line for line in failed), r
    assert all("refusing" in line for line in failed), r
    assert r.stderr_lines[-1].endswith(", 2 failed"), r
    assert r.stderr_lines[-1].startswith("cloudpane: copied 2 file(s), "), r
    assert len(r.stdout_lines) == 2, r

    # the good files arrived; nothing was written outside dst, no temp files anywhere
    assert tree(work / "dst") == good
    outside = sorted(set(all_files(tmp_path)) - set(before) - {f"work/dst/{p}" for p in all_files(work / "dst")})
    assert outside == ["work/dst"], outside
    for name in ("evil.txt", "evil2.txt"):
        assert not (tmp_path / name).exists()
        assert not (work / name).exists()
    assert not any(".cloudpane-tmp-" in p for p in all_files(tmp_path))


def test_failed_download_leaves_no_temp_file(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("notmp")
    moto_s3.create_bucket(Bucket=bucket)
    (tmp_path / "dst").mkdir()
    (tmp_path / "dst" / "keep.txt").write_bytes(b"keep")
    to_name, prefix = moto_cli.run_many(
        ["cp", f"s3://{bucket}/missing.bin", "dst/named.bin"],
        ["cp", "-r", f"s3://{bucket}/missing", "dst/"],
    )
    for r in (to_name, prefix):
        r.check(4)
        assert "missing" in r.stderr_lines[0], r
    assert os.listdir(tmp_path / "dst") == ["keep.txt"]
