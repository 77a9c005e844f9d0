"""The acceptance scenario from the brief: a versioned bucket, two uploads, ls/versions as JSON, a missing bucket."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli


def _parse_iso(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    assert when.tzinfo is not None, f"last_modified without a time zone: {text}"
    return when


def test_versioned_bucket_two_uploads_ls_and_versions_json(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("acc")
    r = moto_cli.run("mb", "--versioning", f"s3://{bucket}").check(0)
    assert r.stdout_lines == [f"make_bucket: {bucket} (versioning on)"], r
    assert moto_s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"

    src = tmp_path / "file.txt"
    src.write_bytes(b"first version\n")
    first = moto_cli.run("cp", src, f"s3://{bucket}/k").check(0)
    assert len(first.stdout_lines) == 1 and first.stdout_lines[0].endswith(f"-> s3://{bucket}/k (14 Bytes)"), first
    # summary on stderr (results on stdout)
    assert first.stderr_lines == ["cloudpane: copied 1 file(s), 14 Bytes"], first

    # The upload records the file's mtime (rclone's ``mtime`` metadata); that is what "newer" compares.
    meta = moto_s3.head_object(Bucket=bucket, Key="k")["Metadata"]
    assert abs(float(meta["mtime"]) - src.stat().st_mtime) < 0.001, meta

    # The second write: a freshly rewritten local file is newer than the object, so a plain cp (no -f) overwrites.
    time.sleep(0.02)
    src.write_bytes(b"second version, longer\n")
    moto_cli.run("cp", src, f"s3://{bucket}/k").check(0)
    assert moto_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second version, longer\n"

    ls_json, versions_json, versions_text = moto_cli.run_many(
        ["ls", "--json", f"s3://{bucket}"],
        ["versions", "--json", f"s3://{bucket}/k"],
        ["versions", f"s3://{bucket}/k"],
    )
    ls_json.check(0)
    assert ls_json.stderr == "", ls_json
    rows = [json.loads(line) for line in ls_json.stdout_lines]
    assert len(rows) == 1, ls_json
    row = rows[0]
    head = moto_s3.head_object(Bucket=bucket, Key="k")
    assert row["key"] == "k"
    assert row["size"] == 23
    assert row["etag"] == head["ETag"].strip('"')
    assert row["storage_class"] == "STANDARD"
    assert abs(_parse_iso(row["last_modified"]).timestamp() - head["LastModified"].timestamp()) < 1

    versions_json.check(0)
    got = [json.loads(line) for line in versions_json.stdout_lines]
    listed = moto_s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]
    assert len(got) == 2 == len(listed), versions_json
    expected = {v["VersionId"]: (v["ETag"].strip('"'), v["IsLatest"], v["Size"]) for v in listed}
    assert {g["version_id"]: (g["etag"], g["is_latest"], g["size"]) for g in got} == expected
    assert all(g["key"] == "k" for g in got)
    assert all(g.get("is_delete_marker", False) is False for g in got)
    latest = [g for g in got if g["is_latest"]]
    assert len(latest) == 1 and latest[0]["size"] == 23, got
    assert latest[0]["etag"] == head["ETag"].strip('"')
    assert len({g["etag"] for g in got}) == 2  # different contents, different ETags
    for g in got:
        _parse_iso(g["last_modified"])

    versions_text.check(0)
    assert len(versions_text.stdout_lines) == 2, versions_text
    assert sum("[latest " in line for line in versions_text.stdout_lines) == 1, versions_text
    for vid in expected:
        assert any(vid in line for line in versions_text.stdout_lines), versions_text


def test_missing_bucket_is_exit_4_with_one_line(moto_cli: Cli, new_bucket: Any) -> None:
    missing = new_bucket("nosuch")
    results = moto_cli.run_many(
        ["ls", f"s3://{missing}"],
        ["ls", "--json", f"s3://{missing}/some/prefix/"],
        ["cp", f"s3://{missing}/k", "./out"],
    )
    for r in results[:2]:
        line = r.one_error_line(4)
        assert line.startswith("cloudpane: error: "), r
        assert missing in line, r
        assert r.stdout == "", r
    # cp lists each failed item, then its summary line; the exit code is the failures' own
    cp = results[2].check(4)
    assert cp.stdout == "", cp
    assert len(cp.stderr_lines) == 2, cp
    assert cp.stderr_lines[0].startswith(f"cloudpane: failed: s3://{missing}/k: "), cp
    assert cp.stderr_lines[1] == "cloudpane: copied 0 file(s), 0 Bytes, 1 failed", cp
