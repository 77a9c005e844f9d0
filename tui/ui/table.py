"""The pane's table: a line-API widget that draws only the visible rows of a :class:`~tui.ui.listing.Listing`.

Why not Textual's ``DataTable``: it keeps three rendered cells, a ``Row`` and a ``RowKey`` per row and measures
every cell as rows arrive; filtering or sorting means clearing it and adding every row again. Measured on
100,000 rows (``bench/tui_listing.py``, ``bench/results/tui-listing.md``) that is seconds per filter and several
KiB per row. This widget draws the ~30 rows on screen straight from the listing: adding a page, filtering or
sorting costs what the listing costs, and a row costs only its :class:`~tui.ui.rows.Row`.

The API is the part of ``DataTable`` the app and tests use: ``row_count``, ``cursor_row``, ``cursor_coordinate``
(a reactive), ``move_cursor``, ``get_row_at``, ``render_line`` (the header is line 0), and a ``RowSelected``
message (Enter, or a click on the cursor row). Keys move as in Midnight Commander: Up/Down, PgUp/PgDn by a page
(the cursor keeps its place on screen), Home/End to the first and last row.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.ui.listing import Listing
from tui.ui.rows import Columns, date_cell, fit_columns, header_cells, row_name, size_cell


class PaneTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    PaneTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        &:focus {
            background-tint: $foreground 5%;
            & > .pane-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .pane-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .pane-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"pane-table--header", "pane-table--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor_up", "Cursor up", show=False),
        Binding("down", "cursor_down", "Cursor down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "first", "First", show=False),
        Binding("end,ctrl+end", "last", "Last", show=False),
    ]

    cursor_coordinate: reactive[Coordinate] = reactive(Coordinate(0, 0), init=False)

    class RowSelected(Message):
        """Enter on a row, or a click on the cursor row."""

        def __init__(self, table: PaneTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> PaneTable:
            return self.table

    def __init__(self, listing: Listing, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.listing = listing
        #: moves the user made (keys, clicks); a reload keeps its cursor only while this does not change
        self.user_moves = 0
        self._styles: tuple[Style, Style, Style] | None = None

    # -- the DataTable-like API ----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.listing)

    @property
    def cursor_row(self) -> int:
        return self.cursor_coordinate.row

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of a visible row, unclipped: name (with its mark), size, date."""
        row = self.listing[index]
        return [row_name(row, row.key in self.listing.marks), size_cell(row, 7), date_cell(row, 13)]

    def move_cursor(self, *, row: int | None = None, column: int | None = None, animate: bool = False,
                    scroll: bool = True) -> None:  # fmt: skip
        if row is not None:
            self.cursor_coordinate = Coordinate(row, 0)
        if scroll:
            self.scroll_to_cursor()

    def rows_changed(self, cursor: int | None = None) -> None:
        """The listing changed (rows added, filtered, sorted): resize the scroll range, put the cursor on row
        ``cursor`` (default: keep its index, within the rows) and redraw."""
        self.virtual_size = Size(self.size.width, len(self.listing) + 1)
        if cursor is not None and cursor != self.cursor_row:
            self.move_cursor(row=cursor)  # and into view
        else:  # where it is (within the rows), the view left where the user scrolled it
            self.cursor_coordinate = self.validate_cursor_coordinate(self.cursor_coordinate)
        self.refresh()

    # -- cursor --------------------------------------------------------------------------------------------
    def validate_cursor_coordinate(self, value: Coordinate) -> Coordinate:
        n = len(self.listing)
        return Coordinate(max(0, min(value.row, n - 1)) if n else 0, 0)

    def watch_cursor_coordinate(self) -> None:
        self.scroll_to_cursor()
        self.refresh()

    @property
    def page_rows(self) -> int:
        """Rows on screen (the header takes a line)."""
        return max(1, self.scrollable_content_region.height - 1)

    def scroll_to_cursor(self) -> None:
        if not self.is_mounted or not self.size.height:
            return
        row, top, page = self.cursor_row, round(self.scroll_y), self.page_rows
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + page:
            self.scroll_to(y=row - page + 1, animate=False)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.listing) + 1)
        self.scroll_to_cursor()

    def _moved(self, row: int, *, top: int | None = None) -> None:
        self.user_moves += 1
        if top is not None:
            self.scroll_to(y=max(0, top), animate=False)
        self.move_cursor(row=row)

    def action_cursor_up(self) -> None:
        self._moved(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._moved(self.cursor_row + 1)

    def action_page_down(self) -> None:
        """Midnight Commander's next page: the cursor and the first row shown both move a page down."""
        page = self.page_rows
        self._moved(min(self.cursor_row + page, self.row_count - 1), top=round(self.scroll_y) + page)

    def action_page_up(self) -> None:
        page = self.page_rows
        self._moved(max(self.cursor_row - page, 0), top=round(self.scroll_y) - page)

    def action_first(self) -> None:
        self._moved(0, top=0)

    def action_last(self) -> None:
        self._moved(self.row_count - 1, top=self.row_count - self.page_rows)

    def action_select_cursor(self) -> None:
        if self.row_count:
            self.post_message(self.RowSelected(self, self.cursor_row))

    async def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= self.row_count:
            return
        if index == self.cursor_row:
            self.action_select_cursor()
        else:
            self._moved(index)

    # -- drawing -------------------------------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        self._styles = (
            self.rich_style,
            self.get_component_rich_style("pane-table--header"),
            self.get_component_rich_style("pane-table--cursor"),
        )
        return super().render_lines(crop)

    def columns(self) -> Columns:
        return fit_columns(self.scrollable_content_region.width)

    def render_line(self, y: int) -> Strip:
        base, header, cursor = self._styles or (self.rich_style, Style(bold=True), Style(reverse=True))
        width = self.scrollable_content_region.width
        cols = fit_columns(width)
        if y == 0:
            cells = header_cells(cols)
            cells[0].truncate(cols.name, overflow="ellipsis", pad=True)
            return self._strip(cells, base + header, width)
        index = round(self.scroll_y) + y - 1
        listing = self.listing
        if index >= len(listing):
            return Strip.blank(width, base)
        row = listing[index]
        name = row_name(row, row.key in listing.marks)
        name.truncate(cols.name, overflow="ellipsis", pad=True)
        cells = [name, size_cell(row, cols.size)]
        if cols.date:
            cells.append(date_cell(row, cols.date))
        style = base + cursor if index == self.cursor_row else base
        return self._strip(cells, style, width)

    def _strip(self, cells: list[Text], style: Style, width: int) -> Strip:
        line = Text(style=style, no_wrap=True, end="")
        for cell in cells:
            line.append_text(cell)
        # Text.render leaves unstyled text without a style: the row's style goes under every segment
        segments = list(Segment.apply_style(line.render(self.app.console, end=""), style))
        return Strip(segments).adjust_cell_length(width, style)
