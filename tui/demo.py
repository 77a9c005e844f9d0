"""The embedded demo server behind ``cloudpane --demo`` and ``cloudpane demo-server``.

An in-process moto S3 server (``moto.server.ThreadedMotoServer``) on 127.0.0.1,
seeded with deterministic sample data: the same keys and bytes (so the same
ETags) on every run.  Only version ids and timestamps differ between runs.

* ``demo-photos`` (versioned): a few hundred small "photos" in ``YYYY/MM/``
  folders, a README, user metadata and content types, keys with spaces and
  unicode, ``notes/`` objects with 3-4 versions each, and
  ``notes/deleted-draft.txt`` hidden behind a delete marker.
* ``demo-scratch`` (unversioned): a handful of text, CSV, JSON and log files.

moto does not check credentials; the demo ones are ``demo``/``demo-secret``.
moto keeps its state per *process*: every ``DemoServer`` in one process serves
the same buckets, and ``start()`` clears that state unless ``reset=False``.

``cloudpane --demo`` runs the server in a child process (:class:`DemoChild`,
``python -m tui.demo --child``), so that it never competes with the TUI for the
interpreter. The child dies with its parent: it reads a pipe from the parent and
exits at its end of file (the kernel closes the pipe however the parent ends,
``kill -9`` included), and on Linux the kernel also sends it SIGTERM when the
parent dies (``PR_SET_PDEATHSIG``). It then removes the demo's temporary folder.

Engine side: no Textual import, and moto/boto3 are imported inside functions
so ``import tui.demo`` stays cheap.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from tui.errors import CloudpaneError, StoreError, UsageError

__all__ = [
    "DEMO_ACCESS_KEY",
    "DEMO_HOST",
    "DEMO_REGION",
    "DEMO_SECRET_KEY",
    "PHOTOS_BUCKET",
    "SCRATCH_BUCKET",
    "DemoChild",
    "DemoObject",
    "DemoServer",
    "DemoSession",
    "SeedResult",
    "demo_environment",
    "demo_plan",
    "make_local_sample",
    "run_demo_server",
    "seed",
]

DEMO_HOST = "127.0.0.1"
DEMO_ACCESS_KEY = "demo"
DEMO_SECRET_KEY = "demo-secret"
DEMO_REGION = "us-east-1"
PHOTOS_BUCKET = "demo-photos"
SCRATCH_BUCKET = "demo-scratch"
#: Buckets created by :func:`seed`, with whether versioning is enabled.
DEMO_BUCKETS: Mapping[str, bool] = {PHOTOS_BUCKET: True, SCRATCH_BUCKET: False}

_SEED = "cloudpane-demo-v1"
_JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
_JPEG_TAIL = b"\xff\xd9"


# ------------------------------------------------------------------ the data


@dataclass(frozen=True)
class DemoObject:
    """One key of the demo data set and every version written to it, oldest first."""

    bucket: str
    key: str
    versions: tuple[bytes, ...]
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: a delete marker is written after the last version
    deleted: bool = False

    @property
    def body(self) -> bytes:
        """The newest content."""
        return self.versions[-1]


def _text(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _photo(rng: random.Random, low: int = 2 * 1024, high: int = 40 * 1024) -> bytes:
    return _JPEG_HEAD + rng.randbytes(rng.randint(low, high)) + _JPEG_TAIL


def _photo_objects(rng: random.Random) -> Iterator[DemoObject]:
    cameras = ("Pixel 8", "iPhone 15", "Fujifilm X100V", "Canon EOS R6")
    places = ("Lisbon", "Berlin", "Kyoto", "Oslo", "Sao Paulo")  # metadata is ASCII
    months = [(2023, m) for m in range(1, 13)] + [(2024, m) for m in range(1, 7)]
    number = 0
    for year, month in months:
        for _ in range(rng.randint(9, 15)):
            number += 1
            key = f"{year}/{month:02d}/IMG_{number:04d}.jpg"
            metadata: dict[str, str] = {}
            if number % 7 == 0:
                metadata = {
                    "camera": rng.choice(cameras),
                    "location": rng.choice(places),
                    "taken": f"{year}-{month:02d}-{rng.randint(1, 28):02d}",
                }
            yield DemoObject(PHOTOS_BUCKET, key, (_photo(rng),), "image/jpeg", metadata)
        if month % 4 == 0:
            key = f"{year}/{month:02d}/VID_{number:04d}.mp4"
            body = b"\x00\x00\x00\x18ftypmp42" + rng.randbytes(rng.randint(20_000, 48_000))
            yield DemoObject(PHOTOS_BUCKET, key, (body,), "video/mp4")


def demo_plan() -> list[DemoObject]:
    """The complete demo data set, identical on every call and every run."""
    rng = random.Random(_SEED)
    objects: list[DemoObject] = [
        DemoObject(
            PHOTOS_BUCKET,
            "README.txt",
            (
                _text(
                    "cloudpane demo bucket",
                    "",
                    "Photos are in YYYY/MM/ folders. notes/ holds versioned text files;",
                    "notes/deleted-draft.txt was deleted and only its old versions remain.",
                    "Nothing here is real: the server is moto, running inside cloudpane.",
                ),
            ),
            "text/plain; charset=utf-8",
            {"generator": "cloudpane-demo", "purpose": "demo"},
        ),
        DemoObject(
            PHOTOS_BUCKET,
            "albums.json",
            (
                b'{"albums": [{"name": "Sommer 2023", "prefix": "albums/Sommer 2023/"},'
                b' {"name": "\\u65e5\\u672c", "prefix": "albums/\\u65e5\\u672c/"}]}\n',
            ),
            "application/json",
        ),
    ]
    objects.extend(_photo_objects(rng))
    objects += [
        DemoObject(
            PHOTOS_BUCKET,
            "albums/Sommer 2023/Café am Strand – ☀ 01.jpg",
            (_photo(rng),),
            "image/jpeg",
            {"caption": "cafe on the beach"},
        ),
        DemoObject(PHOTOS_BUCKET, "albums/Sommer 2023/Boot (2).jpg", (_photo(rng),), "image/jpeg"),
        DemoObject(PHOTOS_BUCKET, "albums/日本/東京タワー.jpg", (_photo(rng),), "image/jpeg"),
        DemoObject(PHOTOS_BUCKET, "misc/empty.txt", (b"",), "text/plain"),
        DemoObject(
            PHOTOS_BUCKET,
            "notes/todo.txt",
            (
                _text("- buy milk"),
                _text("- buy milk", "- back up photos"),
                _text("- [x] buy milk", "- back up photos", "- sort 2024 albums"),
            ),
            "text/plain",
        ),
        DemoObject(
            PHOTOS_BUCKET,
            "notes/shopping list.txt",
            (
                _text("bread", "eggs"),
                _text("bread", "eggs", "coffee"),
                _text("eggs", "coffee", "oranges"),
            ),
            "text/plain",
        ),
        DemoObject(
            PHOTOS_BUCKET,
            "notes/ideas.md",
            (
                _text("# Ideas"),
                _text("# Ideas", "", "- photo book for 2023"),
                _text("# Ideas", "", "- photo book for 2023", "- trip to Kyoto"),
                _text("# Ideas", "", "- photo book for 2023 (ordered)", "- trip to Kyoto"),
            ),
            "text/markdown",
            {"author": "demo"},
        ),
        DemoObject(
            PHOTOS_BUCKET,
            "notes/deleted-draft.txt",
            (_text("first draft"), _text("second draft, then deleted")),
            "text/plain",
            deleted=True,
        ),
    ]
    log_lines = [
        f"2024-01-0{day} 12:{minute:02d}:00 INFO request {rng.randint(1000, 9999)} ok"
        for day in (1, 2, 3)
        for minute in range(0, 60, 3)
    ]
    objects += [
        DemoObject(SCRATCH_BUCKET, "hello.txt", (_text("Hello from the cloudpane demo!"),)),
        DemoObject(
            SCRATCH_BUCKET,
            "data/report.csv",
            (
                _text(
                    "month,photos,bytes",
                    *(f"2023-{m:02d},{rng.randint(5, 30)},{rng.randint(10**5, 10**6)}" for m in range(1, 13)),
                ),
            ),
            "text/csv",
        ),
        DemoObject(
            SCRATCH_BUCKET,
            "data/numbers.json",
            (("[" + ", ".join(str(rng.randint(0, 999)) for _ in range(64)) + "]\n").encode(),),
            "application/json",
        ),
        *(
            DemoObject(
                SCRATCH_BUCKET,
                f"logs/app-2024-01-0{day}.log",
                (_text(*log_lines[(day - 1) * 20 : day * 20]),),
                "text/plain",
            )
            for day in (1, 2, 3)
        ),
        DemoObject(
            SCRATCH_BUCKET,
            "tmp/blob.bin",
            (rng.randbytes(12_345),),
            "application/octet-stream",
            {"note": "scratch data"},
        ),
    ]
    return objects


@dataclass(frozen=True)
class SeedResult:
    buckets: tuple[str, ...]
    objects: int
    versions: int
    delete_markers: int
    bytes: int
    seconds: float


def _s3_client(endpoint_url: str, access_key: str, secret_key: str, region: str, pool: int) -> Any:
    import boto3  # type: ignore[import-untyped, unused-ignore]
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=pool,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


def seed(
    endpoint_url: str,
    *,
    access_key: str = DEMO_ACCESS_KEY,
    secret_key: str = DEMO_SECRET_KEY,
    region: str = DEMO_REGION,
    workers: int = 8,
) -> SeedResult:
    """Create the demo buckets on ``endpoint_url`` and upload :func:`demo_plan`.

    The buckets must not exist yet (a fresh server).  Keys are uploaded by
    ``workers`` threads; the versions of one key are written in order.
    """
    t0 = time.perf_counter()
    plan = demo_plan()
    s3 = _s3_client(endpoint_url, access_key, secret_key, region, max(workers, 1))
    try:
        for bucket, versioned in DEMO_BUCKETS.items():
            s3.create_bucket(Bucket=bucket)
            if versioned:
                s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

        def upload(obj: DemoObject) -> None:
            extra: dict[str, Any] = {}
            if obj.content_type:
                extra["ContentType"] = obj.content_type
            if obj.metadata:
                extra["Metadata"] = dict(obj.metadata)
            for body in obj.versions:
                s3.put_object(Bucket=obj.bucket, Key=obj.key, Body=body, **extra)
            if obj.deleted:
                s3.delete_object(Bucket=obj.bucket, Key=obj.key)

        with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
            list(pool.map(upload, plan))
    finally:
        s3.close()
    return SeedResult(
        buckets=tuple(DEMO_BUCKETS),
        objects=sum(not o.deleted for o in plan),
        versions=sum(len(o.versions) for o in plan),
        delete_markers=sum(o.deleted for o in plan),
        bytes=sum(len(v) for o in plan for v in o.versions),
        seconds=time.perf_counter() - t0,
    )


def make_local_sample(directory: Path) -> Path:
    """Write a small deterministic local tree for the demo's left pane; returns it.

    A few text files, nested subfolders, a hidden file ``.hidden``, a name with
    spaces and unicode, and ``big.bin`` (2 MiB) to show a progress bar.
    Existing files of the same names are overwritten.
    """
    rng = random.Random(_SEED + "-local")
    root = Path(directory)
    files: dict[str, bytes] = {
        "README.md": _text(
            "# Local sample",
            "",
            "Copy files to the right pane (F5), or browse demo-photos there.",
        ),
        "notes.txt": _text("Things to upload:", "- photos/", "- big.bin"),
        "Café menu.txt": _text("espresso 1.20", "galão 1.60", "pastel de nata 1.10"),
        ".hidden": _text("hidden files are shown with the 'show hidden' toggle"),
        "photos/beach.jpg": _photo(rng),
        "photos/city.jpg": _photo(rng),
        "photos/2024/mountain.jpg": _photo(rng),
        "docs/report.csv": _text("name,value", *(f"item{i},{rng.randint(0, 99)}" for i in range(20))),
        "big.bin": rng.randbytes(2 * 1024 * 1024),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


# ------------------------------------------------------------------ the server


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug does
        try:
            s.bind((DEMO_HOST, port))
        except OSError as exc:
            raise UsageError(f"port {port} on {DEMO_HOST} is not available: {exc}") from exc


class DemoServer:
    """An in-process moto S3 server on 127.0.0.1 (``port=0``: a free port)."""

    def __init__(self, port: int = 0, *, reset: bool = True, log_requests: bool = False) -> None:
        if not 0 <= port <= 65535:
            raise UsageError(f"port must be 0-65535, not {port}")
        self._requested_port = port
        self._reset = reset
        self._log_requests = log_requests
        self._moto: Any = None
        self._port: int | None = None

    # -- lifecycle

    def start(self) -> DemoServer:
        """Start serving; returns self.  Raises UsageError if the port is taken."""
        if self._moto is not None:
            return self
        from moto.server import ThreadedMotoServer

        if self._requested_port:
            # ThreadedMotoServer binds in a thread and would wait forever if
            # that bind failed, so find out first.
            _check_port_free(self._requested_port)
        if not self._log_requests:
            # werkzeug logs every request to stderr at INFO, which would
            # scribble over the TUI.  Errors still get through.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto = ThreadedMotoServer(ip_address=DEMO_HOST, port=self._requested_port, verbose=False)
        moto.start()
        self._moto = moto
        self._port = int(moto.get_host_and_port()[1])
        if self._reset:
            self.reset()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket, so the port is free again."""
        moto, self._moto = self._moto, None
        if moto is None:
            return
        moto.stop()
        # ThreadedMotoServer.stop() shuts the loop down but leaves the socket open.
        wsgi_server = getattr(moto, "_server", None)
        if wsgi_server is not None:
            wsgi_server.server_close()

    def reset(self) -> None:
        """Drop all moto state in this process (every bucket of every DemoServer)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as reply:
            reply.read()

    def seed(self) -> SeedResult:
        """:func:`seed` this server with the demo data."""
        return seed(
            self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
        )

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where and how to connect

    @property
    def running(self) -> bool:
        return self._moto is not None

    @property
    def port(self) -> int:
        if self._port is None or self._moto is None:
            raise RuntimeError("the demo server is not running; call start() first")
        return self._port

    @property
    def endpoint_url(self) -> str:
        return f"http://{DEMO_HOST}:{self.port}"

    @property
    def access_key(self) -> str:
        return DEMO_ACCESS_KEY

    @property
    def secret_key(self) -> str:
        return DEMO_SECRET_KEY

    @property
    def region(self) -> str:
        return DEMO_REGION

    def env(self) -> dict[str, str]:
        """``AWS_*`` variables that point an SDK or the aws cli at this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def env_lines(self) -> list[str]:
        """``export NAME=value`` lines for a POSIX shell.

        The ``AWS_*`` variables (aws cli >= 1.29/2.13, boto3, cloudpane),
        ``S3_ENDPOINT_URL`` (s5cmd) and an rclone remote named ``demo``
        (``rclone lsd demo:``) defined through ``RCLONE_CONFIG_DEMO_*``.
        """
        variables = dict(self.env())
        variables["S3_ENDPOINT_URL"] = self.endpoint_url
        variables.update(
            {
                "RCLONE_CONFIG_DEMO_TYPE": "s3",
                "RCLONE_CONFIG_DEMO_PROVIDER": "Other",
                "RCLONE_CONFIG_DEMO_ACCESS_KEY_ID": self.access_key,
                "RCLONE_CONFIG_DEMO_SECRET_ACCESS_KEY": self.secret_key,
                "RCLONE_CONFIG_DEMO_ENDPOINT": self.endpoint_url,
                "RCLONE_CONFIG_DEMO_REGION": self.region,
                "RCLONE_CONFIG_DEMO_FORCE_PATH_STYLE": "true",
            }
        )
        return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


def run_demo_server(
    port: int = 0,
    *,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """``cloudpane demo-server``: serve the seeded demo until Ctrl-C; returns 0.

    Prints the endpoint and ``export`` lines to ``out`` (default: the current
    ``sys.stdout``).  ``stop`` lets a caller (tests) end it without a signal.
    Raises UsageError if ``port`` is taken or out of range.
    """
    stream = out if out is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    server = DemoServer(port)
    server.start()
    try:
        result = server.seed()
        print(f"cloudpane demo server (moto) listening on {server.endpoint_url}", file=stream)
        print(
            f"seeded {', '.join(result.buckets)}: {result.objects} objects, "
            f"{result.versions} versions, {result.delete_markers} delete marker(s) "
            f"in {result.seconds:.1f} s",
            file=stream,
        )
        print("credentials are not checked. Point other tools at it with:", file=stream)
        print("", file=stream)
        for line in server.env_lines():
            print(line, file=stream)
        print("", file=stream)
        print("# e.g.  aws s3 ls   |   rclone lsd demo:   |   s5cmd ls", file=stream)
        print("Press Ctrl-C to stop.", file=stream, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(0.5):
                pass
    finally:
        server.stop()
    print("demo server stopped.", file=stream, flush=True)
    return 0


# ------------------------------------------------------------------ the server in a child process

#: the demo's temporary folders are named so; the child removes only such a folder
TEMP_PREFIX = "cloudpane-demo-"
#: how long ``cloudpane --demo`` waits for its server to be up and seeded
STARTUP_TIMEOUT_S = 60.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM when the parent dies (elsewhere the pipe's end of file does it alone)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _remove_temp(folder: str | None) -> None:
    if folder and Path(folder).name.startswith(TEMP_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)


def child_main(argv: list[str]) -> int:
    """``python -m tui.demo --child [--remove DIR]``: serve the seeded demo on a free port, print one JSON line
    ``{"endpoint": ...}``, and serve until stdin reaches its end (the parent closed it, or died) or SIGTERM. Then
    stop, and remove DIR (the demo's temporary folder). A failure to start is one line on stderr and exit 2
    (usage) or 1."""
    remove = argv[argv.index("--remove") + 1] if "--remove" in argv else None
    parent = os.getppid()
    _die_with_parent()

    stopping = False

    def terminate(signum: int, frame: object) -> None:
        if not stopping:  # the parent's death may bring SIGTERM and the pipe's end at once: clean up only once
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the TUI's terminal is not ours: the parent decides
    server = DemoServer()
    try:
        if os.getppid() != parent:
            return 0  # the parent died before the watch was set up
        try:
            server.start()
            result = server.seed()
        except CloudpaneError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            return int(exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - a demo that cannot start says why in one line
            print(f"error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr, flush=True)
            return 1
        line = {"endpoint": server.endpoint_url, "pid": os.getpid(), "objects": result.objects}
        print(json.dumps(line), flush=True)
        # nobody reads stdout after this line: whatever might still be printed must not fill the pipe and block
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        with contextlib.suppress(OSError):
            while sys.stdin.buffer.read(65536):
                pass  # the parent never writes: this returns at its end of file
        return 0
    finally:
        stopping = True
        _remove_temp(remove)
        with contextlib.suppress(Exception):
            server.stop()


class DemoChild:
    """The demo server in a child process, for ``cloudpane --demo``. ``start`` returns once it is seeded and
    serving; ``stop`` (or the parent's death, however it happens) ends it. ``remove``: a folder (named
    ``cloudpane-demo-…``) the child deletes when it ends."""

    def __init__(self, *, remove: Path | None = None, timeout: float = STARTUP_TIMEOUT_S) -> None:
        self._remove = remove
        self._timeout = timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._endpoint: str | None = None

    def start(self) -> DemoChild:
        """Raises UsageError or StoreError (one line) when the server does not start."""
        command = [sys.executable, "-m", "tui.demo", "--child"]
        if self._remove is not None:
            command += ["--remove", str(self._remove)]
        with tempfile.TemporaryFile() as errors:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                # its own session: no signals from the TUI's terminal, and no terminal to write on
                start_new_session=True,
            )
            try:
                line = self._first_line()
            except TimeoutError:
                self.stop(timeout=1.0)
                raise StoreError(f"the demo server did not start within {self._timeout:.0f} s") from None
            except EOFError:
                proc = self._proc
                self.stop()
                errors.seek(0)
                said = [x for x in errors.read().decode(errors="replace").splitlines() if x.strip()]
                raise self._failure(said[-1] if said else "", proc.returncode) from None
            except BaseException:
                self.stop()
                raise
        try:
            self._endpoint = str(json.loads(line)["endpoint"])
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise StoreError("the demo server did not start: it said something unexpected") from None
        return self

    def _first_line(self) -> bytes:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        deadline = time.monotonic() + self._timeout
        buf = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                if not sel.select(left):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    raise EOFError
                buf += chunk
        return buf.split(b"\n", 1)[0]

    def _failure(self, said: str, code: int | None) -> CloudpaneError:
        reason = said.removeprefix("error: ") or f"it exited with code {code}"
        message = f"the demo server did not start: {reason}"
        return UsageError(message) if code == 2 else StoreError(message)

    def stop(self, timeout: float = 10.0) -> None:
        """Close the pipe (the child stops at its end), wait, and kill it if it does not go."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("the demo server is not running")
        return self._proc.pid

    @property
    def endpoint_url(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the demo server is not running; call start() first")
        return self._endpoint

    def env(self) -> dict[str, str]:
        """``AWS_*`` variables that point cloudpane (the default S3 remote) at this server."""
        return {
            "AWS_ACCESS_KEY_ID": DEMO_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": DEMO_SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": DEMO_REGION,
            "AWS_DEFAULT_REGION": DEMO_REGION,
        }


@dataclass(frozen=True)
class DemoSession:
    """What ``cloudpane --demo`` runs on: the temporary sample folder (removed on exit) and the server."""

    sample: Path
    server: DemoChild


@contextlib.contextmanager
def demo_environment(*, timeout: float = STARTUP_TIMEOUT_S) -> Iterator[DemoSession]:
    """A temporary sample folder and the demo server in a child process, the default S3 remote pointed at it
    (``AWS_*`` in this process's environment, restored after). Everything is gone on exit: the child ends with
    this process and removes the folder even when this process is killed."""
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    saved = dict(os.environ)
    child: DemoChild | None = None
    try:
        sample = make_local_sample(folder / "sample")
        child = DemoChild(remove=folder, timeout=timeout).start()
        for name in list(os.environ):
            if name.startswith("AWS_"):
                del os.environ[name]
        os.environ.update(child.env())
        yield DemoSession(sample, child)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if child is not None:
            child.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if "--child" in sys.argv[1:]:
        raise SystemExit(child_main(sys.argv[1:]))
    raise SystemExit("usage: python -m tui.demo --child [--remove DIR]   (cloudpane demo-server serves the demo)")
