"""One MD5 pass over a local file before its multipart upload gives md5chksum and every part's Content-MD5.

The parts are not hashed again: the server's check of each Content-MD5 (rclone: BadDigest; moto: the engine
compares the ETag) then proves that the bytes sent are the bytes md5chksum was computed from. A file whose bytes
are no longer those hashed is never completed. On both S3 servers (moto and rclone serve s3).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.contract.conftest import REMOTES, Backend
from tests.contract.helpers import empty_and_delete_bucket, new_bucket_name, read_all
from tui.errors import SourceChangedError
from tui.storage.base import ChecksumMismatchError
from tui.storage.local import LocalStore
from tui.storage.meta import MD5_KEY, md5_hex_to_b64
from tui.storage.s3 import S3Store
from tui.transfer import copy as copy_mod
from tui.transfer.copy import CopyOptions, copy_object
from tui.transfer.retry import RetryPolicy

MiB = 1024 * 1024
PART = 5 * MiB
#: 2 whole parts and a short one
DATA = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range((2 * PART + 123_457) // 32 + 1))[
    : 2 * PART + 123_457
]
OPTIONS = CopyOptions(part_size=PART, concurrency=3, retry=RetryPolicy(attempts=2, base=0.01, floor=0.01))


@pytest.fixture(params=REMOTES)
def s3_backend(request: pytest.FixtureRequest) -> Backend:
    kind: str = request.param
    return Backend(kind, request.getfixturevalue(f"{kind}_server"), request.getfixturevalue(f"{kind}_remote"))


@pytest.fixture
async def s3(s3_backend: Backend) -> AsyncIterator[S3Store]:
    remote = s3_backend.remote
    assert remote is not None and s3_backend.server is not None
    bucket = new_bucket_name()
    client: Any = await remote.sdk()
    await client.create_bucket(Bucket=bucket)
    try:
        yield remote.store(bucket)
    finally:
        await empty_and_delete_bucket(remote, bucket, s3_backend.server.storage_dir)


@pytest.fixture
def source(tmp_path: Path) -> LocalStore:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.bin").write_bytes(DATA)
    return LocalStore(tmp_path / "src")


@pytest.mark.parametrize("size", [1, PART - 1, PART, 2 * PART, 2 * PART + 123_457])
def test_the_prepass_digests_are_the_whole_file_and_each_part(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(DATA[:size])
    whole, parts = copy_mod._hash_file_parts(str(path), PART)
    assert whole == hashlib.md5(DATA[:size]).hexdigest()
    assert parts == [hashlib.md5(DATA[i : min(size, i + PART)]).digest() for i in range(0, size, PART)]


async def test_a_local_upload_hashes_each_part_once(
    s3: S3Store, source: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    second: list[int] = []

    def counted(data: Any) -> str:
        second.append(len(data))
        return hashlib.md5(data).hexdigest()

    monkeypatch.setattr(copy_mod, "content_md5", counted)
    real_read = copy_mod._read_file_part
    hashed_on_read: list[bool] = []

    def read(path: str, start: int, size: int, md5: bool) -> tuple[bytes, str | None]:
        hashed_on_read.append(md5)
        return real_read(path, start, size, md5)

    monkeypatch.setattr(copy_mod, "_read_file_part", read)
    await copy_object(source, "f.bin", s3, "k", options=OPTIONS)
    assert hashed_on_read == [False, False, False], "each part was hashed again when read"
    assert second == []
    assert await read_all(s3, "k") == DATA
    assert (await s3.stat("k")).metadata[MD5_KEY] == md5_hex_to_b64(hashlib.md5(DATA).hexdigest())


async def _nothing_left(s3: S3Store) -> None:
    assert [e.key async for page in s3.list("", recursive=True) for e in page] == []
    assert await s3.list_uploads("") == []


async def test_bytes_other_than_those_hashed_are_never_completed(
    s3: S3Store, source: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prepass hashed other bytes for part 2 than the file holds when the part is read (a file rewritten in
    place without a trace): every try of that part is refused (rclone: BadDigest; moto: its ETag is not the digest
    sent), the upload is aborted, nothing is stored. Were the part hashed again when read, it would be stored
    under an md5chksum it does not have."""
    real = copy_mod._hash_file_parts

    def stale(path: str, part_size: int) -> tuple[str, list[bytes]]:
        whole, parts = real(path, part_size)
        parts[1] = hashlib.md5(b"what the file held when it was hashed").digest()
        return whole, parts

    monkeypatch.setattr(copy_mod, "_hash_file_parts", stale)
    with pytest.raises(ChecksumMismatchError):
        await copy_object(source, "f.bin", s3, "k", options=OPTIONS)
    await _nothing_left(s3)


async def test_a_file_edited_after_the_prepass_is_a_changed_source(
    s3: S3Store, source: LocalStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = copy_mod._hash_file_parts
    path = tmp_path / "src" / "f.bin"

    def then_edit(p: str, part_size: int) -> tuple[str, list[bytes]]:
        found = real(p, part_size)
        st = path.stat()
        with open(path, "r+b") as f:
            f.seek(PART + 10)
            f.write(b"EDITED IN PLACE")
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the mtime put back: the ctime still tells
        return found

    monkeypatch.setattr(copy_mod, "_hash_file_parts", then_edit)
    with pytest.raises(SourceChangedError, match="source changed during upload"):
        await copy_object(source, "f.bin", s3, "k", options=OPTIONS)
    await _nothing_left(s3)
