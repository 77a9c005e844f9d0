"""The test servers themselves: they start, serve S3, and behave as measured."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.servers import S3Server, reset, spawn_server, start_moto, start_rclone


def _bucket() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["moto", "rclone"])
def server(request: pytest.FixtureRequest) -> S3Server:
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


def test_environment_is_sealed() -> None:
    assert "AWS_ACCESS_KEY_ID" not in os.environ
    assert "AWS_PROFILE" not in os.environ
    assert Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).read_text() == ""
    assert Path(os.environ["AWS_CONFIG_FILE"]).read_text() == ""
    for name in ("CLOUDPANE_CONFIG_DIR", "CLOUDPANE_STATE_DIR", "CLOUDPANE_CACHE_DIR"):
        assert Path(os.environ[name]).is_dir()


def test_server_listens_on_loopback(server: S3Server) -> None:
    assert server.endpoint_url.startswith("http://127.0.0.1:")
    assert server.process is not None and server.process.poll() is None
    assert server.startup_seconds < 20
    env = server.env()
    assert env["AWS_ENDPOINT_URL"] == server.endpoint_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        server.access_key,
        server.secret_key,
    )


def test_create_bucket_and_round_trip(server: S3Server) -> None:
    s3 = server.boto3_client()
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    body = os.urandom(70_000)
    s3.put_object(Bucket=bucket, Key="dir/héllo wörld.bin", Body=body)
    got = s3.get_object(Bucket=bucket, Key="dir/héllo wörld.bin")
    assert got["Body"].read() == body
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("dir/héllo wörld.bin", len(body))]
    s3.close()


def test_rclone_stores_buckets_as_directories(rclone_server: S3Server) -> None:
    s3 = rclone_server.boto3_client()
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"plain file")
    s3.close()
    assert rclone_server.storage_dir is not None
    assert (rclone_server.storage_dir / bucket / "a" / "b.txt").read_bytes() == b"plain file"


def test_rclone_rejects_wrong_secret(rclone_server: S3Server) -> None:
    good = rclone_server.boto3_client()
    bucket = _bucket()
    good.create_bucket(Bucket=bucket)
    good.close()

    bad = S3Server(
        name="rclone",
        endpoint_url=rclone_server.endpoint_url,
        access_key=rclone_server.access_key,
        secret_key=rclone_server.secret_key + "x",
    ).boto3_client()
    with pytest.raises(ClientError) as info:
        bad.list_objects_v2(Bucket=bucket)
    bad.close()
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert info.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_moto_versioning(moto_server: S3Server) -> None:
    s3 = moto_server.boto3_client()
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"

    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert first != second
    versions = s3.list_object_versions(Bucket=bucket, Prefix="k")["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([first, second])
    latest = [v["VersionId"] for v in versions if v["IsLatest"]]
    assert latest == [second]
    old = s3.get_object(Bucket=bucket, Key="k", VersionId=first)["Body"].read()
    assert old == b"one"
    s3.close()


def test_reset_empties_a_server(tmp_path: Path) -> None:
    """reset() on private servers (so the shared ones keep other tests' buckets)."""
    with start_moto() as moto, start_rclone(tmp_path / "rclone") as rclone:
        for srv in (moto, rclone):
            s3 = srv.boto3_client()
            s3.create_bucket(Bucket="plain")
            s3.put_object(Bucket="plain", Key="a/b/c.txt", Body=b"x")
            s3.create_multipart_upload(Bucket="plain", Key="pending.bin")
            s3.close()

        s3 = moto.boto3_client()
        s3.create_bucket(Bucket="versioned")
        s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="versioned", Key="k", Body=b"1")
        s3.put_object(Bucket="versioned", Key="k", Body=b"2")
        s3.delete_object(Bucket="versioned", Key="k")  # delete marker
        s3.close()

        for srv in (moto, rclone):
            reset(srv)
            s3 = srv.boto3_client()
            assert s3.list_buckets()["Buckets"] == []
            s3.close()
        assert list((tmp_path / "rclone").iterdir()) == []


def test_stop_releases_the_port(tmp_path: Path) -> None:
    servers = [start_moto(), start_rclone(tmp_path / "rclone")]
    for srv in servers:
        srv.stop()
        assert srv.process is not None and srv.process.poll() is not None
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex(("127.0.0.1", srv.port)) != 0


def test_a_server_that_dies_fails_loudly() -> None:
    script = "import sys; sys.stderr.write('boom: bad flag\\n'); sys.exit(3)"
    with pytest.raises(RuntimeError, match=r"(?s)rc=3.*boom: bad flag"):
        spawn_server("dying", lambda port: [sys.executable, "-c", script], "a", "b")


def test_a_bind_race_is_retried_then_fails() -> None:
    script = "import sys; print('listen tcp: address already in use'); sys.exit(1)"
    with pytest.raises(RuntimeError, match="after 3 port attempts") as info:
        spawn_server("racing", lambda port: [sys.executable, "-c", script], "a", "b")
    assert str(info.value).count("address already in use") == 3
