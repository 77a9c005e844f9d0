"""backup, restore and sync on az:// (Azurite), with rclone's azureblob backend pointed at the same Azurite:
``rclone check`` finds no differences after a cloudpane backup, and each tool sees the other's uploads as its own
(rclone's Azure ``mtime`` is RFC 3339, its MD5 the blob's Content-MD5), so nothing is sent twice.

rclone runs with ``--config /dev/null`` and the remote ``:azureblob:`` configured by ``RCLONE_AZUREBLOB_*``
environment variables only."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.servers import AzuriteServer, rclone_binary
from tests.sync.conftest import CLI_TIMEOUT_S, Cli, cli_for, tree, write_tree

MiB = 1024 * 1024


def rclone(server: AzuriteServer, *args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_", "AZURE_"))}
    env.update(
        RCLONE_AZUREBLOB_ACCOUNT=server.access_key,
        RCLONE_AZUREBLOB_KEY=server.secret_key,
        RCLONE_AZUREBLOB_ENDPOINT=server.blob_endpoint,
    )
    return subprocess.run(
        [str(rclone_binary()), "--config", "/dev/null", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


@pytest.fixture
def az(azurite_server: AzuriteServer, tmp_path: Path) -> Cli:
    cli = cli_for(azurite_server, tmp_path)
    cli.env["CLOUDPANE_PART_SIZE"] = "5MiB"
    return cli


@pytest.fixture
def container(azurite_server: AzuriteServer) -> Iterator[str]:
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string, api_version="2025-11-05")
    name = f"sync-{os.urandom(6).hex()}"
    service.create_container(name)
    try:
        yield name
    finally:
        service.delete_container(name)


def _tree(root: Path) -> dict[str, bytes]:
    files = {
        "a.txt": b"a" * 3000,
        "d/b.bin": os.urandom(5000),
        "d/e/c.txt": b"c\n" * 700,
        "empty": b"",
        "big.bin": os.urandom(12 * MiB),  # three blocks
    }
    write_tree(root, files)
    os.utime(root / "a.txt", ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    return files


def mod_times(server: AzuriteServer, remote: str) -> dict[str, str]:
    r = rclone(server, "lsjson", "-R", "--files-only", remote)
    assert r.returncode == 0, r.stderr
    return {e["Path"]: e["ModTime"] for e in json.loads(r.stdout)}


def test_backup_to_az_passes_rclone_check_and_sends_nothing_the_second_time(
    az: Cli, azurite_server: AzuriteServer, container: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    files = _tree(src)
    first = az.run("backup", "--json", src, f"az://{container}/bk").check(0).json()
    assert (first["new"], first["changed"], first["failed"]) == (len(files), 0, 0), first

    check = rclone(azurite_server, "check", src, f":azureblob:{container}/bk")
    assert check.returncode == 0, check.stderr
    assert "0 differences found" in check.stderr, check.stderr
    assert f"{len(files)} matching files" in check.stderr, check.stderr
    assert "could not be checked" not in check.stderr, check.stderr  # every MD5 was compared
    # rclone reads cloudpane's mtime as the file's, to the nanosecond (its Azure form is RFC 3339)
    times = mod_times(azurite_server, f":azureblob:{container}/bk")
    assert times["a.txt"] == "2023-11-14T22:13:20.123456789Z", times
    up = rclone(azurite_server, "copy", "-v", src, f":azureblob:{container}/bk")
    assert up.returncode == 0, up.stderr
    assert "Copied" not in up.stderr and "Updated modification time" not in up.stderr, up.stderr

    second = az.run("backup", "--json", src, f"az://{container}/bk").check(0).json()
    assert (second["new"], second["changed"], second["same"], second["bytes"]) == (0, 0, len(files), 0), second


def test_a_tree_rclone_uploaded_to_azure_is_not_uploaded_again_and_restores(
    az: Cli, azurite_server: AzuriteServer, container: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    files = _tree(src)
    up = rclone(azurite_server, "copy", src, f":azureblob:{container}/p")
    assert up.returncode == 0, up.stderr
    again = az.run("backup", "--json", src, f"az://{container}/p").check(0).json()
    assert (again["new"], again["changed"], again["same"], again["bytes"]) == (0, 0, len(files), 0), again

    out = tmp_path / "restored"
    az.run("restore", f"az://{container}/p", out).check(0)
    assert tree(out) == files
    assert (out / "a.txt").stat().st_mtime_ns == 1_700_000_000_123_456_789


def test_sync_to_az_deletes_what_is_gone_and_rclone_agrees(
    az: Cli, azurite_server: AzuriteServer, container: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    files = _tree(src)
    az.run("sync", src, f"az://{container}/s").check(0)
    (src / "d" / "b.bin").unlink()
    (src / "a.txt").write_bytes(b"changed")
    az.run("sync", src, f"az://{container}/s").check(0)
    check = rclone(azurite_server, "check", src, f":azureblob:{container}/s")
    assert check.returncode == 0, check.stderr
    assert f"{len(files) - 1} matching files" in check.stderr, check.stderr
