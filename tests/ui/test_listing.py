"""What a pane lists: hidden files (.), the filter (/), and a location that cannot be listed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, Static

from tests.ui.conftest import SIZE, cell_text, errors, make_app, names, settle


async def test_hidden_files_and_filter(s3_env: Any, tmp_path: Path) -> None:
    for name in (".hidden", "alpha.txt", "beta.txt", "alphabet.md"):
        (tmp_path / name).write_text(name)
    (tmp_path / ".config").mkdir()

    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        status = pane.query_one(".pane-status", Static)
        assert names(pane) == ["..", "alpha.txt", "alphabet.md", "beta.txt"]
        assert "2 hidden" in cell_text(status.content)

        await pilot.press("full_stop")
        assert names(pane) == ["..", ".config/", ".hidden", "alpha.txt", "alphabet.md", "beta.txt"]
        assert "hidden" not in cell_text(status.content)
        await pilot.press("full_stop")
        assert names(pane) == ["..", "alpha.txt", "alphabet.md", "beta.txt"]

        # / opens the filter box; every key narrows the listing (case-insensitive), ".." stays
        await pilot.press("slash")
        box = pane.query_one(".pane-filter", Input)
        assert box.display and app.focused is box
        await pilot.press("A", "l", "p")
        assert names(pane) == ["..", "alpha.txt", "alphabet.md"]
        await pilot.press("h", "a", "b")
        assert names(pane) == ["..", "alphabet.md"]
        assert "filter: Alphab" in cell_text(status.content)
        await pilot.press("enter")  # back to the table, the filter stays
        assert app.focused is pane.table
        assert names(pane) == ["..", "alphabet.md"]
        # hidden files obey the filter too
        await pilot.press("full_stop")
        assert names(pane) == ["..", "alphabet.md"]
        await pilot.press("escape")  # clears the filter
        assert not box.display and box.value == ""
        assert names(pane) == ["..", ".config/", ".hidden", "alpha.txt", "alphabet.md", "beta.txt"]
        # the other pane was never affected
        assert names(app.right) == ["..", "alpha.txt", "alphabet.md", "beta.txt"]


async def test_missing_bucket_is_a_notification_not_a_crash(s3_env: Any, new_bucket: Any, tmp_path: Path) -> None:
    missing = new_bucket("nosuchbucket", create=False)
    app = make_app(tmp_path, f"s3://{missing}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running and app.return_code is None
        failures = errors(app)
        assert len(failures) == 1, failures
        _, title, message = failures[0]
        assert title == "Listing failed"
        assert missing in message
        assert "\n" not in message and "Traceback" not in message
        assert names(app.right) == [".."]
        assert "loading" not in cell_text(app.right.query_one(".pane-status", Static).content)

        # the app stays usable: Backspace in that pane goes up to the bucket list
        await pilot.press("tab", "backspace")
        await settle(pilot)
        assert app.right.location is not None and app.right.location.is_bucket_list
        assert missing not in names(app.right)
        assert len(errors(app)) == 1


async def test_a_failed_listing_says_why_in_the_status_line(s3_env: Any, new_bucket: Any, tmp_path: Path) -> None:
    missing = new_bucket("gonebucket", create=False)
    app = make_app(tmp_path, f"s3://{missing}/")
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        pane = app.right
        status = cell_text(pane.query_one(".pane-status", Static).content)
        assert status.startswith("✗ ") and missing in status, status
        assert "items" not in status and "loading" not in status and "\n" not in status
        assert pane.error is not None and missing in pane.error
        # it stays (the toast goes away) until the next listing: r lists again and fails again
        await pilot.press("tab", "r")
        await settle(pilot)
        assert missing in cell_text(pane.query_one(".pane-status", Static).content)
        # the next listing that works clears it
        await pilot.press("backspace")
        await settle(pilot)
        status = cell_text(pane.query_one(".pane-status", Static).content)
        assert pane.error is None and "✗" not in status and "items" in status
