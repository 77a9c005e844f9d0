"""Every refresh keeps the cursor on the same name, or on its neighbour when that name is gone; Backspace lands on
the folder we came from (as in Midnight Commander); a restore or an undelete shows the re-read row."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from textual.widgets import Button

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, settle
from tui.ui.dialogs import ConfirmDialog
from tui.ui.objects import VersionsScreen


def current(pane: Any) -> str:
    row = pane.current_row
    assert row is not None
    return str(row.name)


async def test_refresh_keeps_the_cursor_on_its_name_or_its_neighbour(s3_env: Any, tmp_path: Path) -> None:
    for name in ("a.txt", "c.txt", "e.txt", "g.txt"):
        (tmp_path / name).write_text(name)
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        await cursor_to(pilot, pane, "e.txt")
        await pilot.press("r")
        await settle(pilot)
        assert current(pane) == "e.txt"

        # new names above it: still on e.txt, a row further down
        (tmp_path / "b.txt").write_text("b")
        (tmp_path / "d.txt").write_text("d")
        await pilot.press("r")
        await settle(pilot)
        assert names(pane) == ["..", "a.txt", "b.txt", "c.txt", "d.txt", "e.txt", "g.txt"]
        assert current(pane) == "e.txt" and pane.table.cursor_row == 5

        # e.txt is gone: the row that took its place
        os.remove(tmp_path / "e.txt")
        await pane.reload()
        assert current(pane) == "g.txt"
        # the last one is gone: the one before it
        os.remove(tmp_path / "g.txt")
        await pane.reload()
        assert current(pane) == "d.txt"

        # the API the actions use: another name, or the top
        await pane.reload(keep="b.txt")
        assert current(pane) == "b.txt"
        (tmp_path / "sub").mkdir()
        await pane.reload(keep="sub")
        assert current(pane) == "sub"
        await pane.reload(keep=None)
        assert pane.table.cursor_row == 0

        # sorting and filtering keep it too
        await cursor_to(pilot, pane, "c.txt")
        await pilot.press("s")
        assert current(pane) == "c.txt"
        await pilot.press("s", "s")
        await pilot.press("slash", "t", "x", "t", "enter")
        assert current(pane) == "c.txt"
        await pilot.press("escape")
        assert current(pane) == "c.txt"


async def test_backspace_lands_on_the_folder_we_came_from(s3_env: Any, tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "inner.txt").write_text(name)
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        await cursor_to(pilot, pane, "beta/")
        await pilot.press("enter")
        await settle(pilot)
        assert names(pane) == ["..", "inner.txt"] and pane.table.cursor_row == 0  # a new folder: the top
        await pilot.press("backspace")
        await settle(pilot)
        assert names(pane)[1:] == ["alpha/", "beta/", "gamma/"]
        assert current(pane) == "beta"


async def test_delete_keeps_the_cursor_on_the_neighbour(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("curdel")
    for key in ("one.txt", "three.txt", "two.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        await cursor_to(pilot, pane, "three.txt")
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Button) and app.focused.id == "ok"
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert names(pane) == ["..", "one.txt", "two.txt"]
        assert current(pane) == "two.txt"


async def test_restore_shows_the_new_size_and_keeps_the_cursor(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("curver", versioned=True)
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    first = s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"x" * 1500)["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=b"y" * 30)
    s3.put_object(Bucket=bucket, Key="z.txt", Body=b"z")
    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        await cursor_to(pilot, pane, "doc.txt")
        assert cell_text(pane.table.get_row_at(pane.table.cursor_row)[1]).strip() == "30 B"
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        while screen.current is None or screen.current.version_id != first:
            await pilot.press("down")
        await pilot.press("r")
        await settle(pilot)
        assert errors(app) == []
        await pilot.press("escape", "r")
        await settle(pilot)
        assert current(pane) == "doc.txt"
        assert cell_text(pane.table.get_row_at(pane.table.cursor_row)[1]).strip() == "1.5K"


async def test_undelete_shows_the_file_instead_of_the_del_row(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("curundel", versioned=True)
    for key in ("a.txt", "gone.txt", "z.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"12345")
    marker = s3.delete_object(Bucket=bucket, Key="gone.txt")["VersionId"]
    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        await cursor_to(pilot, pane, "z.txt")
        await pilot.press("u")  # show deleted: the cursor stays on z.txt
        await settle(pilot)
        assert names(pane) == ["..", "a.txt", "gone.txt", "z.txt"] and current(pane) == "z.txt"
        await cursor_to(pilot, pane, "gone.txt")
        assert pane.current_row is not None and pane.current_row.kind == "deleted"
        s3.delete_object(Bucket=bucket, Key="gone.txt", VersionId=marker)  # undeleted (by anyone)
        await pilot.press("r")
        await settle(pilot)
        row = pane.current_row
        assert row is not None and row.name == "gone.txt" and row.kind == "file" and row.size == 5
        assert [r.kind for r in pane.rows].count("deleted") == 0
        assert "DEL" not in cell_text(pane.table.get_row_at(pane.table.cursor_row)[1])
