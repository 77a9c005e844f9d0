"""Snapshots of time travel (a pane as it was: its title mark) and of the URL upload dialog, at 80x24 and 120x36.

In-memory data with fixed dates (tests/snapshots/memory.py: three versions per key, a day apart). Update after a
deliberate UI change with `pytest tests/snapshots --snapshot-update`, then look at the pictures.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.pilot import Pilot

from tests.snapshots.memory import WHEN
from tests.snapshots.test_snapshots import SIZES, make_app
from tui.ui.timetravel import enter


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_as_of_pane(snap_compare, size: tuple[int, int]) -> None:
    app = make_app()

    async def travel(pilot: Pilot[int]) -> None:
        await pilot.app.workers.wait_for_complete()  # the present's listing is done
        enter(app.left, app.hub, WHEN - timedelta(days=1))
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()

    assert snap_compare(app, terminal_size=size, run_before=travel, press=["down"])


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x36"])
def test_url_dialog(snap_compare, size: tuple[int, int]) -> None:
    url = "https://example.com/files/report%202025.pdf"
    assert snap_compare(make_app(), terminal_size=size, press=["U", "wait:200", *url, "wait:100"])
