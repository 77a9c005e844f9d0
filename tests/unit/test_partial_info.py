"""A copy from a listing row (a partial ObjectInfo) needs no ``stat`` when the source's GET says what a HEAD
would (``InfoReader``), and asks ``stat`` when it does not. Real local stores, no mocks: a LocalStore that also
answers ``open_read`` (as the S3 store's GET will) and counts its stats."""

from __future__ import annotations

import os
from pathlib import Path

from tui.storage.base import InfoReader, ObjectInfo, ReadStream, StreamOf
from tui.storage.local import LocalStore
from tui.storage.meta import MTIME_KEY
from tui.transfer.copy import CopyOptions, copy_object

MTIME = "1600000000.5"


class CountingStore(LocalStore):
    """A local store whose objects carry an ``mtime`` metadata value, as an S3 object written by rclone does."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.stats = 0

    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        self.stats += 1
        info = await super().stat(key, version_id=version_id)
        return ObjectInfo(key=key, size=info.size, last_modified=info.last_modified, metadata={MTIME_KEY: MTIME})


class GetSaysAll(CountingStore):
    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> ReadStream:
        size = os.stat(self.path(key)).st_size
        info = ObjectInfo(key=key, size=size, metadata={MTIME_KEY: MTIME})
        chunks = self.read(key, start=start, end=end)
        return StreamOf(info, chunks, chunks.aclose)


async def _copy_listed(src: CountingStore, dst_root: Path) -> None:
    [page] = [p async for p in src.list("", recursive=True)]
    [entry] = page
    listed = ObjectInfo.from_entry(entry)
    assert listed is not None and listed.partial and not listed.metadata
    dst = LocalStore(dst_root)
    await copy_object(src, entry.key, dst, entry.key, info=listed, options=CopyOptions())


async def test_an_info_reader_source_is_copied_from_its_listing_without_a_stat(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    (tmp_path / "src" / "f.txt").write_bytes(b"hello")
    src = GetSaysAll(tmp_path / "src")
    assert isinstance(src, InfoReader)
    await _copy_listed(src, tmp_path / "dst")
    assert src.stats == 0
    assert (tmp_path / "dst" / "f.txt").read_bytes() == b"hello"
    # the metadata came with the GET: the local copy has the object's mtime, not the time of the listing
    assert os.stat(tmp_path / "dst" / "f.txt").st_mtime == float(MTIME)


async def test_without_info_reader_a_partial_info_is_completed_by_stat(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    (tmp_path / "src" / "f.txt").write_bytes(b"hello")
    src = CountingStore(tmp_path / "src")
    assert not isinstance(src, InfoReader)
    await _copy_listed(src, tmp_path / "dst")
    assert src.stats == 1
    assert os.stat(tmp_path / "dst" / "f.txt").st_mtime == float(MTIME)
