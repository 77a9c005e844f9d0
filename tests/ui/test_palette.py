"""The command palette (Ctrl+P) lists every pane action, and choosing one runs it."""

from __future__ import annotations

from tests.snapshots.memory import MemoryHub, sample_buckets
from tui.locations import Location
from tui.ui.app import PALETTE, CloudpaneApp
from tui.ui.dialogs import HelpScreen
from tui.ui.transfers import TransfersScreen


async def test_palette_offers_every_action_and_runs_it() -> None:
    app = CloudpaneApp(
        Location("s3", remote="mem", bucket="photos"), Location("s3", remote="mem"), hub=MemoryHub(sample_buckets())
    )
    async with app.run_test(size=(100, 30)) as pilot:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {title for title, _, _ in PALETTE} <= titles
        for action in {a for _, _, a in PALETTE}:
            assert callable(getattr(app, f"action_{action}", None)), action
        for query, screen in (("Transfers", TransfersScreen), ("Help", HelpScreen)):
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*query)
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause(0.3)
            assert isinstance(app.screen, screen), (query, app.screen)
            await pilot.press("escape")
            await pilot.pause()
