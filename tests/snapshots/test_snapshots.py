"""Snapshots of the main screens at 80x24 and 120x36 on deterministic in-memory data (pytest-textual-snapshot).

Update after a deliberate UI change with `pytest tests/snapshots --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.snapshots.memory import MemoryHub, sample_buckets
from tui.locations import Location
from tui.ui.app import CloudpaneApp
from tui.ui.resume import Busy, QuitDialog, ResumeDialog


def make_app() -> CloudpaneApp:
    hub = MemoryHub(sample_buckets())
    left = Location("s3", remote="mem", bucket="photos", key="2024/01/")
    right = Location("s3", remote="mem", bucket=None)
    return CloudpaneApp(left, right, hub=hub)


SIZES = [(80, 24), (120, 36)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_main(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, press=["down", "down"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_bucket_root_with_untrusted_names(snap_compare, size: tuple[int, int]) -> None:
    # the key "[@click=app.quit]x" and one with an ESC show literally
    assert snap_compare(make_app(), terminal_size=size, press=["backspace", "backspace", "wait:200"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_help(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, press=["f1"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_versions(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, press=["down", "v", "wait:200"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_inspector(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, press=["down", "i", "wait:200"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_copy_confirm(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(
        make_app(), terminal_size=size, press=["down", "space", "down", "space", "tab", "enter", "tab", "c"]
    )


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_new_bucket(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, press=["tab", "n", "wait:100", *"Bad_Name"])


def test_quit_with_transfers(snap_compare) -> None:
    """q with 2 uploads running and 3 queued: keep resumable / cancel / stay (the focus on Stay)."""

    async def ask(pilot: Pilot[int]) -> None:
        await pilot.pause()
        pilot.app.push_screen(QuitDialog(Busy(running=2, queued=3)))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=ask)


def test_resume_offer(snap_compare) -> None:
    """The start after a kept quit: the unfinished uploads, resume / later / discard (the focus on Resume)."""

    async def offer(pilot: Pilot[int]) -> None:
        await pilot.pause()
        lines = [
            "/home/me/videos/talk.mp4 → s3://photos/talk.mp4  120.0 MiB of 301.5 MiB",
            "/home/me/backup.tar → s3://archive/2024/backup.tar  8.0 MiB of 1.2 GiB",
        ]
        pilot.app.push_screen(ResumeDialog(lines))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=offer)
