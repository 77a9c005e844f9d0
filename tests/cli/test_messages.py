"""Messages a person can act on (issue 12, item 4), from the real executable against real servers.

Network and TLS failures say what failed and where, and exit 6 (README, "Exit codes"): a refused connection, an
https:// URL on moto's plain-HTTP port, a host name that does not resolve; for S3's control plane (aiobotocore),
its data plane (obstore: in-process here, against the same dead port, since the command line's first request is
always the SDK's) and Azure. A source with nothing in it exits 4; backup counts what it skipped, by reason; ``=``
lines only with -v; a resumed upload says how many parts the server already had.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, cloudpane_command
from tests.servers import S3Server

AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_tls_and_dns_say_what_and_where(moto_server: S3Server, tmp_path: Path) -> None:
    port = _closed_port()
    cli = Cli(moto_server.env(), cwd=tmp_path)
    refused, plain, dns = cli.run_many(
        ["ls", "--endpoint-url", f"http://127.0.0.1:{port}", "s3://"],
        ["ls", "--endpoint-url", f"https://127.0.0.1:{moto_server.port}", "s3://"],
        ["ls", "--endpoint-url", "https://no-such-host.invalid", "s3://"],
    )
    assert (
        refused.one_error_line(6)
        == f"cloudpane: error: connect: cannot connect to 127.0.0.1:{port}: connection refused"
    )
    assert plain.one_error_line(6) == (
        f"cloudpane: error: connect: 127.0.0.1:{moto_server.port} answered plain HTTP to an https:// endpoint "
        "(use http:// for this server)"
    )
    line = dns.one_error_line(6)
    assert line.startswith("cloudpane: error: connect: cannot connect to no-such-host.invalid:443: "), line
    assert "does not resolve" in line, line


def test_a_copy_to_a_dead_server_is_one_line_exit_6(moto_server: S3Server, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    port = _closed_port()
    cli = Cli({**moto_server.env(), "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}, cwd=tmp_path)
    line = cli.run("cp", "a.txt", "s3://some-bucket/a.txt").one_error_line(6)
    assert line.endswith(f"cannot connect to 127.0.0.1:{port}: connection refused"), line


def test_the_data_plane_says_the_same(moto_server: S3Server) -> None:
    """obstore's errors (reqwest's text) through the data plane's own translation: a real client, a real port."""
    import obstore
    from obstore.store import S3Store

    from tui.errors import ExitCode
    from tui.storage.s3_data import translate_native

    port = _closed_port()

    async def fail(url: str) -> str:
        store = S3Store(
            "bkt",
            endpoint=url,
            region="us-east-1",
            access_key_id="x",
            secret_access_key="y",
            client_options={"allow_http": True},
            retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=2)},
        )
        try:
            await obstore.get_async(store, "k")
        except Exception as exc:  # noqa: BLE001 - whatever obstore raises is translated
            err = translate_native(exc, "read s3://bkt/k")
            assert err.exit_code == ExitCode.NETWORK, err
            return str(err)
        raise AssertionError("the GET did not fail")

    refused = asyncio.run(fail(f"http://127.0.0.1:{port}"))
    assert refused == f"read s3://bkt/k: cannot connect to 127.0.0.1:{port}: connection refused"
    plain = asyncio.run(fail(f"https://127.0.0.1:{moto_server.port}"))
    assert plain.startswith(f"read s3://bkt/k: 127.0.0.1:{moto_server.port} answered plain HTTP to an https://"), plain


def test_azure_refused_and_plain_http(moto_server: S3Server, tmp_path: Path) -> None:
    port = _closed_port()

    def account(url: str) -> dict[str, str]:
        proto = url.split(":", 1)[0]
        return {
            "AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol={proto};AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={url}/devstoreaccount1;"
        }

    refused, plain = (
        Cli(account(f"http://127.0.0.1:{port}"), cwd=tmp_path).run("ls", "az://box/"),
        Cli(account(f"https://127.0.0.1:{moto_server.port}"), cwd=tmp_path).run("ls", "az://box/"),
    )
    assert refused.one_error_line(6).endswith(f"cannot connect to 127.0.0.1:{port}: connection refused"), refused
    line = plain.one_error_line(6)
    assert f"127.0.0.1:{moto_server.port} answered plain HTTP to an https:// endpoint" in line, line
    assert AZURITE_KEY not in plain.stderr


def test_restore_and_cp_r_of_nothing_exit_4(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("empty")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    moto_s3.put_object(Bucket=bucket, Key="docs/a.txt", Body=b"a")
    (tmp_path / "empty").mkdir()

    misspelt, before, copy, move, empty_dir = moto_cli.run_many(
        ["restore", f"s3://{bucket}/dosc", str(tmp_path / "r1")],
        ["restore", "--as-of", "2001-01-01T00:00:00Z", f"s3://{bucket}/docs", str(tmp_path / "r2")],
        ["cp", "-r", f"s3://{bucket}/dosc/", str(tmp_path / "c")],
        ["mv", "-r", f"s3://{bucket}/dosc/", str(tmp_path / "m")],
        ["cp", "-r", str(tmp_path / "empty"), f"s3://{bucket}/e/"],
    )
    assert misspelt.one_error_line(4) == (
        f"cloudpane: error: s3://{bucket}/dosc: nothing to restore (no such prefix, or nothing in it)"
    )
    assert not (tmp_path / "r1").exists()  # no empty folder left behind
    line = before.one_error_line(4)
    assert "nothing existed there at 2001-01-01T00:00:00Z" in line, line
    assert copy.check(4).stderr_lines[-1].endswith("nothing to copy (no such folder or prefix, or it is empty)"), copy
    assert move.check(4).stderr_lines[-1].endswith("nothing to move (no such folder or prefix, or it is empty)"), move
    assert "nothing to copy" in empty_dir.check(4).stderr, empty_dir

    # and a restore that finds something still exits 0
    moto_cli.run("restore", f"s3://{bucket}/docs", str(tmp_path / "r3")).check(0)
    assert (tmp_path / "r3" / "a.txt").read_bytes() == b"a"


def test_backup_counts_what_it_skipped_by_reason(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("skips")
    moto_s3.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    (src / ".git").mkdir(parents=True)
    (src / "sub").mkdir()
    (src / "a.txt").write_bytes(b"a")
    (src / ".git" / "HEAD").write_bytes(b"h")
    (src / ".env").write_bytes(b"e")
    (src / ".DS_Store").write_bytes(b"j")
    (src / "sub" / "x.tmp").write_bytes(b"t")
    (src / "link").symlink_to("a.txt")

    text, as_json = moto_cli.run_many(
        ["backup", "--exclude", "*.tmp", src, f"s3://{bucket}/t"],
        ["backup", "--json", "--exclude", "*.tmp", src, f"s3://{bucket}/j"],
    )
    summary = text.check(0).stderr_lines[-1]
    assert summary.startswith("cloudpane: new 1, changed 0, deleted 0, same 0, skipped 5 ("), summary
    reasons = summary.split("skipped 5 (", 1)[1].split(")", 1)[0].split(", ")
    assert sorted(reasons) == ["1 OS junk", "1 excluded", "1 symlink", "2 hidden"], summary
    report = json.loads(as_json.check(0).stdout)
    assert report["skipped"] == 5 and report["skipped_by"] == {"os_junk": 1, "hidden": 2, "excluded": 1, "symlink": 1}
    assert [o["Key"] for o in moto_s3.list_objects_v2(Bucket=bucket, Prefix="j/")["Contents"]] == ["j/a.txt"]


def test_dry_run_lists_unchanged_files_only_with_v(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("eq")
    moto_s3.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "same.txt").write_bytes(b"s")
    moto_cli.run("backup", src, f"s3://{bucket}/p").check(0)
    (src / "new.txt").write_bytes(b"n")

    plain, verbose = moto_cli.run_many(
        ["backup", "-n", src, f"s3://{bucket}/p"],
        ["backup", "-n", "-v", src, f"s3://{bucket}/p"],
    )
    assert plain.check(0).stdout_lines == ["+ new.txt  (new)"], plain
    assert sorted(verbose.check(0).stdout_lines) == ["+ new.txt  (new)", "= same.txt"], verbose


def test_a_resumed_upload_says_how_many_parts_were_there(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("resume")
    moto_s3.create_bucket(Bucket=bucket)
    (tmp_path / "big.bin").write_bytes(os.urandom(30 * 1024 * 1024))
    state = tmp_path / "state"
    state.mkdir()
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB", CLOUDPANE_CONCURRENCY="1", CLOUDPANE_STATE_DIR=str(state))
    proc = subprocess.Popen(
        [*cloudpane_command(), "cp", "--bwlimit", "8M", "big.bin", f"s3://{bucket}/big.bin"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli.env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        # interrupt once two parts are on the server: with one part in flight, the first is journaled by then (a
        # part that reached the server but not the journal yet is not reused, rightly, and would make this racy)
        while True:
            uploads = moto_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
            parts = (
                moto_s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=uploads[0]["UploadId"]).get("Parts", [])
                if uploads
                else []
            )
            if len(parts) >= 2:
                break
            assert proc.poll() is None, "the upload finished before it could be interrupted"
            assert time.monotonic() < deadline, "no part was uploaded"
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130
    upload = moto_s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]
    on_server = len(moto_s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"])["Parts"])

    again = cli.run("cp", "big.bin", f"s3://{bucket}/big.bin").check(0)
    notes = [line for line in again.stderr_lines if "resuming the upload" in line]
    assert len(notes) == 1, again
    match = re.fullmatch(
        rf"cloudpane: resuming the upload of s3://{bucket}/big\.bin: (\d+) of 6 part\(s\) already there", notes[0]
    )
    assert match is not None, again
    assert 1 <= int(match.group(1)) <= on_server, (match.group(1), on_server)
    assert again.stderr_lines[-1] == "cloudpane: copied 1 file(s), 30.0 MiB", again


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that nobody trusts (signed by its own key)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_an_untrusted_certificate_says_so(moto_server: S3Server, tmp_path: Path) -> None:
    """A real TLS server (python's ssl) with a self-signed certificate: the handshake fails on verification."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        r = Cli(moto_server.env(), cwd=tmp_path).run("ls", "--endpoint-url", f"https://127.0.0.1:{port}", "s3://")
    finally:
        server.shutdown()
        server.server_close()
    line = r.one_error_line(6)
    assert line.startswith(
        f"cloudpane: error: connect: 127.0.0.1:{port}: the server's TLS certificate is not trusted ("
    ), line
    assert "self-signed" in line or "self signed" in line, line


def test_a_connect_timeout_says_so(moto_server: S3Server, tmp_path: Path) -> None:
    """A listening socket whose accept queue is full (backlog 0, filled, never accepted): the kernel drops the
    SYNs of the next connections, so they time out (botocore's connect_timeout, twice), as a firewalled port does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # in progress: it completes into the full queue, or never
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        r = Cli(moto_server.env(), cwd=tmp_path).run("ls", "--endpoint-url", f"http://127.0.0.1:{port}", "s3://")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert r.one_error_line(6) == f"cloudpane: error: connect: cannot connect to 127.0.0.1:{port}: timed out", r
