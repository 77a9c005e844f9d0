"""Marks as in Midnight Commander: + marks, - unmarks, * inverts by a shell pattern (a dialog, default ``*``);
Insert and Space mark the row under the cursor; the status line shows how many are marked and their size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Checkbox, Input, Static

from tests.ui.conftest import SIZE, cell_text, cursor_to, make_app, settle
from tui.ui.marks import MarkDialog


def marked(pane: Any) -> list[str]:
    return sorted(r.name for r in pane.rows if r.key in pane.marks)


def status(pane: Any) -> str:
    return cell_text(pane.query_one(".pane-status", Static).content)


async def pattern(pilot: Any, key: str, text: str | None = None, *, files_only: bool = False) -> None:
    """Open the pattern dialog with ``key``, type ``text`` over the default, and apply it."""
    app = pilot.app
    await pilot.press(key)
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, MarkDialog)
    box = dialog.query_one("#pattern", Input)
    assert box.value == "*" and app.focused is box
    if text is not None:
        box.value = text
    if files_only:
        dialog.query_one("#files-only", Checkbox).value = True
    await pilot.press("enter")
    await pilot.pause()
    assert not isinstance(app.screen, MarkDialog)


async def test_mark_unmark_invert_by_pattern(s3_env: Any, tmp_path: Path) -> None:
    for name, size in (("a.jpg", 1024), ("b.jpg", 2048), ("c.png", 100), ("notes.txt", 10)):
        (tmp_path / name).write_bytes(b"x" * size)
    (tmp_path / "shots.jpg").mkdir()
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left

        await pattern(pilot, "plus", "*.jpg")
        assert marked(pane) == ["a.jpg", "b.jpg", "shots.jpg"]  # folders match too, as in MC
        assert "3 marked (3.0K)" in status(pane)

        await pattern(pilot, "minus", "b*")
        assert marked(pane) == ["a.jpg", "shots.jpg"]

        await pattern(pilot, "asterisk")  # the default * inverts every row
        assert marked(pane) == ["b.jpg", "c.png", "notes.txt"]
        assert "3 marked (2.1K)" in status(pane)

        await pattern(pilot, "minus")  # - with * unmarks everything
        assert marked(pane) == [] and "marked" not in status(pane)

        await pattern(pilot, "plus", files_only=True)
        assert marked(pane) == ["a.jpg", "b.jpg", "c.png", "notes.txt"]

        # Escape cancels: nothing changes
        await pilot.press("minus")
        assert isinstance(app.screen, MarkDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert marked(pane) == ["a.jpg", "b.jpg", "c.png", "notes.txt"]

        # the marks are what F5 acts on
        assert [r.name for r in pane.selected_rows()] == ["a.jpg", "b.jpg", "c.png", "notes.txt"]


async def test_insert_and_space_mark_and_move_down(s3_env: Any, tmp_path: Path) -> None:
    for name in ("one", "two", "three"):
        (tmp_path / name).write_bytes(b"x" * 600)
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        await cursor_to(pilot, pane, "one")
        await pilot.press("insert")
        assert marked(pane) == ["one"] and pane.current_row is not None and pane.current_row.name == "three"
        await pilot.press("space")
        assert marked(pane) == ["one", "three"]
        assert "2 marked (1.2K)" in status(pane)
        # the mark shows in the name column
        cells = [cell_text(pane.table.get_row_at(i)[0]) for i in range(pane.table.row_count)]
        assert cells[1:] == ["* one", "* three", "  two"]
        await cursor_to(pilot, pane, "one")
        await pilot.press("space")
        assert marked(pane) == ["three"] and "1 marked (600 B)" in status(pane)
        # the .. row is never marked
        await pilot.press("home", "insert")
        assert marked(pane) == ["three"]
