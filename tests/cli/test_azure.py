"""``cloudpane`` on Azure Blob (az://), as a user runs it: the real executable, Azurite from the suite, the az cli
environment (``AZURE_STORAGE_CONNECTION_STRING``, or ``AZURE_STORAGE_ACCOUNT`` + ``AZURE_STORAGE_KEY``)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import secrets
import urllib.request
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from tests.cli.conftest import Cli, tree
from tests.servers import AzuriteServer

MiB = 1024 * 1024
_counter = itertools.count()
_RUN = secrets.token_hex(3)
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def container_name(stem: str) -> str:
    return f"cli-{stem}-{_RUN}-{next(_counter)}"


@pytest.fixture
def az_cli(azurite_server: AzuriteServer, tmp_path: Path) -> Cli:
    # small blocks: a 20 MiB file goes up in 4 blocks
    return Cli({**azurite_server.env(), "CLOUDPANE_PART_SIZE": "5MiB"}, cwd=tmp_path)


@pytest.fixture(scope="module")
def blob_service(azurite_server: AzuriteServer) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite_server.connection_string, api_version="2025-11-05")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_mb_cp_ls_rm_rb_with_a_multi_block_file(az_cli: Cli, tmp_path: Path, blob_service: BlobServiceClient) -> None:
    name = container_name("up")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MiB))
    assert az_cli.run("mb", f"az://{name}").check().stdout_lines == [f"make_bucket: {name}"]
    assert any(line.endswith(f" {name}") for line in az_cli.run("ls", "az://").check().stdout_lines)

    az_cli.run("cp", big, f"az://{name}/dir/big.bin").check()
    blob = blob_service.get_blob_client(name, "dir/big.bin")
    committed, _ = blob.get_block_list("committed")
    assert len(committed) == 4  # 5 MiB blocks (CLOUDPANE_PART_SIZE)
    props = blob.get_blob_properties()
    assert bytes(props.content_settings.content_md5) == hashlib.md5(big.read_bytes()).digest()
    assert "mtime" in props.metadata

    listing = az_cli.run("ls", f"az://{name}/").check().stdout_lines
    assert [line.split()[-2:] for line in listing] == [["PRE", "dir/"]]
    rows = [json.loads(line) for line in az_cli.run("ls", "-r", "--json", f"az://{name}/").check().stdout_lines]
    assert [(r["key"], r["size"], r["storage_class"]) for r in rows] == [("dir/big.bin", 20 * MiB, "Hot")]

    out = tmp_path / "down" / "out.bin"
    out.parent.mkdir()
    az_cli.run("cp", f"az://{name}/dir/big.bin", out).check()
    assert sha256_of(out) == sha256_of(big)

    # a container with a blob is not removed (exit 5, one line), and keeps its blob
    line = az_cli.run("rb", f"az://{name}").one_error_line(5)
    assert "not empty" in line
    assert blob.exists()
    assert az_cli.run("rm", f"az://{name}/dir/big.bin").check().stdout_lines == ["delete: dir/big.bin"]
    assert az_cli.run("rb", f"az://{name}").check().stdout_lines == [f"remove_bucket: {name}"]
    assert name not in [c.name for c in blob_service.list_containers()]


def test_blocks_are_4_mib_unless_a_part_size_is_chosen(
    azurite_server: AzuriteServer, tmp_path: Path, blob_service: BlobServiceClient
) -> None:
    """Unset, Azure blocks are 4 MiB (rclone's size; 8 in flight keep a 1 GiB S3 -> Azure copy under 150 MiB of
    RSS); a part size the user chose applies to Azure too."""
    name = container_name("blocks")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * MiB))
    env = {k: v for k, v in azurite_server.env().items() if k != "CLOUDPANE_PART_SIZE"}
    default = Cli(env, cwd=tmp_path)
    default.run("mb", f"az://{name}").check()
    default.run("cp", big, f"az://{name}/default.bin").check()
    Cli({**env, "CLOUDPANE_PART_SIZE": "8MiB"}, cwd=tmp_path).run("cp", big, f"az://{name}/chosen.bin").check()
    sizes = {}
    for key in ("default.bin", "chosen.bin"):
        committed, _ = blob_service.get_blob_client(name, key).get_block_list("committed")
        sizes[key] = [b.size for b in committed]
    assert sizes == {"default.bin": [4 * MiB, 4 * MiB, 1 * MiB], "chosen.bin": [8 * MiB, 1 * MiB]}


def test_recursive_copy_up_and_down(az_cli: Cli, tmp_path: Path, blob_service: BlobServiceClient) -> None:
    name = container_name("tree")
    src = tmp_path / "src"
    (src / "a" / "b").mkdir(parents=True)
    (src / "top.txt").write_text("top")
    (src / "a" / "one.txt").write_text("one")
    (src / "a" / "b" / "two.bin").write_bytes(os.urandom(6 * MiB))  # two blocks
    az_cli.run("mb", f"az://{name}").check()
    try:
        az_cli.run("cp", "-r", src, f"az://{name}/backup/").check()
        keys = [json.loads(x)["key"] for x in az_cli.run("ls", "-r", "--json", f"az://{name}/").check().stdout_lines]
        assert keys == ["backup/a/b/two.bin", "backup/a/one.txt", "backup/top.txt"]
        az_cli.run("cp", "-r", f"az://{name}/backup/", tmp_path / "restored").check()
        assert tree(tmp_path / "restored") == tree(src)
    finally:
        blob_service.delete_container(name)


def test_a_missing_container_exits_4_with_one_line(az_cli: Cli, tmp_path: Path) -> None:
    results = az_cli.run_many(
        ["ls", "az://no-such-container/"],
        ["ls", "az://no-such-container/some/key"],
        ["cp", "az://no-such-container/key", tmp_path / "x"],
        ["rm", "az://no-such-container/key"],
        ["rb", "az://no-such-container"],
    )
    ls_line = results[0].one_error_line(4)
    assert "no-such-container" in ls_line and "ContainerNotFound" in ls_line
    results[1].one_error_line(4)
    assert results[2].returncode == 4, str(results[2])
    assert "Traceback" not in results[2].stderr
    results[3].one_error_line(4)
    results[4].one_error_line(4)
    assert not (tmp_path / "x").exists()


def test_conflicts_and_credentials(az_cli: Cli, azurite_server: AzuriteServer, blob_service: BlobServiceClient) -> None:
    name = container_name("dup")
    az_cli.run("mb", f"az://{name}").check()
    try:
        wrong_key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
        by_key = az_cli.with_env(
            AZURE_STORAGE_CONNECTION_STRING="",
            AZURE_STORAGE_ACCOUNT=azurite_server.access_key,
            AZURE_STORAGE_KEY=azurite_server.secret_key,
            AZURE_STORAGE_SERVICE_ENDPOINT=azurite_server.blob_endpoint,
        )
        exists, listed, denied, nothing = (
            az_cli.run("mb", f"az://{name}"),
            by_key.run("ls", "az://"),
            by_key.with_env(AZURE_STORAGE_KEY=wrong_key).run("ls", "az://"),
            az_cli.with_env(AZURE_STORAGE_CONNECTION_STRING="").run("ls", "az://"),
        )
        assert "already exists" in exists.one_error_line(5)
        assert any(line.endswith(f" {name}") for line in listed.check().stdout_lines)
        line = denied.one_error_line(3)
        assert wrong_key not in denied.stderr + denied.stdout
        assert azurite_server.secret_key not in denied.stderr
        assert "AuthorizationFailure" in line or "403" in line
        assert "AZURE_STORAGE_CONNECTION_STRING" in nothing.one_error_line(3)
    finally:
        blob_service.delete_container(name)


def test_presign_prints_a_working_sas_link(az_cli: Cli, tmp_path: Path, blob_service: BlobServiceClient) -> None:
    name = container_name("sas")
    (tmp_path / "f.txt").write_text("shared")
    az_cli.run("mb", f"az://{name}").check()
    try:
        az_cli.run("cp", tmp_path / "f.txt", f"az://{name}/f.txt").check()
        url = az_cli.run("presign", "--expires", "10m", f"az://{name}/f.txt").check().stdout.strip()
        assert url.startswith(f"http://127.0.0.1:{blob_service.url.split(':')[2].split('/')[0]}/") and "sig=" in url

        def get() -> bytes:
            with _DIRECT.open(url, timeout=10) as resp:
                data: bytes = resp.read()
                return data

        assert asyncio.run(asyncio.to_thread(get)) == b"shared"
        az_cli.run("presign", f"az://{name}/missing.txt").one_error_line(4)
    finally:
        blob_service.delete_container(name)
