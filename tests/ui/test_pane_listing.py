"""Big prefixes: rows are inserted as pages arrive (never cleared and re-added), found by key, and End/Home/PgUp/PgDn
move as in Midnight Commander. Behaviour only: the timings are in bench/tui_listing.py."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.widgets import Static

from tests.ui.conftest import SIZE, cell_text, make_app, names, settle
from tui.locations import parse_location
from tui.ui.listing import Listing
from tui.ui.rows import UP_KEY, Row

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rows() -> list[Row]:
    rows = [Row("file", f"f{i:03d}.txt", f"p/f{i:03d}.txt", i * 10, T0 + timedelta(hours=i)) for i in range(300)]
    rows += [Row("dir", f"d{i:02d}", f"p/d{i:02d}/") for i in range(30)]
    rows += [Row("file", f".h{i}", f"p/.h{i}", 1, T0) for i in range(5)]
    return rows


def _expected(rows: list[Row], key: Any) -> list[str]:
    return [r.name for r in sorted(rows, key=key)]


def test_pages_in_any_order_end_up_sorted_folders_first() -> None:
    rows = _rows()
    random.Random(3).shuffle(rows)
    listing = Listing()
    listing.reset(Row("up", "..", UP_KEY))
    listing.show_hidden = True
    for start in range(0, len(rows), 37):  # pages of 37, folders arriving late and in between
        assert listing.add(rows[start : start + 37]) == len(rows[start : start + 37])
    shown = [r.name for r in listing]
    assert shown[0] == ".."
    assert shown[1:] == _expected(rows, lambda r: (not r.is_container, r.name))
    assert shown[1:31] == [f"d{i:02d}" for i in range(30)]
    # a key listed twice (a page repeated) is not added twice
    assert listing.add(rows[:10]) == 0 and len(listing) == len(rows) + 1


def test_lookup_by_key_filter_sort_and_neighbours() -> None:
    rows = _rows()
    listing = Listing()
    listing.reset(Row("up", "..", UP_KEY))
    listing.add(rows)
    assert len(listing) == 1 + 330  # the 5 hidden ones are not shown
    totals = listing.totals()
    assert (totals.items, totals.hidden, totals.files) == (335, 5, 305)
    assert totals.bytes == sum(i * 10 for i in range(300)) + 5
    for row in rows:
        index = listing.index_of(row.key)
        if row.name.startswith("."):
            assert index is None
        else:
            assert index is not None and listing[index] is row
        assert listing.get(row.key) is row
    assert listing.index_of(UP_KEY) == 0 and listing.index_of("p/nope") is None

    listing.set_view(filter_text="F01")  # case-insensitive, ".." stays
    assert [r.name for r in listing] == [".."] + [f"f{i:03d}.txt" for i in range(10, 20)]
    gone = listing.get("p/f025.txt")
    assert gone is not None and listing.index_of(gone.key) is None
    assert listing[listing.neighbour_of(gone) or 0].name == "f019.txt"  # after the last one: the last one
    before = listing.get("p/f005.txt")
    assert before is not None and listing[listing.neighbour_of(before) or 0].name == "f010.txt"
    listing.set_view(filter_text="", show_hidden=True)
    assert len(listing) == 336

    listing.set_sort("size")
    shown = [r.name for r in listing][1:]
    assert shown == _expected(rows, lambda r: (not r.is_container, -(r.size or 0), r.name))
    assert shown[30] == "f299.txt"
    listing.set_sort("modified")
    assert [r.name for r in listing][31] == "f299.txt"
    # rows added while sorted by size land in size order
    listing.set_sort("size")
    big = Row("file", "zz-big", "p/zz-big", 10**9, T0)
    listing.add([big])
    assert listing.index_of(big.key) == 31


def test_mark_by_pattern() -> None:
    listing = Listing()
    listing.reset(Row("up", "..", UP_KEY))
    listing.add(
        [
            Row("file", "a.txt", "a.txt", 100),
            Row("file", "B.TXT", "B.TXT", 200),
            Row("file", "c.jpg", "c.jpg", 300),
            Row("dir", "docs.txt", "docs.txt/"),
            Row("file", ".h.txt", ".h.txt", 5),
        ]
    )
    assert listing.mark_pattern("*.txt", "mark") == 2  # a.txt and the folder docs.txt; hidden rows are not shown
    assert listing.marks == {"a.txt", "docs.txt/"}
    assert listing.mark_pattern("*.txt", "mark", case_sensitive=False) == 1  # B.TXT
    assert listing.totals().marked == 3 and listing.totals().marked_bytes == 300
    assert listing.mark_pattern("*", "unmark", files_only=True) == 2
    assert listing.marks == {"docs.txt/"}
    assert listing.mark_pattern("*", "invert") == 4
    assert listing.marks == {"a.txt", "B.TXT", "c.jpg"}
    assert [r.name for r in listing.marked_rows()] == ["B.TXT", "a.txt", "c.jpg"]
    assert listing.mark_pattern("[ab]*", "invert") == 1 and "a.txt" not in listing.marks


async def test_rows_appear_as_pages_arrive(s3_env: Any, tmp_path: Path) -> None:
    """2,500 files are three pages: the table grows page by page, is never emptied and refilled, and the status
    line counts them while the listing runs."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(2500):
        (folder / f"n{i:04d}.txt").write_bytes(b"x" * (i % 7))
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.left
        seen: list[tuple[int, bool, str]] = []
        status = pane.query_one(".pane-status", Static)

        def grew(*_: object) -> None:
            seen.append((pane.table.row_count, pane.loading_done, cell_text(status.content)))

        app.watch(pane.table, "virtual_size", grew, init=False)
        pane.location = parse_location(f"{folder}/")
        await settle(pilot)
        counts = [n for n, _, _ in seen]
        assert counts == sorted(counts), f"the table shrank while listing: {counts}"
        during = [(n, text) for n, done, text in seen if not done and n > 1]
        assert {n for n, _ in during} >= {1001, 2001}, seen  # ".." + each page, before the listing was done
        assert any("1000 items" in text and "loading" in text for _, text in during), during
        assert pane.table.row_count == 2501 and names(pane)[1] == "n0000.txt"
        assert "2500 items" in cell_text(status.content) and "loading" not in cell_text(status.content)


async def test_home_end_page_keys_on_a_long_listing(s3_env: Any, tmp_path: Path) -> None:
    for i in range(1500):
        (tmp_path / f"k{i:04d}").write_bytes(b"")
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane, table = app.left, app.left.table
        # found by key, at the row the table shows
        for name in ("k0000", "k0777", "k1499"):
            index = pane.listing.index_of(str(tmp_path / name).lstrip("/"))
            assert index is not None and names(pane)[index] == name
        await pilot.press("end")
        assert pane.current_row is not None and pane.current_row.name == "k1499"
        assert table.cursor_row == 1500 and table.scroll_y == table.max_scroll_y > 0
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_y == 0
        page = table.page_rows
        assert page > 5
        # Midnight Commander's pages: the cursor and the first row shown both move by a page
        await pilot.press("down", "down", "pagedown")
        assert table.cursor_row == 2 + page and table.scroll_y == page
        await pilot.press("pagedown")
        assert table.cursor_row == 2 + 2 * page and table.scroll_y == 2 * page
        await pilot.press("pageup")
        assert table.cursor_row == 2 + page and table.scroll_y == page
        await pilot.press("pageup", "pageup")
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("end", "pagedown")
        assert table.cursor_row == 1500
        await pilot.press("pageup")
        assert table.cursor_row == 1500 - page
        # the rows on screen are the ones the scroll position says
        line = "".join(s.text for s in table.render_line(1))
        assert names(pane)[round(table.scroll_y)] in line
