"""``cloudpane --demo`` tells the truth: its server is a child process that ends with the TUI (even on kill -9) and
takes the temporary sample folder with it; the first screen says so; quitting after a copy into it asks first.

The real ``cloudpane --demo`` runs in a pseudo-terminal here (it is a TUI); the processes are found in ``/proc``.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Static

from tests.cli.conftest import Cli, cloudpane_command
from tests.ui.conftest import SIZE, cursor_to, notifications, settle
from tui.demo import DemoChild, demo_environment
from tui.locations import parse_location
from tui.ui.demo_app import TEMPORARY_MARK, DemoApp
from tui.ui.dialogs import ConfirmDialog, MessageDialog

pytestmark = pytest.mark.skipif(not Path("/proc/self").exists(), reason="finds the processes in /proc (Linux)")

STARTUP_S = 60.0
GONE_S = 15.0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(x) for x in out.stdout.split()]


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


class Tui:
    """``cloudpane --demo`` in a pseudo-terminal of 120x36; the screen output is drained (and kept) by a thread."""

    def __init__(self, tmp: Path) -> None:
        master, slave = pty.openpty()
        os.set_blocking(master, True)
        self.master = master
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "36", "HOME": str(tmp)}
        for name in [n for n in env if n.startswith("AWS_")]:
            del env[name]
        self.proc = subprocess.Popen(
            [*cloudpane_command(), "--demo"], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp,
            start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def server(self) -> tuple[int, Path]:
        """The demo server's pid and the temporary folder it removes, once it is up."""
        found: list[tuple[int, Path]] = []

        def up() -> bool:
            for child in _children(self.proc.pid):
                args = _cmdline(child)
                if "tui.demo" in args and "--child" in args:
                    found.append((child, Path(args[args.index("--remove") + 1])))
                    return b"Demo mode" in self.output
            return False

        _wait(up, STARTUP_S, f"the demo's server and notice; screen so far: {bytes(self.output[-2000:])!r}")
        return found[-1]

    def keys(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


@pytest.fixture
def tui(tmp_path: Path) -> Iterator[Tui]:
    t = Tui(tmp_path)
    try:
        yield t
    finally:
        t.close()


def test_the_server_is_a_child_that_dies_with_a_killed_tui(tui: Tui) -> None:
    server, folder = tui.server()
    assert server != tui.proc.pid and _alive(server)
    assert (folder / "sample" / "README.md").is_file()
    os.kill(tui.proc.pid, signal.SIGKILL)  # no cleanup code of the TUI runs
    tui.proc.wait()
    _wait(lambda: not _alive(server), GONE_S, "the orphaned demo server to end")
    _wait(lambda: not folder.exists(), GONE_S, "the temporary folder to be removed")


def test_quit_ends_the_server_and_removes_the_folder(tui: Tui) -> None:
    server, folder = tui.server()
    tui.keys(b"\r")  # close the notice
    time.sleep(0.5)
    tui.keys(b"q")
    assert tui.proc.wait(timeout=GONE_S) == 0
    assert not _alive(server)
    assert not folder.exists()


def test_a_server_that_does_not_start_is_one_line_and_exit_1(tmp_path: Path) -> None:
    # a broken moto on the path: only the child imports it (the TUI process never does)
    broken = tmp_path / "broken" / "moto"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('moto is broken for this test')\n")
    temp = tmp_path / "temp"
    temp.mkdir()
    result = Cli({"PYTHONPATH": str(broken.parent), "TMPDIR": str(temp)}, cwd=tmp_path).run("--demo")
    line = result.one_error_line(1)
    assert "demo server did not start" in line and "moto is broken for this test" in line, line
    assert list(temp.iterdir()) == []  # the temporary sample folder did not outlive the failure


def test_demo_child_raises_one_line_on_a_timeout() -> None:
    child = DemoChild(timeout=0.01)
    with pytest.raises(Exception, match="did not start within") as info:
        child.start()
    assert "\n" not in str(info.value)


async def test_notice_mark_and_quit_reminder() -> None:
    saved = dict(os.environ)
    with demo_environment() as session:
        assert os.environ["AWS_ENDPOINT_URL"] == session.server.endpoint_url
        assert session.server.pid != os.getpid() and _alive(session.server.pid)
        app = DemoApp(
            parse_location(str(session.sample) + "/"),
            parse_location("s3://demo-scratch/"),
            sample=session.sample,
            endpoint=session.server.endpoint_url,
        )
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # the first screen says it: temporary, deleted on exit
            assert isinstance(app.screen, MessageDialog)
            said = "".join(
                s.render().plain if isinstance(s.render(), Text) else str(s.render()) for s in app.screen.query(Static)
            )
            assert str(session.sample) in said and "deleted when cloudpane exits" in said, said
            await pilot.press("enter")
            await settle(pilot)
            assert app.left.title_mark == TEMPORARY_MARK and app.right.title_mark == ""

            # copy hello.txt from the demo bucket into the sample folder, then quit: it asks, naming the file
            await pilot.press("tab")
            await cursor_to(pilot, app.right, "hello.txt")
            await pilot.press("c")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert (session.sample / "hello.txt").is_file(), notifications(app)
            await pilot.press("q")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "hello.txt" in str(app.screen._body)
            await pilot.press("escape")  # stay
            await settle(pilot)
            assert app.is_running and not isinstance(app.screen, ConfirmDialog)
            await pilot.press("q")
            await settle(pilot)
            await pilot.press("shift+tab", "enter")  # Quit
            await settle(pilot)
        assert not app.is_running
        server = session.server.pid
    assert not _alive(server)
    assert not session.sample.exists()
    assert dict(os.environ) == saved  # the AWS_* variables the demo set are gone again
