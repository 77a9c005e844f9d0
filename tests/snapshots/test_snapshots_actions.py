"""Snapshots of the action screens at 80x24 and 120x36 on deterministic in-memory data: the viewer (text, cut at
256 KiB; binary as hex), the rename dialog, the copy dialog with a folder and the conflict choice moved by arrows.

Update after a deliberate UI change with `pytest tests/snapshots --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.snapshots.memory import WHEN, MemoryHub
from tui.locations import Location
from tui.ui.app import CloudpaneApp

SIZES = [(80, 24), (120, 36)]
IDS = ["80x24", "120x36"]


def _log() -> bytes:
    head = "[bold]not markup[/] \x1b[31mnot red\x1b[0m\tafter a tab \u202eevil\r\n"
    lines = [f"2025-01-02T03:04:{i % 60:02d}Z request {i:06d} GET /photos/{i}.jpg 200\n" for i in range(6000)]
    return (head + "".join(lines)).encode()


def buckets() -> dict[str, dict[str, tuple[bytes, datetime]]]:
    work = {
        "app.log": (_log(), WHEN),
        "blob.bin": (bytes(range(256)) * 2, WHEN),
        "reports/2024/q1.csv": (b"a,b\n1,2\n", WHEN),
        "reports/2024/q2.csv": (b"a,b\n3,4\n", WHEN),
        "notes.txt": (b"short\n", WHEN),
    }
    archive = {"incoming/old.txt": (b"old", WHEN)}
    return {"work": work, "archive": archive}


def make_app() -> CloudpaneApp:
    hub = MemoryHub(buckets())
    left = Location("s3", remote="mem", bucket="work", key="")
    right = Location("s3", remote="mem", bucket="archive", key="incoming/")
    return CloudpaneApp(left, right, hub=hub)


# rows of the left pane: .., reports/, app.log, blob.bin, notes.txt


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_viewer_text_truncated(snap_compare, size: tuple[int, int]) -> None:
    assert len(_log()) > 256 * 1024
    assert snap_compare(make_app(), terminal_size=size, press=["wait:200", "down", "down", "f3", "wait:300"])


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_viewer_hex(snap_compare, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, press=["wait:200", "down", "down", "down", "o", "wait:300"])


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_rename_dialog(snap_compare, size: tuple[int, int]) -> None:
    keys = ["wait:200", "down", "down", "down", "down", "R", "wait:100", "backspace", "backspace", "backspace", *"md"]
    assert snap_compare(make_app(), terminal_size=size, press=keys)


@pytest.mark.parametrize("size", SIZES, ids=IDS)
def test_copy_dialog_with_a_folder(snap_compare, size: tuple[int, int]) -> None:
    keys = ["wait:200", "down", "space", "down", "space", "f5", "wait:100", "down"]
    assert snap_compare(make_app(), terminal_size=size, press=keys)
