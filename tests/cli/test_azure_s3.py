"""``cloudpane`` between S3 (``rclone serve s3``) and Azure (Azurite) as a user runs it: the real executable, both
servers from the suite, each configured by its own environment (``AWS_*``, ``AZURE_STORAGE_CONNECTION_STRING``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from azure.storage.blob import BlobServiceClient

from tests.cli.conftest import Cli
from tests.servers import AzuriteServer, S3Server

MiB = 1024 * 1024


def test_s3_to_azure_says_once_that_azurite_cannot_pull_and_copies_every_file(
    rclone_server: S3Server, azurite_server: AzuriteServer, tmp_path: Path
) -> None:
    cli = Cli({**rclone_server.env(), **azurite_server.env(), "CLOUDPANE_PART_SIZE": "5MiB"}, cwd=tmp_path)
    bucket, container = f"src-{os.urandom(4).hex()}", f"dst-{os.urandom(4).hex()}"
    files = {f"t/f{i}.bin": os.urandom(1000 + i) for i in range(5)} | {"t/big.bin": os.urandom(11 * MiB)}
    for key, data in files.items():
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(data)
    cli.run("mb", f"s3://{bucket}").check()
    cli.run("cp", "-r", f"{tmp_path / 't'}/", f"s3://{bucket}/t/").check()
    cli.run("mb", f"az://{container}").check()
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string, api_version="2025-11-05")
    try:
        copied = cli.run("cp", "-r", f"s3://{bucket}/t/", f"az://{container}/t/").check()
        notes = [line for line in copied.stderr_lines if line.startswith("cloudpane: note:")]
        assert notes == [
            "cloudpane: note: az cannot pull from s3 server-side (501 APINotImplemented); streaming through this "
            "machine instead for copies between these two remotes"
        ], copied.stderr
        for key, data in files.items():
            got = service.get_blob_client(container, key).download_blob().readall()
            assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest(), key
    finally:
        service.delete_container(container)
