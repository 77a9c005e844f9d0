"""One buffer per part in flight: what the engine reads a part into, and what the S3 writer hands to aiohttp.

No server here: these pin the buffer discipline (no copies, exact sizes, torn or long reads refused) that the
1 GiB rows of bench/RESULTS.md measure.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tui.errors import SourceChangedError, TransientError
from tui.storage.s3 import _body
from tui.transfer.copy import _read_file_part, _read_range, _read_small_file, content_md5


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_body_in_one_chunk_is_kept_without_a_copy() -> None:
    data = os.urandom(1000)
    got = await _read_range(_chunks(data), 1000, None, None)
    assert got is data


async def test_chunks_fill_one_buffer_of_the_exact_size() -> None:
    parts = [os.urandom(n) for n in (100, 1, 899)]
    counted: list[int] = []
    got = await _read_range(_chunks(*parts), 1000, counted.append, None)
    assert isinstance(got, bytearray) and len(got) == 1000
    assert bytes(got) == b"".join(parts)
    assert counted == [100, 1, 899]


async def test_a_short_or_long_body_is_refused() -> None:
    with pytest.raises(TransientError, match="short read"):
        await _read_range(_chunks(b"x" * 10, b"y" * 5), 20, None, None)
    with pytest.raises(TransientError, match="long read"):
        await _read_range(_chunks(b"x" * 10, b"y" * 11), 20, None, None)
    assert await _read_range(_chunks(), 0, None, None) == b""


def test_a_file_part_is_one_bytes_with_its_content_md5(tmp_path: Path) -> None:
    data = os.urandom(3 * 65536 + 7)
    f = tmp_path / "f"
    f.write_bytes(data)
    part, digest = _read_file_part(str(f), 65536, 65536 + 7, True)
    assert type(part) is bytes and part == data[65536 : 2 * 65536 + 7]
    assert digest == content_md5(part)
    assert _read_file_part(str(f), 0, 10, False)[1] is None
    with pytest.raises(SourceChangedError):
        _read_file_part(str(f), len(data) - 5, 10, True)  # the file is shorter than it was listed


def test_a_small_file_is_read_and_hashed_in_one_call(tmp_path: Path) -> None:
    f = tmp_path / "s"
    f.write_bytes(b"small file")
    data, digest = _read_small_file(str(f), 10)
    assert data == b"small file" and digest.hexdigest() == hashlib.md5(b"small file").hexdigest()
    with pytest.raises(SourceChangedError):
        _read_small_file(str(f), 9)  # grew since it was listed


def test_the_s3_body_shares_the_part_bytes() -> None:
    data = os.urandom(1024 * 1024)
    body = _body(data)
    assert isinstance(body, io.BytesIO)
    # aiohttp sizes a BytesIO payload with getbuffer(): on a plain BytesIO that copies the whole part
    with body.getbuffer() as view:
        assert view.obj is data and len(view) == len(data)
    assert body.read(10) == data[:10]
    # aiohttp's 256 KiB reads get 1 MiB views of the same bytes: no copy, four times fewer drains per part
    body.seek(0)
    first = body.read(256 * 1024)
    assert isinstance(first, memoryview) and first.obj is data and len(first) == 1024 * 1024
    assert body.tell() == 1024 * 1024 and len(body.read(256 * 1024)) == 0
    small = b"tiny"
    assert _body(small) is small
    mutable = bytearray(data)
    assert _body(mutable) is mutable
