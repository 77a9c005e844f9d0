"""rclone and cloudpane agree on what changed (rclone's ``mtime`` and ``md5chksum`` metadata), on both servers.

rclone runs with ``--config /dev/null`` and a remote ``x:`` defined by ``RCLONE_CONFIG_X_*`` environment
variables only, pointed at the same server as cloudpane.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers import S3Server
from tests.sync.conftest import Cli, cli_for, rclone, versions, write_tree

MiB = 1024 * 1024


@pytest.fixture(params=["moto", "rclone"])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[S3Server, Cli, Any, str]:
    """(server, cli, boto3 client, fresh bucket) for each server."""
    server: S3Server = request.getfixturevalue(f"{request.param}_server")
    client = request.getfixturevalue("s3" if request.param == "moto" else "rclone_s3")
    make: Callable[..., str] = request.getfixturevalue("bucket" if request.param == "moto" else "rclone_bucket")
    return server, cli_for(server, tmp_path), client, make("rc")


def _small_tree(root: Path) -> dict[str, bytes]:
    files = {"a.txt": b"a" * 3000, "d/b.bin": os.urandom(5000), "d/e/c.txt": b"c\n" * 700, "empty": b""}
    write_tree(root, files)
    return files


def test_tree_uploaded_by_rclone_is_not_uploaded_again(side: tuple[S3Server, Cli, Any, str], tmp_path: Path) -> None:
    server, cli, client, b = side
    src = tmp_path / "src"
    files = _small_tree(src)
    up = rclone(server, "copy", src, f"x:{b}/p")
    assert up.returncode == 0, up.stderr
    before = versions(client, b, "p/") if server.name == "moto" else None

    r = cli.run("backup", "--json", src, f"s3://{b}/p").check(0)
    j = r.json()
    assert (j["new"], j["changed"], j["same"], j["bytes"]) == (0, 0, len(files), 0), r
    if before is not None:
        assert versions(client, b, "p/") == before


def test_backup_passes_rclone_check(side: tuple[S3Server, Cli, Any, str], tmp_path: Path) -> None:
    server, cli, client, b = side
    src = tmp_path / "src"
    _small_tree(src)
    (src / "big.bin").write_bytes(os.urandom(12 * MiB))  # > 8 MiB parts: a multipart upload

    cli.run("backup", src, f"s3://{b}/p").check(0)
    head = client.head_object(Bucket=b, Key="p/big.bin")
    if server.name == "moto":  # rclone's server computes its own ETag and keeps no metadata of its own
        assert head["ETag"].strip('"').endswith("-2"), head
        assert head["Metadata"].get("md5chksum"), head

    check = rclone(server, "check", src, f"x:{b}/p")
    assert check.returncode == 0, check.stderr
    assert "0 differences found" in check.stderr, check.stderr
    assert "5 matching files" in check.stderr, check.stderr
    assert "could not be checked" not in check.stderr, check.stderr  # every hash was compared


def test_rclone_sees_no_modtime_change_after_a_backup(
    cli: Cli, moto_server: S3Server, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    """The ``mtime`` metadata cloudpane writes must be the file's mtime to the nanosecond, as rclone writes and
    compares it (S3's modtime precision in rclone is 1 ns); otherwise the next ``rclone sync`` of the same tree
    rewrites the metadata of every object with a server-side copy (a new version in a versioned bucket)."""
    b = bucket("mt")
    src = tmp_path / "src"
    _small_tree(src)
    os.utime(src / "a.txt", ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    cli.run("backup", src, f"s3://{b}/p").check(0)
    meta = s3.head_object(Bucket=b, Key="p/a.txt")["Metadata"]
    assert meta["mtime"] == "1700000000.123456789", meta
    before = versions(s3, b, "p/")

    r = rclone(moto_server, "copy", "-v", src, f"x:{b}/p")
    assert r.returncode == 0, r.stderr
    assert "modification time" not in r.stderr, r.stderr
    assert versions(s3, b, "p/") == before
