"""One pane: a location header, a listing that fills as pages arrive, and a status line.

The pane owns its listing and marks; it never reaches into the other pane. It reports what the user did with
messages (``StorePane.Navigated``) and the screen coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

import humanize
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey
from textual.worker import get_current_worker

from tui.errors import CloudpaneError, one_line
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Entry
from tui.storage.hub import StoreHub

RowKind = Literal["up", "bucket", "dir", "file", "deleted"]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a pane. ``key`` is the store key (bucket name for buckets)."""

    kind: RowKind
    name: str
    key: str
    size: int | None = None
    modified: datetime | None = None
    storage_class: str | None = None

    @property
    def is_container(self) -> bool:
        return self.kind in ("up", "bucket", "dir")


_UNITS = (("TiB", "T"), ("GiB", "G"), ("MiB", "M"), ("KiB", "K"))


def compact_size(n: int) -> str:
    """At most 7 characters: ``512 B``, ``46.0K``, ``2.0M``, ``1023.9G``."""
    if n < 1024:
        return f"{n} B"
    text = humanize.naturalsize(n, binary=True, format="%.1f")
    for long, short in _UNITS:
        text = text.replace(f" {long}", short)
    return text


def _size(row: Row) -> Text:
    if row.kind == "up":
        text = Text("UP-DIR", style="dim")
    elif row.kind in ("dir", "bucket"):
        text = Text("DIR" if row.kind == "dir" else "BUCKET", style="dim")
    elif row.kind == "deleted":
        text = Text("DEL", style="red")
    else:
        text = Text(compact_size(row.size or 0))
    text.justify = "right"
    return text


def mc_time(when: datetime | None, now: datetime | None = None) -> str:
    """Midnight Commander's 12-column date: ``Nov 21 23:59`` within half a year, else ``Nov 21  2025``."""
    if when is None:
        return ""
    local = when.astimezone()
    now = now or datetime.now(local.tzinfo)
    if abs((now - local).days) < 183:
        return local.strftime("%b %d %H:%M")
    return local.strftime("%b %d  %Y")


def _when(when: datetime | None) -> Text:
    return Text(" " + mc_time(when))


def row_name(row: Row, marked: bool) -> Text:
    """The name cell: untrusted text, escaped, never parsed as markup."""
    label = display_text(row.name + ("/" if row.kind == "dir" else ""))
    text = Text(("* " if marked else "  ") + label)
    if marked:
        text.stylize("bold yellow")
    elif row.kind == "deleted":
        text.stylize("red strike")
    elif row.is_container:
        text.stylize("bold")
    return text


class StorePane(Vertical):
    """A listing of one location. Keys: Enter open, Backspace up, Space/Insert mark, / filter, . hidden."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "up", "Up", show=False),
        Binding("space,insert", "mark", "Mark", show=False),
        Binding("slash", "filter", "Filter", show=False),
        Binding("full_stop", "toggle_hidden", "Hidden", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("s", "cycle_sort", "Sort", show=False),
        Binding("u", "toggle_deleted", "Deleted", show=False),
    ]

    location: reactive[Location | None] = reactive(None, init=False)
    show_hidden: reactive[bool] = reactive(False, init=False)
    filter_text: reactive[str] = reactive("", init=False)
    show_deleted: reactive[bool] = reactive(False, init=False)

    class Navigated(Message):
        """The pane now shows another location."""

        def __init__(self, pane: StorePane, location: Location) -> None:
            super().__init__()
            self.pane = pane
            self.location = location

        @property
        def control(self) -> StorePane:
            return self.pane

    class ListingFailed(Message):
        def __init__(self, pane: StorePane, error: str) -> None:
            super().__init__()
            self.pane = pane
            self.error = error

        @property
        def control(self) -> StorePane:
            return self.pane

    SORTS: ClassVar[list[str]] = ["name", "size", "modified"]

    def __init__(self, hub: StoreHub, location: Location, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.hub = hub
        self._start = location
        self.rows: list[Row] = []
        self.marks: set[str] = set()
        self.sort_by = "name"
        self.loading_done = False
        #: shown before the location in the header: a view of the past, a temporary folder (set_title_mark)
        self.title_mark = ""

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-header")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=False, cell_padding=0, classes="pane-table")
        table.add_column("  Name", key="name")
        table.add_column(Text("Size", justify="right"), key="size", width=7)
        table.add_column(" Modified", key="modified", width=13)
        yield table
        yield Input(placeholder="filter (Esc to clear)", classes="pane-filter")
        yield Static("", classes="pane-status")

    def on_mount(self) -> None:
        self.query_one(".pane-filter", Input).display = False
        self.location = self._start

    def on_resize(self) -> None:
        self._fit_columns()

    def _fit_columns(self) -> None:
        """The name column takes what size and date leave (DataTable columns do not flex by themselves)."""
        table = self.table
        fixed = sum(c.get_render_width(table) for k, c in table.columns.items() if k.value != "name")
        name = table.columns.get(ColumnKey("name"))
        if name is None:
            return
        name.auto_width = False
        name.width = max(8, self.size.width - fixed - 3)
        table.refresh()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(DataTable)

    # -- state ---------------------------------------------------------------------------------------------
    def watch_location(self, location: Location | None) -> None:
        if location is None:
            return
        self.marks.clear()
        self.filter_text = ""
        self._update_header()
        self.load()
        self.post_message(self.Navigated(self, location))

    def set_title_mark(self, mark: str) -> None:
        """A mark before the location in the header (``@ 2026-11-01 12:00Z``); "" for none."""
        self.title_mark = mark
        self._update_header()

    def _update_header(self) -> None:
        if self.location is None:
            return
        header = Text(no_wrap=True)
        if self.title_mark:  # first, so that a long location never hides it
            header.append(display_text(self.title_mark), style="bold reverse")
            header.append(" ")
        header.append(display_text(str(self.location)))
        static = self.query_one(".pane-header", Static)
        static.styles.text_wrap = "nowrap"  # one line: a mark's spaces must not push the location off it
        static.update(header)

    def watch_show_hidden(self) -> None:
        self._render_rows()

    def watch_filter_text(self) -> None:
        self._render_rows()

    @property
    def current_row(self) -> Row | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.rows if r.key == key), None)

    def selected_rows(self) -> list[Row]:
        """The marked rows, or the row under the cursor (never the ``..`` row)."""
        marked = [r for r in self.rows if r.key in self.marks]
        if marked:
            return marked
        row = self.current_row
        return [row] if row is not None and row.kind != "up" else []

    # -- listing -------------------------------------------------------------------------------------------
    @work(exclusive=True, group="listing", name="pane listing", exit_on_error=False)
    async def load(self) -> None:
        location = self.location
        if location is None:
            return
        worker = get_current_worker()
        self.rows = []
        self.loading_done = False
        self._render_rows(loading=True)
        parent = location.parent()
        if parent is not None:
            self.rows.append(Row("up", "..", "\x00up"))
        try:
            if location.is_bucket_list:
                remote = await self.hub.remote(location)
                buckets = await remote.list_buckets()
                self.rows.extend(Row("bucket", b.name, b.name, modified=b.created) for b in buckets)
                self._render_rows(loading=False)
            else:
                store = await self.hub.store(location)
                prefix = self.hub.key(location)
                if prefix and not prefix.endswith("/"):
                    prefix += "/"
                async for page in store.list(prefix):
                    if worker.is_cancelled:
                        return
                    self.rows.extend(self._row(e, prefix) for e in page if e.key != prefix)
                    self._render_rows(loading=True)
                if self.show_deleted and store.features.versions:
                    async for page in store.list_versions(prefix):
                        if worker.is_cancelled:
                            return
                        self.rows.extend(
                            Row("deleted", e.key[len(prefix) :], e.key, modified=e.last_modified)
                            for e in page
                            if e.is_latest and e.is_delete_marker and "/" not in e.key[len(prefix) :]
                        )
        except CloudpaneError as exc:
            self.post_message(self.ListingFailed(self, one_line(exc)))
        finally:
            if not worker.is_cancelled:
                self.loading_done = True
                self._render_rows(loading=False)

    @staticmethod
    def _row(entry: Entry, prefix: str) -> Row:
        name = entry.key[len(prefix) :]
        if entry.is_prefix:
            return Row("dir", name.rstrip("/"), entry.key)
        return Row("file", name, entry.key, entry.size, entry.last_modified, entry.storage_class)

    def _visible(self) -> list[Row]:
        rows = [r for r in self.rows if r.kind == "up" or self.show_hidden or not r.name.startswith(".")]
        if self.filter_text:
            needle = self.filter_text.lower()
            rows = [r for r in rows if r.kind == "up" or needle in r.name.lower()]
        up = [r for r in rows if r.kind == "up"]
        rest = [r for r in rows if r.kind != "up"]
        if self.sort_by == "size":
            rest.sort(key=lambda r: (not r.is_container, -(r.size or 0), r.name))
        elif self.sort_by == "modified":
            rest.sort(key=lambda r: (not r.is_container, -(r.modified.timestamp() if r.modified else 0), r.name))
        else:
            rest.sort(key=lambda r: (not r.is_container, r.name))
        return up + rest

    def _render_rows(self, *, loading: bool | None = None) -> None:
        if not self.is_mounted:
            return
        table = self.table
        current = self.current_row
        table.clear()
        visible = self._visible()
        for row in visible:
            table.add_row(row_name(row, row.key in self.marks), _size(row), _when(row.modified), key=row.key)
        if current is not None and any(r.key == current.key for r in visible):
            table.move_cursor(row=table.get_row_index(current.key), animate=False, scroll=True)
        self._update_status(loading if loading is not None else not self.loading_done)

    def _update_status(self, loading: bool) -> None:
        files = [r for r in self.rows if r.kind == "file"]
        marked = [r for r in self.rows if r.key in self.marks]
        parts = [f"{len(self.rows) - (1 if self.rows and self.rows[0].kind == 'up' else 0)} items"]
        if files:
            parts.append(compact_size(sum(r.size or 0 for r in files)))
        if marked:
            size = sum(r.size or 0 for r in marked)
            parts.append(f"{len(marked)} marked ({compact_size(size)})")
        if self.filter_text:
            parts.append(f"filter: {display_text(self.filter_text)}")
        if self.show_deleted:
            parts.append("showing deleted")
        if not self.show_hidden:
            hidden = sum(1 for r in self.rows if r.kind != "up" and r.name.startswith("."))
            if hidden:
                parts.append(f"{hidden} hidden")
        if self.sort_by != "name":
            parts.append(f"by {self.sort_by}")
        if loading:
            parts.append("loading…")
        self.query_one(".pane-status", Static).update(Text(" · ".join(parts), no_wrap=True))

    # -- navigation ----------------------------------------------------------------------------------------
    @on(DataTable.RowSelected)
    def _on_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_current()

    def open_current(self) -> None:
        row = self.current_row
        if row is None or self.location is None:
            return
        if row.kind == "up":
            self.action_up()
        elif row.kind == "bucket":
            self.location = self.location.child(row.name)
        elif row.kind == "dir":
            self.location = self.location.child(row.name + "/")

    def action_up(self) -> None:
        if self.location is None:
            return
        parent = self.location.parent()
        if parent is None:
            return
        came_from = self.location.name
        self.location = parent
        self._focus_after_load = came_from

    def action_mark(self) -> None:
        row = self.current_row
        if row is None or row.kind == "up":
            return
        if row.key in self.marks:
            self.marks.discard(row.key)
        else:
            self.marks.add(row.key)
        table = self.table
        index = table.cursor_row
        self._render_rows()
        table.move_cursor(row=min(index + 1, table.row_count - 1), animate=False)

    def action_filter(self) -> None:
        box = self.query_one(".pane-filter", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    @on(Input.Changed, ".pane-filter")
    def _on_filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value

    @on(Input.Submitted, ".pane-filter")
    def _on_filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one(".pane-filter", Input)
        box.display = bool(self.filter_text)
        self.table.focus()

    def clear_filter(self) -> None:
        box = self.query_one(".pane-filter", Input)
        box.value = ""
        box.display = False
        self.filter_text = ""
        self.table.focus()

    def action_toggle_deleted(self) -> None:
        """Show (or hide) objects of this prefix whose latest version is a delete marker, to undelete them."""
        self.show_deleted = not self.show_deleted
        self.load()

    def action_toggle_hidden(self) -> None:
        self.show_hidden = not self.show_hidden

    def action_refresh(self) -> None:
        self.load()

    def action_cycle_sort(self) -> None:
        self.sort_by = self.SORTS[(self.SORTS.index(self.sort_by) + 1) % len(self.SORTS)]
        self._render_rows()

    async def reload(self) -> None:
        """Reload and wait for the listing (tests use this)."""
        worker = self.load()
        await worker.wait()
