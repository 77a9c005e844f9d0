"""End-to-end tests of the headless commands: the real ``cloudpane`` executable in a subprocess.

Each test talks to a real S3 server (``moto_server`` / ``rclone_server`` from ``tests/conftest.py``) through the
same environment a user would set: ``os.environ`` as sealed off by the suite's conftest (``CLOUDPANE_*`` dirs,
``AWS_CONFIG_FILE``, ...) plus the server's ``AWS_*`` variables. Nothing is mocked.

A subprocess costs ~0.5 s of interpreter start-up, so tests group their assertions and
:meth:`Cli.run_many` starts independent invocations side by side.
"""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import S3Server

#: generous: a cold subprocess plus a few requests; a hang must fail the test, not the CI job
CLI_TIMEOUT_S = 60.0


def cloudpane_command() -> list[str]:
    """The installed console script next to the interpreter, else ``python -m tui``."""
    script = Path(sys.executable).parent / "cloudpane"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui"]


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def stdout_lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()

    def __str__(self) -> str:  # shown by pytest when an assertion on a Result fails
        return (
            f"cloudpane {' '.join(self.args)} -> rc={self.returncode}\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )

    def check(self, code: int = 0) -> Result:
        assert self.returncode == code, str(self)
        assert "Traceback" not in self.stderr, str(self)
        return self

    def one_error_line(self, code: int) -> str:
        """Assert exit ``code`` and exactly one line on stderr, no traceback; return that line."""
        self.check(code)
        lines = self.stderr_lines
        assert len(lines) == 1, str(self)
        assert lines[0].startswith("cloudpane: "), str(self)
        return lines[0]


class Cli:
    """Runs ``cloudpane`` with the suite's environment plus ``extra_env`` (a server's ``AWS_*`` variables)."""

    def __init__(self, extra_env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.env = {**os.environ, **(extra_env or {})}
        self.env.pop("CLOUDPANE_DEBUG", None)
        self.env["PYTHONUNBUFFERED"] = "1"
        self.cwd = cwd

    def with_env(self, **changes: str) -> Cli:
        clone = Cli(cwd=self.cwd)
        clone.env = {**self.env, **changes}
        return clone

    def _popen(self, args: Sequence[str | os.PathLike[str]], cwd: Path | None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [*cloudpane_command(), *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=cwd or self.cwd,
        )

    @staticmethod
    def _collect(proc: subprocess.Popen[bytes], args: Sequence[Any]) -> Result:
        try:
            out, err = proc.communicate(timeout=CLI_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(
                f"cloudpane {' '.join(map(str, args))} did not finish in {CLI_TIMEOUT_S} s\n"
                f"{out.decode(errors='replace')}{err.decode(errors='replace')}"
            ) from None
        # strict decoding: the CLI must always print valid UTF-8
        return Result(tuple(map(str, args)), proc.returncode, out.decode("utf-8"), err.decode("utf-8"))

    def run(self, *args: str | os.PathLike[str], cwd: Path | None = None) -> Result:
        return self._collect(self._popen(args, cwd), args)

    def run_many(self, *commands: Iterable[str | os.PathLike[str]], cwd: Path | None = None) -> list[Result]:
        """Run independent commands at the same time; results in the order given."""
        arg_lists = [list(c) for c in commands]
        procs = [self._popen(a, cwd) for a in arg_lists]
        return [self._collect(p, a) for p, a in zip(procs, arg_lists, strict=True)]


_counter = itertools.count()
_RUN_ID = secrets.token_hex(3)


@pytest.fixture
def new_bucket() -> Any:
    """A factory of unique, valid bucket names (moto and rclone are shared by the whole session)."""

    def make(stem: str = "b") -> str:
        return f"cli-{stem}-{_RUN_ID}-{next(_counter)}"

    return make


@pytest.fixture
def moto_cli(moto_server: S3Server, tmp_path: Path) -> Cli:
    return Cli(moto_server.env(), cwd=tmp_path)


@pytest.fixture
def rclone_cli(rclone_server: S3Server, tmp_path: Path) -> Cli:
    return Cli(rclone_server.env(), cwd=tmp_path)


@pytest.fixture(scope="session")
def moto_s3(moto_server: S3Server) -> Any:
    client = moto_server.boto3_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def rclone_s3(rclone_server: S3Server) -> Any:
    client = rclone_server.boto3_client()
    yield client
    client.close()


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative posix path -> bytes), for byte-for-byte comparisons."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def all_files(root: Path) -> list[str]:
    """Every entry under ``root``, files and directories, as relative posix paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
