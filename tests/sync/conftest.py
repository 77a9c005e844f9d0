"""End-to-end tests of ``backup``, ``restore`` and ``sync``: the real ``cloudpane`` executable in a subprocess, against
the session's real S3 servers on 127.0.0.1 (``moto_server``, ``rclone_server``). Nothing is mocked.

Each test gets its own ``CLOUDPANE_STATE_DIR`` / ``CLOUDPANE_CACHE_DIR`` (under ``tmp_path``), so the hash cache and
the two-way sync state of one test never leak into another, and its own bucket(s).

Requests are counted without a proxy: backups go to *versioned* buckets, where every PUT (single, multipart or
server-side copy) adds a version, so "no PUT" means "the version ids did not change".
"""

from __future__ import annotations

import ctypes
import itertools
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import S3Server, rclone_binary

#: a cold interpreter plus a few requests; a hang (e.g. a symlink loop) must fail the test, not the job
CLI_TIMEOUT_S = 60.0

SUMMARY = re.compile(
    r"^cloudpane: new (?P<new>\d+), changed (?P<changed>\d+), deleted (?P<deleted>\d+), same (?P<same>\d+), "
    r"skipped (?P<skipped>\d+)(?: \([^)]*\))?, failed (?P<failed>\d+), "
    r"(?:conflicts (?P<conflicts>\d+), )?(?P<bytes>\d+) bytes, "
    r"[0-9.]+ s(?P<dry> \(dry run: nothing changed\))?$"
)


def cloudpane_command() -> list[str]:
    script = Path(sys.executable).parent / "cloudpane"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui"]


@dataclass(frozen=True, repr=False)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def out(self) -> list[str]:
        """The plan lines, then what stdout holds. With ``--json`` the plan goes to stderr (stdout is one JSON
        document), so the plan lines are taken from there."""
        if "--json" in self.args:
            plan = [line for line in self.err if line[:2] in ("+ ", "* ", "- ", "= ")]
            return plan + self.stdout.splitlines()
        return self.stdout.splitlines()

    @property
    def err(self) -> list[str]:
        return self.stderr.splitlines()

    def __str__(self) -> str:
        return (
            f"{' '.join(self.args)} -> rc={self.returncode}\n--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )

    __repr__ = __str__  # pytest shows a non-string assertion message by its repr

    def check(self, code: int = 0) -> Result:
        assert self.returncode == code, str(self)
        assert "Traceback" not in self.stderr, str(self)
        return self

    def summary(self) -> dict[str, int]:
        """The one summary line that ends stderr (text mode), as numbers; ``failed`` includes refusals."""
        assert self.err, str(self)
        m = SUMMARY.match(self.err[-1])
        assert m is not None, f"no summary line at the end of stderr\n{self}"
        assert sum(1 for line in self.err if SUMMARY.match(line)) == 1, str(self)
        return {k: int(v) for k, v in m.groupdict().items() if v is not None and k != "dry"}

    def json(self) -> dict[str, Any]:
        """The ``--json`` summary: stdout is exactly one line; stderr then carries no text summary."""
        lines = self.stdout.splitlines()
        assert len(lines) == 1, str(self)
        data = json.loads(lines[-1])
        assert isinstance(data, dict), str(self)
        assert not any(SUMMARY.match(line) for line in self.err), str(self)
        return data

    def one_error_line(self, code: int) -> str:
        self.check(code)
        assert len(self.err) == 1, str(self)
        assert self.err[0].startswith("cloudpane: error: "), str(self)
        return self.err[0]


class Cli:
    """``cloudpane`` with the suite's sealed environment, one server's ``AWS_*`` variables and per-test dirs."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.cwd = cwd

    def _popen(self, args: Sequence[object], preexec: Callable[[], None] | None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*cloudpane_command(), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=self.cwd,
            preexec_fn=preexec,  # single-threaded test process; drops capabilities (see make_unreadable)
        )

    @staticmethod
    def _collect(proc: subprocess.Popen[bytes], args: Sequence[object]) -> Result:
        try:
            out, err = proc.communicate(timeout=CLI_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"cloudpane {' '.join(map(str, args))} did not finish in {CLI_TIMEOUT_S} s") from None
        return Result(tuple(map(str, args)), proc.returncode, out.decode("utf-8"), err.decode("utf-8"))

    def run(self, *args: object, preexec: Callable[[], None] | None = None) -> Result:
        return self._collect(self._popen(args, preexec), args)

    def run_many(self, *commands: Iterable[object]) -> list[Result]:
        """Independent invocations side by side (each costs ~0.5 s of start-up)."""
        lists = [list(c) for c in commands]
        procs = [self._popen(a, None) for a in lists]
        return [self._collect(p, a) for p, a in zip(procs, lists, strict=True)]


# -- unreadable files, also as root ----------------------------------------------------------------------------
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2


def _drop_dac_capabilities() -> None:
    """In the child before exec: drop CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the bounding set, so a root
    process gets neither after exec and ``chmod 000`` really blocks reads (as it does for any other user)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def make_unreadable(path: Path) -> Callable[[], None] | None:
    """``chmod 000`` the file (or folder); return the ``preexec`` that makes it unreadable for the CLI too (as
    root), after checking with ``cat`` (``ls``) that it does. Reading it then fails for certain, whoever runs the
    suite."""
    probe_cmd = ["ls" if path.is_dir() else "cat", str(path)]
    path.chmod(0)
    preexec = _drop_dac_capabilities if os.geteuid() == 0 else None
    probe = subprocess.run(probe_cmd, capture_output=True, preexec_fn=preexec, check=False)
    assert probe.returncode != 0, f"could not make {path} unreadable for a child process"
    return preexec


# -- files and objects -----------------------------------------------------------------------------------------
def write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (symlinks not followed), relative posix path -> bytes."""
    found: dict[str, bytes] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    """The current keys under ``prefix``, relative to it, sorted."""
    found: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found += [o["Key"][len(prefix) :] for o in page.get("Contents", [])]
    return sorted(found)


def objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    return {k: s3.get_object(Bucket=bucket, Key=prefix + k)["Body"].read() for k in keys(s3, bucket, prefix)}


def versions(s3: Any, bucket: str, prefix: str = "") -> dict[str, list[str]]:
    """Every version id and delete marker per key (newest first): one more per PUT, copy or delete."""
    found: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            found.setdefault(v["Key"][len(prefix) :], []).append(v["VersionId"])
    return found


def rclone_env(server: S3Server, name: str = "X") -> dict[str, str]:
    """An rclone remote ``NAME:`` from environment variables only (used with ``--config /dev/null``)."""
    p = f"RCLONE_CONFIG_{name.upper()}_"
    return {
        p + "TYPE": "s3",
        p + "PROVIDER": "Other",
        p + "ENDPOINT": server.endpoint_url,
        p + "ACCESS_KEY_ID": server.access_key,
        p + "SECRET_ACCESS_KEY": server.secret_key,
        p + "REGION": server.region,
    }


def rclone(server: S3Server, *args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))}
    env.update(rclone_env(server))
    return subprocess.run(
        [str(rclone_binary()), "--config", "/dev/null", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


# -- fixtures --------------------------------------------------------------------------------------------------
_counter = itertools.count()
_RUN = secrets.token_hex(3)


def cli_for(server: S3Server, tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k.endswith("_FILE")}
    env.update(server.env())
    env.pop("CLOUDPANE_DEBUG", None)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    for name, sub in (("CLOUDPANE_STATE_DIR", "state"), ("CLOUDPANE_CACHE_DIR", "cache")):
        path = tmp_path / "cloudpane" / sub
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    return Cli(env, cwd=tmp_path)


@pytest.fixture
def cli(moto_server: S3Server, tmp_path: Path) -> Cli:
    return cli_for(moto_server, tmp_path)


@pytest.fixture
def rclone_cli(rclone_server: S3Server, tmp_path: Path) -> Cli:
    return cli_for(rclone_server, tmp_path)


@pytest.fixture(scope="session")
def s3(moto_server: S3Server) -> Any:
    client = moto_server.boto3_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def rclone_s3(rclone_server: S3Server) -> Any:
    client = rclone_server.boto3_client()
    yield client
    client.close()


def _name(stem: str) -> str:
    return f"sync-{stem}-{_RUN}-{next(_counter)}"


@pytest.fixture
def bucket(s3: Any) -> Callable[..., str]:
    """A factory of fresh moto buckets: ``bucket("stem", versioned=True)``."""

    def make(stem: str = "b", *, versioned: bool = True) -> str:
        name = _name(stem)
        s3.create_bucket(Bucket=name)
        if versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    return make


@pytest.fixture
def rclone_bucket(rclone_s3: Any) -> Callable[[str], str]:
    def make(stem: str = "b") -> str:
        name = _name(stem)
        rclone_s3.create_bucket(Bucket=name)
        return name

    return make
