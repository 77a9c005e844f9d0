"""Snapshots of the transfers panel, the bucket inspector and the versions screen at 80x24 and 120x36, on
deterministic in-memory data (pytest-textual-snapshot).

Update after a deliberate UI change with `pytest tests/snapshots --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.snapshots.memory import MemoryHub, MemoryStore, sample_buckets
from tui.locations import Location
from tui.storage.base import PutResult
from tui.transfer.copy import CopyOptions
from tui.transfer.plan import Item
from tui.ui.app import CloudpaneApp
from tui.ui.transfers import Transfer, TransferQueue, TransfersScreen

SIZES = [(80, 24), (120, 36)]
MiB = 1024 * 1024


def make_app(*, aws_ids: bool = False) -> CloudpaneApp:
    hub = MemoryHub(sample_buckets(), aws_ids=aws_ids)
    left = Location("s3", remote="mem", bucket="photos", key="2024/01/")
    right = Location("s3", remote="mem", bucket=None)
    return CloudpaneApp(left, right, hub=hub)


def sample_queue() -> TransferQueue:
    """One transfer in each state the panel shows, with fixed byte counts (no speed: nothing moves)."""
    src = MemoryStore("photos", {})
    dst = MemoryStore("backup", {})
    queue = TransferQueue(CopyOptions)

    def add(name: str, size: int, state: str, done: int = 0, **extra: object) -> Transfer:
        item = Item(src, name, dst, name, False, f"/home/ana/photos/2024/{name}", f"s3://backup/photos/{name}")
        queue.queued(item)
        t = queue.items[-1]
        t.size, t.done = size, done
        t.state = state  # type: ignore[assignment]
        for key, value in extra.items():
            setattr(t, key, value)
        return t

    add("IMG_0001.jpg", 3 * MiB, "done", 3 * MiB, result=PutResult("9b2cf535f27731c974343645a3985328", None))
    add("IMG_0002.jpg", 2 * MiB, "skipped", 2 * MiB)
    add("holiday-video.mp4", 700 * MiB, "running", 315 * MiB)
    add("timelapse.mov", 1200 * MiB, "running", 1200 * MiB, phase="completing")
    add("raw-export.tar", 400 * MiB, "running", 400 * MiB, phase="verifying")
    add("IMG_0003.jpg", 5 * MiB, "running", 1 * MiB, phase="retrying", retries=2)
    add("scan-archive.zip", 900 * MiB, "running", 0, phase="hashing")
    add("IMG_0004.jpg", 4 * MiB, "failed", error="s3://backup/photos/IMG_0004.jpg: AccessDenied: Access Denied")
    add("IMG_0005.jpg", 1 * MiB, "cancelled")
    for n in range(6, 16):
        add(f"IMG_{n:04d}.jpg", 0, "queued")
    return queue


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_transfers_panel(snap_compare, size: tuple[int, int]) -> None:
    """Every state, a bar on each running row; the selection moved onto the retrying row."""

    async def show(pilot: Pilot[int]) -> None:
        await pilot.pause()
        pilot.app.push_screen(TransfersScreen(sample_queue()))
        await pilot.pause()
        for _ in range(5):
            await pilot.press("down")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=show)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_transfers_panel_scrolled_to_the_end(snap_compare, size: tuple[int, int]) -> None:
    """End: the last row selected, and in view."""

    async def show(pilot: Pilot[int]) -> None:
        await pilot.pause()
        pilot.app.push_screen(TransfersScreen(sample_queue()))
        await pilot.pause()
        await pilot.press("end")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=show)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_bucket_inspector(snap_compare, size: tuple[int, int]) -> None:
    """i on the first bucket, then s (du): every status of a setting, and the count."""
    assert snap_compare(make_app(), terminal_size=size, press=["tab", "i", "wait:300", "s", "wait:300"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_versions_with_aws_version_ids(snap_compare, size: tuple[int, int]) -> None:
    """32-character VersionIds: whole at 120 columns, elided in the middle at 80; the ETag beside them."""
    assert snap_compare(make_app(aws_ids=True), terminal_size=size, press=["down", "v", "wait:300", "down"])
