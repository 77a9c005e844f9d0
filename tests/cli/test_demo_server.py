"""``cloudpane demo-server``: prints where it listens, serves the demo buckets, stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import selectors
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.cli.conftest import Cli, cloudpane_command

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def _read_until(proc: subprocess.Popen[bytes], marker: str, timeout: float) -> list[str]:
    """Lines of ``proc``'s stdout up to and including the first one containing ``marker``."""
    assert proc.stdout is not None
    lines: list[str] = []
    buf = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} within {timeout} s; got {lines!r} {buf!r}")
            if not sel.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError(f"demo-server exited (rc={proc.wait()}) before {marker!r}: {lines!r}")
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode()
                lines.append(line)
                if marker in line:
                    return lines


def _exports(lines: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in lines:
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            (env[name],) = shlex.split(value)
    return env


def test_demo_server_serves_and_stops_on_sigint(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*cloudpane_command(), "demo-server"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    try:
        lines = _read_until(proc, "Press Ctrl-C", STARTUP_TIMEOUT_S)
        listening = [line for line in lines if "listening on http://127.0.0.1:" in line]
        assert len(listening) == 1, lines
        endpoint = listening[0].rsplit(" ", 1)[-1]
        env = _exports(lines)
        assert env["AWS_ENDPOINT_URL"] == endpoint, lines
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} <= set(env), lines

        buckets, photos = Cli(env, cwd=tmp_path).run_many(
            ["ls", "--json", "s3://"],
            ["versions", "--json", "s3://demo-photos/notes/"],
        )
        buckets.check(0)
        assert {json.loads(line)["bucket"] for line in buckets.stdout_lines} == {"demo-photos", "demo-scratch"}
        photos.check(0)
        rows = [json.loads(line) for line in photos.stdout_lines]
        assert any(row.get("is_delete_marker") for row in rows), photos
        assert len(rows) > len({row["key"] for row in rows}), photos  # several versions per key

        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = proc.communicate(timeout=STOP_TIMEOUT_S)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (out, err)
    assert took < 5, took
    assert "demo server stopped." in out.decode(), out
    assert b"Traceback" not in err, err


def test_demo_server_unusable_port_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = str(busy.getsockname()[1])
        out_of_range, in_use = Cli(cwd=tmp_path).run_many(
            ["demo-server", "--port", "70000"],
            ["demo-server", "--port", taken],
        )
    assert "70000" in out_of_range.one_error_line(2), out_of_range
    assert taken in in_use.one_error_line(2), in_use
