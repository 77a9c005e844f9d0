"""Snapshots of the pane at 80x24 and 120x36 (issue 11): long names cut with "…", marks by pattern and the marked
count, the pattern dialog, a failed listing in the status line. Update with `--snapshot-update`, then look."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.snapshots.memory import WHEN, MemoryHub, sample_buckets
from tests.snapshots.test_snapshots import SIZES
from tui.locations import Location
from tui.ui.app import CloudpaneApp

LONG_NAMES = {
    "Café am Strand – Sommer 2024 (Originalgröße).jpg": b"x" * 4_404_019,
    "日本語のファイル名がとても長い場合のテスト.txt": b"x" * 120,
    "a-really-long-folder-name-that-does-not-fit/x.txt": b"x",
    "short.txt": b"x" * 12,
}


def make_app(left: Location, right: Location | None = None) -> CloudpaneApp:
    buckets = sample_buckets()
    buckets["long"] = {key: (data, WHEN) for key, data in LONG_NAMES.items()}
    hub = MemoryHub(buckets)
    return CloudpaneApp(left, right or Location("s3", remote="mem", bucket="photos", key="2024/01/"), hub=hub)


PHOTOS = Location("s3", remote="mem", bucket="photos", key="2024/01/")
LONG = Location("s3", remote="mem", bucket="long", key="")
MISSING = Location("s3", remote="mem", bucket="no-such-bucket", key="")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_long_names(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(LONG), terminal_size=size, press=["down", "wait:100"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_marked_by_pattern(snap_compare, size: tuple[int, int]) -> None:
    # + and "*2.jpg" over the default: IMG_1002.jpg; then Insert on IMG_1001.jpg: 2 marked, the cursor on IMG_1002
    press = ["plus", "wait:100", "asterisk", "2", ".", "j", "p", "g", "enter", "wait:100", "down", "insert"]
    assert snap_compare(make_app(PHOTOS), terminal_size=size, press=press)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_mark_dialog(snap_compare, size: tuple[int, int]) -> None:
    # typed over the selected default (the selection itself is drawn a frame late: not pictured)
    press = ["plus", "wait:100", "asterisk", "full_stop", "j", "p", "g", "wait:100"]
    assert snap_compare(make_app(PHOTOS), terminal_size=size, press=press)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_listing_failed(snap_compare, size: tuple[int, int]) -> None:
    """The error stays in the pane's status line once the toast is gone."""

    async def toast_gone(pilot: Pilot[int]) -> None:
        await pilot.pause(0.2)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(make_app(PHOTOS, MISSING), terminal_size=size, run_before=toast_gone)
