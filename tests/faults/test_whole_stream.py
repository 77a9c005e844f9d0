"""A download from a server whose ranged GETs are not native (``Features.partial_content`` false: rclone answers
a Range GET with 200) is one GET of the whole body, cut into parts in order and hashed in order as it arrives.

Through the fault proxy in front of moto, connected as the limited server (``full_s3=False``): the features are
what the engine decides by, the proxy shows every request. A body cut short is taken up by ranged reads from the
first part not written, with the MD5 state carried over; a body that does not hash to the source's MD5 leaves
nothing at the destination.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import connect_through
from tests.faults.proxy import FaultProxy
from tests.faults.test_faults import KEY, PART, PARTS, SIZE, TIMEOUT_S, payload
from tests.servers import S3Server
from tui.storage.local import LocalStore
from tui.storage.meta import MD5_KEY
from tui.storage.s3 import S3Remote
from tui.transfer.copy import CopyOptions, IntegrityError, copy_object
from tui.transfer.retry import RetryPolicy

OPTIONS = CopyOptions(part_size=PART, concurrency=4, retry=RetryPolicy(attempts=3, base=0.01, floor=0.01))


@pytest.fixture
async def limited_remote(fault_proxy: FaultProxy, moto_server: S3Server) -> AsyncIterator[S3Remote]:
    remote = await connect_through(fault_proxy, moto_server, full_s3=False)
    try:
        yield remote
    finally:
        await remote.close()


def _put(s3: Any, bucket: str, data: bytes, md5: bytes | None = None) -> None:
    digest = base64.b64encode(md5 or hashlib.md5(data).digest()).decode()
    s3.put_object(Bucket=bucket, Key=KEY, Body=data, Metadata={MD5_KEY: digest})


async def _download(remote: S3Remote, bucket: str, tmp_path: Path) -> Path:
    dst = tmp_path / "dl"
    dst.mkdir(exist_ok=True)
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(remote.store(bucket), KEY, LocalStore(dst), "blob.bin", options=OPTIONS)
    return dst / "blob.bin"


async def test_one_get_for_the_whole_object(
    fault_proxy: FaultProxy, limited_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    data = payload(50)
    _put(s3, bucket, data)
    assert limited_remote.features.partial_content is False
    got = await _download(limited_remote, bucket, tmp_path)
    assert got.read_bytes() == data
    gets = fault_proxy.find("GetObject")
    assert [g.ranged for g in gets] == [False], "one GET of the whole body, no ranged GET"


async def test_a_body_cut_short_is_taken_up_by_ranged_reads(
    fault_proxy: FaultProxy, limited_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    data = payload(51)
    _put(s3, bucket, data)
    # two parts written, the third broken (the native stream yields chunks of at least 1 MiB: the bytes after the
    # last whole chunk are lost with the connection)
    cut = 2 * PART + 3 * 1024 * 1024
    fault_proxy.add_rule(op="GetObject", action="truncate", ranged=False, after_bytes=cut, times=1)
    got = await _download(limited_remote, bucket, tmp_path)
    assert got.read_bytes() == data
    gets = fault_proxy.find("GetObject")
    assert not gets[0].ranged and gets[0].fault == "truncate"
    # the parts not written when the body broke, read by range: from the third on
    assert sorted(g.range_start or 0 for g in gets[1:]) == [n * PART for n in range(2, PARTS)]
    assert all(g.ranged for g in gets[1:])


async def test_a_body_that_is_not_the_sources_md5_leaves_nothing(
    fault_proxy: FaultProxy, limited_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    data = payload(52)
    _put(s3, bucket, data, md5=hashlib.md5(b"not these bytes").digest())
    with pytest.raises(IntegrityError, match="checksum mismatch"):
        await _download(limited_remote, bucket, tmp_path)
    assert list((tmp_path / "dl").iterdir()) == [], "a file (or a temporary one) was left"


async def test_a_failed_get_falls_back_to_ranged_reads(
    fault_proxy: FaultProxy, limited_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    data = payload(53)
    _put(s3, bucket, data)
    fault_proxy.add_rule(op="GetObject", action="status", status=503, code="SlowDown", ranged=False, times=1)
    got = await _download(limited_remote, bucket, tmp_path)
    assert got.read_bytes() == data
    assert len([g for g in fault_proxy.find("GetObject") if g.ranged]) == PARTS
    assert SIZE > 4 * PART
