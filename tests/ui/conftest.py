"""Pilot tests of the TUI against a real ``moto_server``: real keys in, the screen and the server checked.

The app reaches S3 through the default S3 remote, i.e. the standard AWS environment chain, so the ``s3_env``
fixture sets the server's ``AWS_*`` variables (``monkeypatch.setenv``) before an app is built. Nothing is mocked.

Waiting is never a sleep: :func:`settle` lets the message queues drain and waits for every worker (pane listings,
transfers, dialogs that open after a lookup) until nothing is left running.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.worker import WorkerState

from tests.servers import S3Server
from tui.config import Settings
from tui.locations import parse_location
from tui.transfer.copy import Bandwidth
from tui.ui.app import CloudpaneApp
from tui.ui.pane import StorePane

SIZE = (100, 30)
#: notifications must not expire while a slow CI machine is still looking for them
NOTIFICATION_TIMEOUT_S = 600.0

_counter = itertools.count()
_RUN_ID = secrets.token_hex(3)


@pytest.fixture(scope="session")
def s3(moto_server: S3Server) -> Iterator[Any]:
    """A boto3 client for setup and verification."""
    client = moto_server.boto3_client()
    yield client
    client.close()


@pytest.fixture
def s3_env(moto_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """Point the default S3 remote (the AWS env chain) at the moto server, for this test only."""
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    return moto_server


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A resume journal of this test's own: an upload another test kept must not greet this test's app with a
    resume offer. Two apps of one test share it (quit, then start again)."""
    path = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CLOUDPANE_STATE_DIR", str(path))
    return path


@pytest.fixture
def new_bucket(s3: Any) -> Any:
    """A factory of fresh buckets with unique names (the server is shared by the whole session)."""

    def make(stem: str = "b", *, versioned: bool = False, create: bool = True) -> str:
        name = f"ui-{stem}-{_RUN_ID}-{next(_counter)}"
        if create:
            s3.create_bucket(Bucket=name)
            if versioned:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    return make


def make_app(
    left: str | Path, right: str | Path, *, settings: Settings | None = None, bandwidth: Bandwidth | None = None
) -> CloudpaneApp:
    """An app on two typed locations with default settings (no config file)."""

    def loc(where: str | Path) -> Any:
        text = str(where)
        if isinstance(where, Path) and not text.endswith("/"):
            text += "/"
        return parse_location(text)

    app = CloudpaneApp(loc(left), loc(right), settings=settings or Settings(), bandwidth=bandwidth)
    app.NOTIFICATION_TIMEOUT = NOTIFICATION_TIMEOUT_S  # type: ignore[misc]
    return app


async def settle(pilot: Pilot[Any], rounds: int = 100) -> None:
    """Drain the message queues and wait for every worker, until no worker is left (workers start workers)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        workers = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        if not workers:
            await pilot.pause()
            if not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
                return
            continue
        started = [w for w in workers if w.state is not WorkerState.PENDING]
        if started:
            await asyncio.gather(*(w.wait() for w in started), return_exceptions=True)
    raise AssertionError(f"workers still running after {rounds} rounds: {list(app.workers)}")


def notifications(app: CloudpaneApp) -> list[tuple[str, str, str]]:
    """(severity, title, message) of the live notifications.

    Textual 8.2.8 has no public getter: ``App.notify`` posts a ``Notify`` message and ``App._on_notify`` adds it to
    ``App._notifications`` (what Textual's own tests read); the toasts on screen are built from that collection.
    """
    return [(n.severity, n.title, n.message) for n in app._notifications]


def errors(app: CloudpaneApp) -> list[tuple[str, str, str]]:
    return [n for n in notifications(app) if n[0] == "error"]


def cell_text(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def names(pane: StorePane) -> list[str]:
    """The Name column as shown (mark prefix and trailing ``/`` of folders stripped)."""
    table = pane.table
    return [cell_text(table.get_row_at(i)[0])[2:] for i in range(table.row_count)]


async def cursor_to(pilot: Pilot[Any], pane: StorePane, name: str) -> None:
    """Move the pane's cursor onto the row called ``name`` with the arrow keys (the pane must have focus)."""
    shown = names(pane)
    assert name in shown, f"{name!r} not listed in {shown}"
    assert pane.table.has_focus, "the pane to move in must have the focus"
    target = shown.index(name)
    for _ in range(len(shown) + 1):
        current = pane.table.cursor_row
        if current == target:
            break
        await pilot.press("down" if current < target else "up")
    assert pane.table.cursor_row == target, f"cursor on row {pane.table.cursor_row}, not {target} ({name!r})"
    assert pane.current_row is not None
