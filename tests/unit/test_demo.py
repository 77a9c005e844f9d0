"""The embedded demo server (tui/demo.py), checked over HTTP with a plain boto3 client.

moto keeps its state per process, so only the module fixture resets it
(``DemoServer()``); the other in-process servers here use ``reset=False``, and
``run_demo_server`` runs in a child process.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import rclone_binary
from tui.demo import (
    DEMO_ACCESS_KEY,
    DEMO_SECRET_KEY,
    PHOTOS_BUCKET,
    SCRATCH_BUCKET,
    DemoServer,
    SeedResult,
    demo_plan,
    make_local_sample,
)
from tui.errors import UsageError

REPO = Path(__file__).resolve().parents[2]

#: sha256 over every (bucket, key, versions, content type, metadata, deleted) of
#: demo_plan().  It changes only when the demo data is changed on purpose; the
#: screenshots depend on it, so update both together.
PLAN_DIGEST = "b7df6110f0252e5852fe575150e52c34b81101de7f3efd81ac6b29fec1167798"


def _client(endpoint_url: str) -> Any:
    import boto3  # type: ignore[import-untyped, unused-ignore]
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=DEMO_ACCESS_KEY,
        aws_secret_access_key=DEMO_SECRET_KEY,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _plan_digest() -> str:
    h = hashlib.sha256()
    for obj in demo_plan():
        h.update(repr((obj.bucket, obj.key, obj.content_type, sorted(obj.metadata.items()))).encode())
        h.update(repr(obj.deleted).encode())
        for body in obj.versions:
            h.update(len(body).to_bytes(8, "big") + body)
    return h.hexdigest()


def _refused(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[DemoServer, SeedResult]]:
    with DemoServer() as server:
        result = server.seed()
        yield server, result


@pytest.fixture(scope="module")
def s3(seeded: tuple[DemoServer, SeedResult]) -> Iterator[Any]:
    client = _client(seeded[0].endpoint_url)
    yield client
    client.close()


def _all_keys(s3: Any, bucket: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out[item["Key"]] = item
    return out


def test_server_basics(seeded: tuple[DemoServer, SeedResult]) -> None:
    server, result = seeded
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.endpoint_url)
    assert server.port > 0
    assert (server.access_key, server.secret_key, server.region) == (
        "demo",
        "demo-secret",
        "us-east-1",
    )
    assert server.env() == {
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo-secret",
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert result.buckets == (PHOTOS_BUCKET, SCRATCH_BUCKET)
    print(f"seeded {result.versions} versions, {result.bytes} bytes in {result.seconds:.2f} s")


def test_buckets_and_versioning(s3: Any) -> None:
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert names == {PHOTOS_BUCKET, SCRATCH_BUCKET}
    assert s3.get_bucket_versioning(Bucket=PHOTOS_BUCKET)["Status"] == "Enabled"
    assert "Status" not in s3.get_bucket_versioning(Bucket=SCRATCH_BUCKET)


def test_photos_bucket_is_large_and_nested(s3: Any) -> None:
    keys = _all_keys(s3, PHOTOS_BUCKET)
    assert len(keys) >= 200
    assert "README.txt" in keys
    assert "albums/Sommer 2023/Café am Strand – ☀ 01.jpg" in keys
    assert "albums/日本/東京タワー.jpg" in keys
    top = s3.list_objects_v2(Bucket=PHOTOS_BUCKET, Delimiter="/")
    prefixes = {p["Prefix"] for p in top["CommonPrefixes"]}
    assert {"2023/", "2024/", "albums/", "notes/"} <= prefixes
    months = s3.list_objects_v2(Bucket=PHOTOS_BUCKET, Prefix="2023/", Delimiter="/")
    assert len(months["CommonPrefixes"]) == 12
    assert max(k["Size"] for k in keys.values()) <= 64 * 1024


def test_contents_match_the_plan(s3: Any) -> None:
    """Every current object has the planned bytes: its ETag is the MD5 of the plan's body."""
    plan = demo_plan()
    for bucket in (PHOTOS_BUCKET, SCRATCH_BUCKET):
        listed = _all_keys(s3, bucket)
        expected = {o.key: o.body for o in plan if o.bucket == bucket and not o.deleted}
        assert set(listed) == set(expected)
        for key, body in expected.items():
            assert listed[key]["ETag"] == f'"{hashlib.md5(body).hexdigest()}"', key
            assert listed[key]["Size"] == len(body), key


def test_metadata_and_content_types(s3: Any) -> None:
    readme = s3.head_object(Bucket=PHOTOS_BUCKET, Key="README.txt")
    assert readme["ContentType"].startswith("text/plain")
    assert readme["Metadata"] == {"generator": "cloudpane-demo", "purpose": "demo"}
    photo = s3.head_object(Bucket=PHOTOS_BUCKET, Key="albums/Sommer 2023/Café am Strand – ☀ 01.jpg")
    assert photo["ContentType"] == "image/jpeg"
    assert photo["Metadata"] == {"caption": "cafe on the beach"}
    with_meta = [o for o in demo_plan() if o.bucket == PHOTOS_BUCKET and "camera" in o.metadata]
    assert len(with_meta) >= 10
    head = s3.head_object(Bucket=PHOTOS_BUCKET, Key=with_meta[0].key)
    assert head["Metadata"] == dict(with_meta[0].metadata)


def test_versioned_notes(s3: Any) -> None:
    multi = [o for o in demo_plan() if len(o.versions) >= 3]
    assert len(multi) >= 3
    for obj in multi:
        reply = s3.list_object_versions(Bucket=obj.bucket, Prefix=obj.key)
        versions = [v for v in reply["Versions"] if v["Key"] == obj.key]
        assert len(versions) == len(obj.versions), obj.key
        bodies = {
            s3.get_object(Bucket=obj.bucket, Key=obj.key, VersionId=v["VersionId"])["Body"].read() for v in versions
        }
        assert bodies == set(obj.versions)
        latest = [v for v in versions if v["IsLatest"]]
        assert len(latest) == 1
        assert latest[0]["ETag"] == f'"{hashlib.md5(obj.body).hexdigest()}"'
    todo = s3.list_object_versions(Bucket=PHOTOS_BUCKET, Prefix="notes/todo.txt")
    assert len(todo["Versions"]) >= 3


def test_deleted_draft_is_behind_a_delete_marker(s3: Any) -> None:
    key = "notes/deleted-draft.txt"
    reply = s3.list_object_versions(Bucket=PHOTOS_BUCKET, Prefix=key)
    markers = reply.get("DeleteMarkers", [])
    assert len(markers) == 1 and markers[0]["IsLatest"]
    assert len(reply["Versions"]) == 2
    assert not any(v["IsLatest"] for v in reply["Versions"])
    listed = s3.list_objects_v2(Bucket=PHOTOS_BUCKET, Prefix="notes/")
    assert key not in {o["Key"] for o in listed["Contents"]}
    old = s3.get_object(Bucket=PHOTOS_BUCKET, Key=key, VersionId=reply["Versions"][0]["VersionId"])
    assert old["Body"].read() in {b"first draft\n", b"second draft, then deleted\n"}


def test_scratch_bucket(s3: Any) -> None:
    keys = _all_keys(s3, SCRATCH_BUCKET)
    assert 5 <= len(keys) <= 20
    assert s3.get_object(Bucket=SCRATCH_BUCKET, Key="hello.txt")["Body"].read().startswith(b"Hello")


def test_plan_is_deterministic() -> None:
    assert demo_plan() == demo_plan()
    assert _plan_digest() == PLAN_DIGEST


def test_env_lines_configure_rclone(seeded: tuple[DemoServer, SeedResult]) -> None:
    """The printed export lines are valid shell and give a working rclone remote."""
    server = seeded[0]
    lines = server.env_lines()
    assert all(line.startswith("export ") for line in lines)
    env = dict(os.environ)
    for line in lines:
        name, _, value = line.removeprefix("export ").partition("=")
        (env[name],) = shlex.split(value)
    for name, value in server.env().items():
        assert env[name] == value
    assert env["S3_ENDPOINT_URL"] == server.endpoint_url
    listing = subprocess.run(
        [rclone_binary(), "lsf", "--config", "/dev/null", "demo:demo-scratch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    assert set(listing.stdout.split()) == {"hello.txt", "data/", "logs/", "tmp/"}


def test_stop_releases_the_port() -> None:
    server = DemoServer(reset=False).start()
    port = server.port
    assert not _refused(port)
    server.stop()
    assert not server.running
    assert _refused(port)
    with pytest.raises(RuntimeError):
        _ = server.endpoint_url
    # the same port can be served again at once
    with DemoServer(port, reset=False) as again:
        assert again.port == port
        assert not _refused(port)
    assert _refused(port)


def test_a_busy_port_is_a_usage_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.perf_counter()
        with pytest.raises(UsageError, match="not available"):
            DemoServer(port, reset=False).start()
        assert time.perf_counter() - started < 5
    with pytest.raises(UsageError):
        DemoServer(70000)


def test_run_demo_server_until_ctrl_c() -> None:
    """``cloudpane demo-server`` path: prints endpoint and exports, stops on SIGINT, exits 0."""
    code = "import sys; from tui.demo import run_demo_server; sys.exit(run_demo_server())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        head: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            head.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(head)
        assert "Press Ctrl-C" in text, text + (proc.stderr.read() if proc.stderr else "")
        match = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", text)
        assert match, text
        endpoint, port = match.group(1), int(match.group(2))
        assert f"export AWS_ENDPOINT_URL={endpoint}" in text
        assert "export RCLONE_CONFIG_DEMO_TYPE=s3" in text

        client = _client(endpoint)
        names = {b["Name"] for b in client.list_buckets()["Buckets"]}
        client.close()
        assert names == {PHOTOS_BUCKET, SCRATCH_BUCKET}

        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "demo server stopped." in rest
    assert _refused(port)


def test_make_local_sample(tmp_path: Path) -> None:
    first = make_local_sample(tmp_path / "a")
    second = make_local_sample(tmp_path / "b")
    files = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert ".hidden" in files
    assert any("/" in f for f in files)
    assert len([f for f in files if f.endswith((".txt", ".md", ".csv"))]) >= 3
    assert (first / "big.bin").stat().st_size == 2 * 1024 * 1024
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
