"""80x24 and narrow panes: the Name column takes the width that is left and ends with "…" when cut; the date, then
the size, shrink first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from tests.ui.conftest import make_app, settle
from tui.ui.rows import NAME_MIN, Columns, fit_columns
from tui.ui.table import PaneTable

LONG = "Café am Strand und noch viel mehr dazu.txt"
WIDE = "日本語のファイル名がとても長い場合のテスト.txt"


def line(table: PaneTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


def test_columns_give_way_in_order() -> None:
    assert fit_columns(58) == Columns(38, 7, 13)  # 120 columns: everything
    assert fit_columns(40) == Columns(20, 7, 13)
    assert fit_columns(38) == Columns(23, 7, 8)  # 80 columns: the date without its time first
    assert fit_columns(30) == Columns(23, 7, 0)  # then no date
    assert fit_columns(26) == Columns(21, 5, 0)  # then a shorter size
    assert fit_columns(12).name == 7  # never less than what is left
    for width in range(27, 120):
        assert fit_columns(width).name >= NAME_MIN


@pytest.mark.parametrize(("size", "name_width", "with_time"), [((80, 24), 23, False), ((120, 36), 38, True)])
async def test_long_names_end_with_an_ellipsis(
    s3_env: Any, tmp_path: Path, size: tuple[int, int], name_width: int, with_time: bool
) -> None:
    (tmp_path / LONG).write_bytes(b"x" * 1234)
    (tmp_path / WIDE).write_bytes(b"x" * 5)
    (tmp_path / "short.txt").write_bytes(b"x")
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.left.table
        width = table.scrollable_content_region.width
        assert table.columns().name == name_width
        header = line(table, 0)
        assert header.startswith("  Name") and ("Modified" in header) == with_time and "Size" in header
        rows = {line(table, y).strip()[:6]: line(table, y) for y in range(1, table.row_count + 1)}
        long = next(text for text in rows.values() if "Café" in text)
        # the name cell is cut to its column and ends with the ellipsis; the size and date are whole after it
        assert long[:name_width] == "  " + LONG[: name_width - 3] + "…"
        assert long[name_width:].split()[0] == "1.2K"
        assert (":" in long[name_width:]) == with_time  # the time of day only when there is room
        wide = next(text for text in rows.values() if "日本" in text)
        assert cell_len(wide) == width and "…" in wide
        short = next(text for text in rows.values() if "short.txt" in text)
        assert "…" not in short and short.rstrip().endswith(short.split()[-1])
        for y in range(table.row_count + 1):
            assert cell_len(line(table, y)) == width
