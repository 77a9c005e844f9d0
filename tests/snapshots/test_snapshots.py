"""Snapshots of the main screens at 80x24 and 120x36 on deterministic in-memory data (pytest-textual-snapshot).

Update after a deliberate UI change with `pytest tests/snapshots --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.snapshots.memory import MemoryHub, sample_buckets
from tui.locations import Location
from tui.ui.app import CloudpaneApp


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Dates render in local time: pin it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


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
