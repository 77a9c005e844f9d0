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

Engine side: no Textual import, and moto/boto3 are imported inside functions
so ``import tui.demo`` stays cheap.
"""

from __future__ import annotations

import contextlib
import logging
import random
import shlex
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from tui.errors import UsageError

__all__ = [
    "DEMO_ACCESS_KEY",
    "DEMO_HOST",
    "DEMO_REGION",
    "DEMO_SECRET_KEY",
    "PHOTOS_BUCKET",
    "SCRATCH_BUCKET",
    "DemoObject",
    "DemoServer",
    "SeedResult",
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
