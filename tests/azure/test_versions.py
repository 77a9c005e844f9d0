"""Blob versions and soft delete (tui/storage/azure/versions.py, AzureStore.list_versions and the version
operations).

Azurite keeps neither versions nor soft-deleted blobs: against it, ``Features`` says so after the probe and every
version operation is a one-line refusal (exit 2 in the CLI, as S3 stores without versioning). The mapping of a
versioned / soft-deleting account's listing is tested on List Blobs responses in the documented shape
(https://learn.microsoft.com/rest/api/storageservices/list-blobs: ``VersionId``, ``IsCurrentVersion``,
``Deleted``, ``DeletedTime``, ``HasVersionsOnly``), parsed by the SDK's own deserializer and turned into
``BlobProperties`` by the SDK's own code, as ``list_blobs(include=["versions", "deleted"])`` does."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from azure.storage.blob import BlobProperties
from azure.storage.blob._deserialize import get_blob_properties_from_generated_code
from azure.storage.blob._generated import models
from azure.storage.blob._generated._utils.serialization import Deserializer

from tests.servers import AzuriteServer
from tui.errors import UnsupportedError
from tui.storage.azure.store import AzureStore
from tui.storage.azure.versions import NO_CURRENT, NO_VERSIONS, SOFT_DELETED, grouped, key_rows
from tui.storage.base import Entry

V1, V2, V3 = "2024-01-01T10:00:00.0000000Z", "2024-02-01T10:00:00.0000000Z", "2024-03-01T10:00:00.0000000Z"


def blob_xml(
    name: str,
    *,
    version: str | None = None,
    current: bool | None = None,
    deleted: bool = False,
    versions_only: bool = False,
    size: int = 3,
) -> str:
    parts = [f"<Name>{name}</Name>"]
    if deleted:
        parts.append("<Deleted>true</Deleted>")
    if version:
        parts.append(f"<VersionId>{version}</VersionId>")
    if current is not None:
        parts.append(f"<IsCurrentVersion>{'true' if current else 'false'}</IsCurrentVersion>")
    props = (
        "<Properties><Creation-Time>Mon, 01 Jan 2024 10:00:00 GMT</Creation-Time>"
        "<Last-Modified>Mon, 01 Jan 2024 10:00:00 GMT</Last-Modified><Etag>0x8DC0A1B2C3D4E5F</Etag>"
        f"<Content-Length>{size}</Content-Length><Content-Type>text/plain</Content-Type>"
        "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><LeaseStatus>unlocked</LeaseStatus>"
        "<LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>"
        + (
            "<DeletedTime>Fri, 01 Mar 2024 12:00:00 GMT</DeletedTime><RemainingRetentionDays>6</RemainingRetentionDays>"
            if deleted
            else ""
        )
        + "</Properties>"
    )
    parts.append(props)
    if versions_only:
        parts.append("<HasVersionsOnly>true</HasVersionsOnly>")
    return "<Blob>" + "".join(parts) + "</Blob>"


def listing(*blobs: str, next_marker: str = "") -> list[BlobProperties]:
    """A List Blobs response body through the SDK's deserializer and its BlobProperties builder."""
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<EnumerationResults ServiceEndpoint="https://myaccount.blob.core.windows.net/" ContainerName="c">'
        "<MaxResults>5000</MaxResults><Blobs>"
        + "".join(blobs)
        + "</Blobs>"
        + (f"<NextMarker>{next_marker}</NextMarker>" if next_marker else "<NextMarker />")
        + "</EnumerationResults>"
    )
    deserializer = Deserializer({k: v for k, v in models.__dict__.items() if isinstance(v, type)})
    response = deserializer("ListBlobsFlatSegmentResponse", xml, content_type="application/xml")
    return [get_blob_properties_from_generated_code(item) for item in response.segment.blob_items]


def rows(*pages: list[BlobProperties]) -> list[Entry]:
    out: list[Entry] = []
    carry: list[Entry] = []
    for page in pages:
        done, carry = grouped(page, carry)
        out.extend(done)
    return out + (key_rows(carry) if carry else [])


def brief(entries: list[Entry]) -> list[tuple[str, str | None, bool | None, bool]]:
    return [(e.key, e.version_id, e.is_latest, e.is_delete_marker) for e in entries]


def test_versions_soft_deleted_and_deleted_versioned_blobs() -> None:
    page = listing(
        # a.txt: two versions (Azure lists them oldest first), the newer is the current blob
        blob_xml("a.txt", version=V1, current=False),
        blob_xml("a.txt", version=V2, current=True, size=5),
        # b.txt: soft-deleted on an account without versioning
        blob_xml("b.txt", deleted=True),
        # c.txt: deleted on a versioned account: versions only, none current
        blob_xml("c.txt", version=V1, versions_only=True),
        blob_xml("c.txt", version=V3, versions_only=True),
        # d.txt: a live blob written before versioning was turned on (no version id)
        blob_xml("d.txt"),
    )
    got = rows(page)
    assert brief(got) == [
        ("a.txt", V2, True, False),
        ("a.txt", V1, False, False),
        ("b.txt", SOFT_DELETED, True, True),
        ("c.txt", NO_CURRENT, True, True),
        ("c.txt", V3, False, False),
        ("c.txt", V1, False, False),
        ("d.txt", None, True, False),
    ]
    a2 = got[0]
    assert (a2.size, a2.etag, a2.storage_class) == (5, "0x8DC0A1B2C3D4E5F", "Hot")
    assert got[2].last_modified is not None and got[2].last_modified.month == 3  # the deletion time


def test_a_key_split_across_pages_gets_one_marker() -> None:
    first = listing(blob_xml("a.txt", version=V2, current=True), blob_xml("c.txt", version=V1), next_marker="m")
    second = listing(blob_xml("c.txt", version=V2), blob_xml("e.txt", version=V1, current=True))
    got = rows(first, second)
    assert brief(got) == [
        ("a.txt", V2, True, False),
        ("c.txt", NO_CURRENT, True, True),
        ("c.txt", V2, False, False),
        ("c.txt", V1, False, False),
        ("e.txt", V1, True, False),
    ]


def test_a_soft_deleted_blob_beside_a_live_one_is_not_the_latest() -> None:
    got = rows(listing(blob_xml("a.txt", deleted=True), blob_xml("a.txt")))
    assert brief(got) == [("a.txt", SOFT_DELETED, False, True), ("a.txt", None, True, False)]


async def test_azurite_keeps_no_versions_and_every_version_operation_is_refused(container: AzureStore) -> None:
    await container.put("k.txt", b"abc")
    features = await container.probe()
    assert (features.versions, features.soft_delete) == (False, False)
    assert container.features.versions is False
    with pytest.raises(UnsupportedError, match=re.escape(NO_VERSIONS)):
        async for _page in container.list_versions("k.txt", exact=True):
            pass
    calls = {
        "stat": lambda: container.stat("k.txt", version_id=V1),
        "delete": lambda: container.delete("k.txt", version_id=V1),
        "undelete": lambda: container.delete("k.txt", version_id=SOFT_DELETED),
        "copy": lambda: container.copy("k.txt", "k.txt", src_version_id=V1),
        "presign": lambda: container.presign("k.txt", expires=timedelta(hours=1), version_id=V1),
    }
    for name, call in calls.items():
        with pytest.raises(UnsupportedError) as info:
            await call()
        assert str(info.value).count("\n") == 0 and NO_VERSIONS in str(info.value), name
    with pytest.raises(UnsupportedError, match=re.escape(NO_VERSIONS)):
        async for _chunk in container.read("k.txt", version_id=V1):
            pass
    # the blob is untouched by the refused operations
    assert b"".join([c async for c in container.read("k.txt")]) == b"abc"


def test_cli_versions_on_azurite_is_one_line_and_exit_2(
    container: AzureStore, azurite_server: AzuriteServer, tmp_path: Path
) -> None:
    env = {**os.environ, **azurite_server.env(), "CLOUDPANE_STATE_DIR": str(tmp_path)}
    env.pop("CLOUDPANE_DEBUG", None)
    for args in (
        ["versions", f"az://{container.bucket}/k.txt"],
        ["rm", "--version-id", V1, f"az://{container.bucket}/k.txt"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "tui", *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 2, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and NO_VERSIONS in lines[0], proc.stderr
