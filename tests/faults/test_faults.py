"""Failure injection: ``copy_object`` between a local folder and moto, through the fault proxy (``proxy.py``).

The first half checks the proxy itself: a plain round trip changes nothing, and each rule fires as documented.
The second half is the transfer engine under faults. Every fault test copies a ~23 MiB file of seeded random
bytes in 5 MiB parts (the S3 minimum) and asserts:

* the sha256 of the result equals the source's;
* no multipart upload is left pending on the server;
* what was sent again (object bytes the proxy received minus the file size) is bounded by the parts that failed
  times the part size.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.faults.proxy import FaultProxy, RequestRecord, classify
from tui.errors import CloudpaneError, SourceChangedError, TransientError
from tui.storage.local import LocalStore
from tui.storage.s3 import S3Remote
from tui.transfer.copy import CopyOptions, copy_object
from tui.transfer.journal import Journal

MiB = 1024 * 1024
PART = 5 * MiB
#: five parts, the last one short
SIZE = 4 * PART + 3 * MiB + 4321
PARTS = -(-SIZE // PART)
OPTIONS = CopyOptions(part_size=PART, concurrency=4)
#: the kill tests upload one part at a time, so that parts are acknowledged before the kill and a resume can skip
SERIAL = CopyOptions(part_size=PART, concurrency=1)
KEY = "data/blob.bin"
#: no single test may hang the suite
TIMEOUT_S = 120


def payload(seed: int, size: int = SIZE) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ProgressLog:
    """A progress callback that keeps the running total (negative steps rewind) and its peak."""

    def __init__(self) -> None:
        self.total = 0
        self.peak = 0

    def __call__(self, step: int) -> None:
        self.total += step
        self.peak = max(self.peak, self.total)


def source_file(tmp_path: Path, data: bytes) -> LocalStore:
    folder = tmp_path / "src"
    folder.mkdir(exist_ok=True)
    (folder / "src.bin").write_bytes(data)
    return LocalStore(folder)


def remote_sha256(s3: Any, bucket: str, key: str) -> str:
    return sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def remote_keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def pending_uploads(s3: Any, bucket: str) -> list[tuple[str, str]]:
    return [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def assert_progress(progress: ProgressLog) -> None:
    assert progress.total == SIZE, f"progress ends at {progress.total}, not at the size {SIZE}"
    assert progress.peak <= SIZE, f"progress went past the size: {progress.peak} > {SIZE}"


async def presign(remote: S3Remote, method: str, **params: str) -> str:
    """A presigned URL through the proxy, for raw aiohttp requests (moto refuses anonymous reads)."""
    url: str = await (await remote.sdk()).generate_presigned_url(method, Params=params, ExpiresIn=600)
    return url


async def read_all(remote: S3Remote, bucket: str, key: str, **kwargs: Any) -> bytes:
    return b"".join([chunk async for chunk in remote.store(bucket).read(key, **kwargs)])


# ------------------------------------------------------------------------------------------- the proxy itself


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "op"),
    [
        ("GET", "/", {}, {}, "ListBuckets"),
        ("PUT", "/b", {}, {}, "CreateBucket"),
        ("HEAD", "/b", {}, {}, "HeadBucket"),
        ("DELETE", "/b", {}, {}, "DeleteBucket"),
        ("GET", "/b", {"list-type": "2", "prefix": "a/"}, {}, "ListObjectsV2"),
        ("GET", "/b", {"prefix": "a/"}, {}, "ListObjects"),
        ("GET", "/b", {"versions": ""}, {}, "ListObjectVersions"),
        ("GET", "/b", {"uploads": ""}, {}, "ListMultipartUploads"),
        ("PUT", "/b", {"versioning": ""}, {}, "PutBucketVersioning"),
        ("PUT", "/b", {"publicAccessBlock": ""}, {}, "PutPublicAccessBlock"),
        ("POST", "/b", {"delete": ""}, {}, "DeleteObjects"),
        ("POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
        ("PUT", "/b/k", {"partNumber": "3", "uploadId": "u"}, {}, "UploadPart"),
        ("PUT", "/b/k", {"partNumber": "3", "uploadId": "u"}, {"x-amz-copy-source": "b/j"}, "UploadPartCopy"),
        ("POST", "/b/k", {"uploadId": "u"}, {}, "CompleteMultipartUpload"),
        ("DELETE", "/b/k", {"uploadId": "u"}, {}, "AbortMultipartUpload"),
        ("GET", "/b/k", {"uploadId": "u"}, {}, "ListParts"),
        ("PUT", "/b/a/k", {}, {}, "PutObject"),
        ("PUT", "/b/k", {}, {"X-Amz-Copy-Source": "b/j"}, "CopyObject"),
        ("GET", "/b/a/k", {}, {"Range": "bytes=0-9"}, "GetObject"),
        ("GET", "/b/k", {"versionId": "v"}, {}, "GetObject"),
        ("HEAD", "/b/k", {}, {}, "HeadObject"),
        ("DELETE", "/b/k", {}, {}, "DeleteObject"),
        ("GET", "/b/k", {"tagging": ""}, {}, "GetObjectTagging"),
    ],
)
def test_classify(method: str, path: str, query: dict[str, str], headers: dict[str, str], op: str) -> None:
    assert classify(method, path, query, headers) == op


async def test_round_trip_without_rules(
    fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    """Nothing injected: the proxy is transparent, classifies every request, and counts the bytes exactly."""
    data = payload(1)
    store = proxied_remote.store(bucket)
    mark = fault_proxy.mark()
    progress = ProgressLog()
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(source_file(tmp_path, data), "src.bin", store, KEY, options=OPTIONS, progress=progress)
    assert remote_sha256(s3, bucket, KEY) == sha256(data)
    assert_progress(progress)
    up = fault_proxy.records[mark:]
    assert [r.op for r in up if r.op != "UploadPart"] == ["CreateMultipartUpload", "CompleteMultipartUpload"]
    assert sorted(r.part_number or 0 for r in up if r.op == "UploadPart") == list(range(1, PARTS + 1))
    assert all(r.status == 200 and r.fault is None and r.error is None for r in up), up
    assert fault_proxy.upload_bytes(KEY) == fault_proxy.upstream_upload_bytes(KEY) == SIZE
    assert all(r.bytes_in == r.bytes_up == r.content_length for r in up if r.op == "UploadPart")

    # HEAD keeps its Content-Length through the proxy
    info = await store.stat(KEY)
    assert info.size == SIZE
    assert fault_proxy.records[-1].op == "HeadObject"

    # and back down, in ranged GETs
    down = tmp_path / "dl"
    down.mkdir()
    mark = fault_proxy.mark()
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(store, KEY, LocalStore(down), "copy.bin", options=OPTIONS)
    assert sha256((down / "copy.bin").read_bytes()) == sha256(data)
    gets = fault_proxy.find("GetObject", since=mark)
    assert len(gets) == PARTS
    assert all(r.ranged and r.status == 206 for r in gets)
    assert sorted(r.range_start or 0 for r in gets) == [n * PART for n in range(PARTS)]
    assert fault_proxy.download_bytes(KEY, since=mark) == SIZE

    # small requests: PutObject, ListObjectsV2, a plain GET
    await store.put("small.txt", b"hello")
    keys = [e.key async for page in store.list(recursive=True) for e in page]
    assert keys == [KEY, "small.txt"]
    assert await read_all(proxied_remote, bucket, "small.txt") == b"hello"
    assert fault_proxy.ops()[-3:] == ["PutObject", "ListObjectsV2", "GetObject"]
    assert fault_proxy.errors == []


async def test_status_rule_answers_an_s3_error(fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str) -> None:
    store = proxied_remote.store(bucket)
    writer = await store.open_writer("k.bin", part_size=PART)
    rule = fault_proxy.add_rule(op="UploadPart", action="status", status=503, code="SlowDown", times=None)
    with pytest.raises(TransientError, match="SlowDown"):
        await writer.write_part(1, b"x" * 1000)
    failed = fault_proxy.find("UploadPart")
    assert rule.fired == len(failed) >= 1  # each of botocore's attempts answered by the proxy
    assert {(r.fault, r.status, r.bytes_in, r.bytes_up, r.upstream_status) for r in failed} == {
        ("status", 503, 1000, 0, None)
    }
    fault_proxy.clear_rules()
    part = await writer.write_part(1, b"x" * 1000)  # forwarded again
    assert part.etag
    await writer.abort()

    fault_proxy.add_rule(op="ListObjectsV2", action="status", status=500, code="InternalError")
    url = await presign(proxied_remote, "list_objects_v2", Bucket=bucket)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as resp:
            assert resp.status == 500
            assert resp.headers["x-amz-request-id"].startswith("FAULT")
            assert "<Code>InternalError</Code>" in await resp.text()
        async with session.get(url) as resp:  # times=1: spent
            assert resp.status == 200


async def test_reset_rule_drops_the_connection_mid_body(
    fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any
) -> None:
    # times=None: aiohttp itself retries an idempotent request once after a reset
    rule = fault_proxy.add_rule(op="PutObject", action="reset", times=None)
    body = payload(2, MiB)
    url = await presign(proxied_remote, "put_object", Bucket=bucket, Key="reset.bin")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.put(url, data=body) as resp:
                await resp.read()
        recs = fault_proxy.find("PutObject")
        await asyncio.wait_for(asyncio.gather(*(r.finished.wait() for r in recs)), 10)
        assert rule.fired == len(recs) >= 1
        assert {(r.fault, r.status, r.bytes_in, r.bytes_up) for r in recs} == {("reset", None, MiB // 2, 0)}
        assert remote_keys(s3, bucket) == []
        fault_proxy.clear_rules()
        async with session.put(url, data=body) as resp:
            assert resp.status == 200
    assert remote_sha256(s3, bucket, "reset.bin") == sha256(body)


async def test_truncate_rule_cuts_a_get_body(
    fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any
) -> None:
    body = payload(3, MiB)
    s3.put_object(Bucket=bucket, Key="t.bin", Body=body)
    fault_proxy.add_rule(op="GetObject", action="truncate")
    url = await presign(proxied_remote, "get_object", Bucket=bucket, Key="t.bin")
    async with aiohttp.ClientSession() as session, session.get(url, headers={"Range": f"bytes=0-{MiB - 1}"}) as resp:
        assert resp.status == 206
        assert resp.content_length == MiB
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    (rec,) = fault_proxy.find("GetObject")
    assert (rec.fault, rec.status, rec.bytes_down) == ("truncate", 206, MiB // 2)

    # through the store: a short body is a TransientError
    rule = fault_proxy.add_rule(op="GetObject", action="truncate")
    with pytest.raises(TransientError):
        await read_all(proxied_remote, bucket, "t.bin", start=0, end=MiB)
    assert rule.fired == 1
    assert await read_all(proxied_remote, bucket, "t.bin", start=0, end=MiB) == body

    # nothing to truncate in a HEAD: the rule does not fire and stays armed
    head_rule = fault_proxy.add_rule(op="HeadObject", action="truncate")
    assert (await proxied_remote.store(bucket).stat("t.bin")).size == MiB
    assert head_rule.fired == 0 and head_rule.armed


async def test_kill_after_bytes_fails_everything(
    fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any
) -> None:
    rule = fault_proxy.add_rule(action="kill_after_bytes", after_bytes=MiB + MiB // 2)
    one, two = payload(4, MiB), payload(5, MiB)
    put_one = await presign(proxied_remote, "put_object", Bucket=bucket, Key="one.bin")
    put_two = await presign(proxied_remote, "put_object", Bucket=bucket, Key="two.bin")
    get_one = await presign(proxied_remote, "get_object", Bucket=bucket, Key="one.bin")
    async with aiohttp.ClientSession() as session:
        async with session.put(put_one, data=one) as resp:
            assert resp.status == 200
        async with asyncio.timeout(1):
            await fault_proxy.wait_for_upload_bytes(MiB)
        assert not fault_proxy.killed.is_set()
        with pytest.raises(aiohttp.ClientError):
            async with session.put(put_two, data=two) as resp:
                await resp.read()
        assert fault_proxy.killed.is_set() and rule.fired == 1
        crossing, *retried = fault_proxy.find("PutObject", key="two.bin")
        await asyncio.wait_for(crossing.finished.wait(), 10)
        # half of it went upstream before the kill; nothing after (not aiohttp's retry either)
        assert (crossing.fault, crossing.status, crossing.bytes_up) == ("killed", None, MiB // 2)
        assert all(r.fault == "killed" and r.bytes_up == 0 for r in retried)
        with pytest.raises(aiohttp.ClientError):
            async with session.get(get_one) as resp:
                await resp.read()
        assert fault_proxy.records[-1].fault == "killed"
        assert remote_keys(s3, bucket) == ["one.bin"]

        fault_proxy.clear_rules()
        assert not fault_proxy.killed.is_set()
        async with session.get(get_one) as resp:
            assert resp.status == 200
            assert await resp.read() == one


async def test_hook_runs_before_forwarding(
    fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="h.bin", Body=b"old")
    seen: list[str] = []

    async def replace(rec: RequestRecord) -> None:
        seen.append(rec.op)
        await asyncio.to_thread(s3.put_object, Bucket=bucket, Key="h.bin", Body=b"new")

    rule = fault_proxy.add_rule(op="GetObject", action="hook", hook=replace)
    assert await read_all(proxied_remote, bucket, "h.bin") == b"new"
    assert seen == ["GetObject"] and rule.fired == 1
    sync_calls: list[int] = []
    fault_proxy.add_rule(op="HeadObject", action="hook", hook=lambda rec: sync_calls.append(rec.seq), times=None)
    await proxied_remote.store(bucket).stat("h.bin")
    await proxied_remote.store(bucket).stat("h.bin")
    assert len(sync_calls) == 2


# -------------------------------------------------------------------------------------- the engine under faults


@pytest.mark.parametrize("failures", [3, 5])
async def test_upload_survives_a_slowdown_storm(
    failures: int,
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    """Part 2 gets SlowDown several times in a row; 5 is more than botocore's own attempts (1 + 3 retries)."""
    data = payload(10)
    rule = fault_proxy.add_rule(op="UploadPart", part=2, action="status", status=503, code="SlowDown", times=failures)
    progress = ProgressLog()
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(
            source_file(tmp_path, data),
            "src.bin",
            proxied_remote.store(bucket),
            KEY,
            options=OPTIONS,
            progress=progress,
        )
    assert rule.fired == failures
    assert remote_sha256(s3, bucket, KEY) == sha256(data)
    assert pending_uploads(s3, bucket) == []
    resent = fault_proxy.upload_bytes(KEY) - SIZE
    record_property("bytes_resent", resent)
    assert 0 <= resent <= rule.fired * PART
    assert_progress(progress)


async def test_upload_survives_a_reset_mid_part(
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    data = payload(11)
    rule = fault_proxy.add_rule(op="UploadPart", part=2, action="reset")
    progress = ProgressLog()
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(
            source_file(tmp_path, data),
            "src.bin",
            proxied_remote.store(bucket),
            KEY,
            options=OPTIONS,
            progress=progress,
        )
    assert rule.fired == 1
    (reset,) = fault_proxy.find("UploadPart", fault="reset")
    assert reset.bytes_in == PART // 2 and reset.bytes_up == 0  # cut in the middle of the part
    assert remote_sha256(s3, bucket, KEY) == sha256(data)
    assert pending_uploads(s3, bucket) == []
    resent = fault_proxy.upload_bytes(KEY) - SIZE
    record_property("bytes_resent", resent)
    assert 0 <= resent <= rule.fired * PART
    assert_progress(progress)


async def test_upload_survives_a_500_on_complete(
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    data = payload(12)
    rule = fault_proxy.add_rule(op="CompleteMultipartUpload", action="status", status=500, code="InternalError")
    progress = ProgressLog()
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(
            source_file(tmp_path, data),
            "src.bin",
            proxied_remote.store(bucket),
            KEY,
            options=OPTIONS,
            progress=progress,
        )
    assert rule.fired == 1
    assert len(fault_proxy.find("CompleteMultipartUpload", status=200)) == 1
    assert remote_sha256(s3, bucket, KEY) == sha256(data)
    assert pending_uploads(s3, bucket) == []
    resent = fault_proxy.upload_bytes(KEY) - SIZE
    record_property("bytes_resent", resent)
    assert resent == 0, "no part failed: retrying the completion must not upload the parts again"
    assert_progress(progress)


async def test_download_survives_a_truncated_range(
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    data = payload(20)
    s3.put_object(Bucket=bucket, Key=KEY, Body=data)
    down = tmp_path / "dl"
    down.mkdir()
    early: list[str] = []

    def no_final_file_yet(rec: RequestRecord) -> None:
        if (down / "dst.bin").exists():
            early.append(f"{rec.op} {rec.range}")

    fault_proxy.add_rule(op="GetObject", action="hook", hook=no_final_file_yet, times=None)
    rule = fault_proxy.add_rule(op="GetObject", ranged=True, action="truncate")
    progress = ProgressLog()
    async with asyncio.timeout(TIMEOUT_S):
        await copy_object(
            proxied_remote.store(bucket), KEY, LocalStore(down), "dst.bin", options=OPTIONS, progress=progress
        )
    assert rule.fired == 1
    assert early == [], "a file stood under the final name while the download was still running"
    assert sorted(p.name for p in down.iterdir()) == ["dst.bin"]
    assert sha256((down / "dst.bin").read_bytes()) == sha256(data)
    assert pending_uploads(s3, bucket) == []
    reread = fault_proxy.download_bytes(KEY) - SIZE
    record_property("bytes_reread", reread)
    assert 0 <= reread <= rule.fired * PART
    assert_progress(progress)


async def test_download_fails_when_the_source_is_replaced(
    fault_proxy: FaultProxy, proxied_remote: S3Remote, bucket: str, s3: Any, tmp_path: Path
) -> None:
    data, other = payload(21), payload(22)
    s3.put_object(Bucket=bucket, Key=KEY, Body=data)
    down = tmp_path / "dl"
    down.mkdir()
    first: list[RequestRecord] = []
    replaced = asyncio.Lock()
    done: list[bool] = []

    async def replace_after_first_part(rec: RequestRecord) -> None:
        if not first:
            first.append(rec)
            return
        await first[0].finished.wait()
        async with replaced:
            if not done:
                await asyncio.to_thread(s3.put_object, Bucket=bucket, Key=KEY, Body=other)
                done.append(True)

    fault_proxy.add_rule(op="GetObject", ranged=True, action="hook", hook=replace_after_first_part, times=None)
    async with asyncio.timeout(TIMEOUT_S):
        with pytest.raises(SourceChangedError, match="source changed"):
            await copy_object(proxied_remote.store(bucket), KEY, LocalStore(down), "dst.bin", options=OPTIONS)
    assert done, "the object was never replaced"
    assert (first[0].status, first[0].bytes_down) == (206, PART)  # one part was served from the old object
    assert list(down.iterdir()) == [], "the failed download left something at the destination"
    assert pending_uploads(s3, bucket) == []


@pytest.mark.parametrize("journaled", [False, True], ids=["no-journal", "journal"])
async def test_cancel_at_30_percent_then_rerun(
    journaled: bool,
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    """Ctrl-C at 30%: the engine gets to clean up (abort, or keep the upload for a resume), then a rerun.

    With the resume journal (as the CLI runs it) the upload may be kept; the rerun, in a "new process" (a new
    Journal on the same file), must then send only what was not acknowledged."""
    data = payload(30)
    src = source_file(tmp_path, data)
    store = proxied_remote.store(bucket)
    journal_path = tmp_path / "journal.sqlite3"
    first_journal = Journal(journal_path) if journaled else None
    task = asyncio.create_task(copy_object(src, "src.bin", store, KEY, options=replace(SERIAL, journal=first_journal)))
    async with asyncio.timeout(TIMEOUT_S):
        await fault_proxy.wait_for_upload_bytes(int(SIZE * 0.3))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    if first_journal is not None:
        first_journal.close()
    first_run = fault_proxy.upload_bytes(KEY)
    acked = sum(r.bytes_up for r in fault_proxy.find("UploadPart", key=KEY, status=200))
    assert KEY not in remote_keys(s3, bucket), "a cancelled upload left an object under the final name"
    kept = pending_uploads(s3, bucket)
    assert len(kept) <= 1, kept  # aborted, or kept (one) for a resume
    if not journaled:
        assert kept == [], "without a journal nothing can resume the upload: it must be aborted"

    mark = fault_proxy.mark()
    with contextlib.ExitStack() as stack:
        journal = stack.enter_context(Journal(journal_path)) if journaled else None
        async with asyncio.timeout(TIMEOUT_S):
            await copy_object(src, "src.bin", store, KEY, options=replace(SERIAL, journal=journal))
        assert journal is None or journal.unfinished() == []
    assert remote_sha256(s3, bucket, KEY) == sha256(data)
    assert pending_uploads(s3, bucket) == [], "the rerun left a multipart upload behind"
    rerun = fault_proxy.upload_bytes(KEY, since=mark)
    record_property("upload_kept_for_resume", bool(kept))
    record_property("bytes_resent", first_run + rerun - SIZE)
    if kept:
        assert rerun <= SIZE - acked, f"kept for resume but the rerun sent {rerun} bytes; {acked} were acknowledged"
    else:
        assert rerun == SIZE


async def test_kill_at_30_percent_then_rerun(
    fault_proxy: FaultProxy,
    proxied_remote: S3Remote,
    bucket: str,
    s3: Any,
    tmp_path: Path,
    record_property: Any,
) -> None:
    """A killed process: at 30% the network goes dead (not even an abort gets out), then a rerun in a new process
    (a new Journal on the same file) resumes the journaled upload and sends only the parts not acknowledged."""
    data = payload(31)
    src = source_file(tmp_path, data)
    store = proxied_remote.store(bucket)
    journal_path = tmp_path / "journal.sqlite3"
    rule = fault_proxy.add_rule(action="kill_after_bytes", after_bytes=int(SIZE * 0.3))
    with Journal(journal_path) as first_journal:
        task = asyncio.create_task(
            copy_object(src, "src.bin", store, KEY, options=replace(SERIAL, journal=first_journal))
        )
        async with asyncio.timeout(TIMEOUT_S):
            await fault_proxy.killed.wait()
            task.cancel()
            with pytest.raises((asyncio.CancelledError, CloudpaneError)):
                await task
    assert rule.fired == 1
    assert fault_proxy.upstream_upload_bytes(KEY) == int(SIZE * 0.3)
    acked = sum(r.bytes_up for r in fault_proxy.find("UploadPart", key=KEY, status=200))
    first_run = fault_proxy.upload_bytes(KEY)
    assert KEY not in remote_keys(s3, bucket), "a killed upload left an object under the final name"
    orphans = pending_uploads(s3, bucket)
    assert len(orphans) == 1, orphans  # nothing could reach the server: the upload is still there

    fault_proxy.clear_rules()
    mark = fault_proxy.mark()
    with Journal(journal_path) as journal:
        assert [u.upload_id for u in journal.unfinished()] == [orphans[0][1]], "the upload was not journaled"
        async with asyncio.timeout(TIMEOUT_S):
            await copy_object(src, "src.bin", store, KEY, options=replace(SERIAL, journal=journal))
        assert journal.unfinished() == []
    assert remote_sha256(s3, bucket, KEY) == sha256(data)
    rerun = fault_proxy.upload_bytes(KEY, since=mark)
    resumed = any(r.upload_id == orphans[0][1] for r in fault_proxy.find("CompleteMultipartUpload", since=mark))
    record_property("resumed", resumed)
    record_property("bytes_resent", first_run + rerun - SIZE)
    assert resumed, "the rerun did not resume the journaled upload"
    assert rerun <= SIZE - acked, f"resumed but the rerun sent {rerun} bytes; {acked} were acknowledged"
    assert pending_uploads(s3, bucket) == []
