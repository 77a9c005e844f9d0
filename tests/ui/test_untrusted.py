"""Keys are untrusted: Textual markup and terminal escapes in a key are shown literally, never acted on."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, settle
from tui.ui.objects import InspectorScreen
from tui.ui.table import PaneTable

MARKUP_KEY = "[@click=app.quit]x"
ESC_KEY = "\x1b[31mred"
STYLE_KEY = "[b]y[@click=bell]z"


def screen_line(table: PaneTable, y: int) -> str:
    """The characters of one rendered line of the table (what the terminal would get, minus styles)."""
    return "".join(segment.text for segment in table.render_line(y))


async def test_markup_and_escapes_in_keys_are_shown_literally(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any
) -> None:
    bucket = new_bucket("evil")
    for key in (MARKUP_KEY, ESC_KEY, STYLE_KEY):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        shown = names(pane)
        assert sorted(shown[1:]) == sorted([MARKUP_KEY, "\\x1b[31mred", STYLE_KEY])
        table = pane.table
        rendered = [screen_line(table, y) for y in range(table.row_count + 1)]  # + the header line
        for text in (MARKUP_KEY, "\\x1b[31mred", STYLE_KEY):
            assert any(text in line for line in rendered), (text, rendered)
        assert not any("\x1b" in line for line in rendered)
        for i in range(table.row_count):
            assert "\x1b" not in cell_text(table.get_row_at(i)[0])

        # click and hover the markup row: it is a plain row, the app keeps running
        index = shown.index(MARKUP_KEY)
        assert await pilot.hover(PaneTable, offset=(4, 1 + index))
        assert await pilot.click(PaneTable, offset=(4, 1 + index))
        assert await pilot.click(PaneTable, offset=(4, 1 + index))  # a second click on the cursor row selects it
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert pane.current_row is not None and pane.current_row.key == MARKUP_KEY
        assert pane.location is not None and pane.location.bucket == bucket and pane.location.key == ""

        # and the escape row: Inspect shows the key escaped, keys still work
        await cursor_to(pilot, pane, "\\x1b[31mred")
        assert pane.current_row is not None and pane.current_row.key == ESC_KEY
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)
        info = cell_text(app.screen.query_one("#info", Static).content)
        assert "\\x1b[31mred" in info and "\x1b" not in info
        await pilot.press("escape")
        assert app.is_running and errors(app) == []
