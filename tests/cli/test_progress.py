"""The progress display, the way ``rclone -P`` shows it, through a pseudo-terminal: the real executable with its
stdout and stderr on a pty (python's pty module), a bandwidth limit so the copy lasts a few draws. What is
asserted is the structure of what was drawn (a total line, one line per running file, result lines that start
at the start of a line, the display gone before the summary), never how long anything took."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Any

from tests.cli.conftest import CLI_TIMEOUT_S, Cli, cloudpane_command

_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run_on_pty(cli: Cli, *args: str, cwd: Path) -> tuple[int, str]:
    """Run ``cloudpane ARGS`` with stdin, stdout and stderr on a 120x30 pty; (exit code, everything written)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = {**cli.env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "30"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [*cloudpane_command(), *args], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, close_fds=True
    )
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + CLI_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed its end
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        else:
            raise AssertionError(f"cloudpane {' '.join(args)} did not finish\n{out.decode(errors='replace')}")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return proc.returncode, out.decode("utf-8")


def _frames(raw: str) -> list[str]:
    """The text lines drawn, escape sequences removed (each redraw starts at a carriage return)."""
    text = _CSI.sub("", raw)
    return [line for chunk in text.split("\r\n") for line in chunk.split("\r") if line.strip()]


def test_a_total_bar_and_a_line_per_running_file_on_a_terminal(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("prog")
    moto_s3.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    names = ("one.bin", "two.bin", "three.bin")
    for name in names:
        (src / name).write_bytes(os.urandom(2 * 1024 * 1024))

    code, raw = _run_on_pty(moto_cli, "cp", "-r", "--bwlimit", "2M", str(src), f"s3://{bucket}/p/", cwd=tmp_path)
    assert code == 0, raw
    lines = _frames(raw)
    total = [line for line in lines if line.startswith("Total ")]
    assert total, raw
    # the total line: a bar, a percentage, bytes done of the total, and the file count
    assert any(re.search(r"Total +[━╸╺ ]+ +\d+% +[\d.]+/[\d.]+ MiB .* files \d/3", line) for line in total), total
    assert any(re.search(r"files 3/3", line) for line in total), total
    # a line per running file, with its own bar and size. The limiter lets the first file's bytes go at once (a
    # token bucket's burst: it may finish between two redraws); each file after it waits 1 s for its slot, in view
    drawn = []
    for name in names:
        # the label is the source path, shortened in the middle to fit (its end, the name, is kept)
        file_lines = [line for line in lines if not line.startswith("Total") and f"{name} " in line and "━" in line]
        assert all(re.search(r"[\d.]+/2\.0 MiB", line) for line in file_lines), file_lines
        drawn += [name] if file_lines else []
    assert len(drawn) >= 2, (drawn, lines)
    # each result line starts a line of its own (never drawn after a bar), and the summary comes last, with
    # the display erased before it (the last frame is not a bar)
    results = [line for line in lines if " -> s3://" in line]
    assert sorted(results) == sorted(f"{src / n} -> s3://{bucket}/p/{n} (2.0 MiB)" for n in names)
    assert lines[-1] == "cloudpane: copied 3 file(s), 6.0 MiB", lines[-3:]
    assert "\x1b[?25h" in raw  # the cursor shown again


def test_no_display_without_a_terminal_or_with_no_progress_or_quiet(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("noprog")
    moto_s3.create_bucket(Bucket=bucket)
    (tmp_path / "f.bin").write_bytes(os.urandom(1024 * 1024))

    piped = moto_cli.run("cp", "--bwlimit", "2M", "f.bin", f"s3://{bucket}/a.bin").check(0)
    assert "Total" not in piped.stderr and "━" not in piped.stderr, piped
    assert piped.stderr_lines == ["cloudpane: copied 1 file(s), 1.0 MiB"], piped

    code, raw = _run_on_pty(
        moto_cli, "cp", "--no-progress", "--bwlimit", "2M", "f.bin", f"s3://{bucket}/b.bin", cwd=tmp_path
    )
    assert code == 0, raw
    assert "Total" not in raw and "━" not in raw, raw
    expected = [f"{tmp_path / 'f.bin'} -> s3://{bucket}/b.bin (1.0 MiB)", "cloudpane: copied 1 file(s), 1.0 MiB"]
    assert _frames(raw) == expected, raw

    code, raw = _run_on_pty(moto_cli, "cp", "-q", "f.bin", f"s3://{bucket}/c.bin", cwd=tmp_path)
    assert (code, _frames(raw)) == (0, []), raw
