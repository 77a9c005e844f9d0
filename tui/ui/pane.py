"""One pane: a location header, a listing that fills as pages arrive, and a status line.

The pane owns its listing and marks; it never reaches into the other pane. It reports what the user did with
messages (``StorePane.Navigated``) and the screen coordinates.

Big prefixes: each page is inserted into a :class:`~tui.ui.listing.Listing` in order and the
:class:`~tui.ui.table.PaneTable` draws only the rows on screen, so a page costs what its own rows cost, whatever
is listed already, and keys answer while the listing runs.

Refreshing: :meth:`StorePane.load` (and ``await`` :meth:`StorePane.reload`) list the location again and keep the
cursor on the same name (``keep=`` another name, a row, or ``None`` for the top); when that name is gone the cursor
goes to the row that took its place. Every action that changed a pane calls one of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Static
from textual.worker import Worker, get_current_worker

from tui.errors import CloudpaneError, one_line
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Entry
from tui.storage.hub import StoreHub
from tui.ui.listing import Listing, MarkOp, SortBy
from tui.ui.marks import MarkDialog, MarkPattern
from tui.ui.rows import UP_KEY, Row, RowKind, compact_size, mc_time, row_name
from tui.ui.table import PaneTable

__all__ = ["CURRENT", "Keep", "Row", "RowKind", "StorePane", "compact_size", "mc_time", "row_name"]


class _Current:
    def __repr__(self) -> str:
        return "CURRENT"


#: ``keep=CURRENT``: keep the cursor on the row it is on now
CURRENT: Final = _Current()

#: where the cursor goes after a listing: CURRENT, a name in the listed location, a row, or None (the top)
Keep = _Current | str | Row | None


@dataclass(frozen=True, slots=True)
class _Target:
    """The row the cursor should land on: found by one of ``keys``, else where ``probe`` would sort."""

    keys: tuple[str, ...]
    probe: Row


class StorePane(Vertical):
    """A listing of one location. Keys: Enter open, Backspace up, Space/Insert mark, + - * mark by pattern,
    / filter, . hidden, s sort, r refresh, u deleted."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("backspace", "up", "Up", show=False),
        Binding("space,insert", "mark", "Mark", show=False),
        Binding("plus", "mark_pattern('mark')", "Select", show=False),
        Binding("minus", "mark_pattern('unmark')", "Unselect", show=False),
        Binding("asterisk", "mark_pattern('invert')", "Invert", show=False),
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

    SORTS: ClassVar[list[SortBy]] = ["name", "size", "modified"]

    DEFAULT_CSS = """
    StorePane .pane-status {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, hub: StoreHub, location: Location, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="pane")
        self.hub = hub
        self._start = location
        self.listing = Listing()
        self.loading_done = False
        #: shown before the location in the header: a view of the past, a temporary folder (set_title_mark)
        self.title_mark = ""
        #: why the last listing failed (one line, shown in the status line until the next listing)
        self.error: str | None = None
        self._prefix = ""
        self._navigate_keep: Keep = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-header")
        yield PaneTable(self.listing, classes="pane-table")
        yield Input(placeholder="filter (Esc to clear)", classes="pane-filter")
        yield Static("", classes="pane-status")

    def on_mount(self) -> None:
        self.query_one(".pane-filter", Input).display = False
        self.location = self._start

    @property
    def table(self) -> PaneTable:
        return self.query_one(PaneTable)

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def rows(self) -> list[Row]:
        """Every row of the listing (hidden and filtered-out ones too), ``..`` first."""
        return self.listing.rows()

    @property
    def marks(self) -> set[str]:
        """The keys of the marked rows (the app clears it after acting on them)."""
        return self.listing.marks

    @property
    def sort_by(self) -> SortBy:
        return self.listing.sort_by

    def watch_location(self, location: Location | None) -> None:
        if location is None:
            return
        self.marks.clear()
        self.filter_text = ""
        self._update_header()
        keep, self._navigate_keep = self._navigate_keep, None
        self.load(keep=keep, fresh=True)
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

    def watch_show_hidden(self, show: bool) -> None:
        self._change_view(lambda: self.listing.set_view(show_hidden=show))

    def watch_filter_text(self, text: str) -> None:
        self._change_view(lambda: self.listing.set_view(filter_text=text))

    def _change_view(self, change: Callable[[], None]) -> None:
        """Refilter or resort, keeping the cursor on its row (or where it would be)."""
        current = self.current_row if self.is_mounted else None
        change()
        if not self.is_mounted:
            return
        self.table.rows_changed(None if current is None else self.listing.neighbour_of(current))
        self._update_status()

    @property
    def current_row(self) -> Row | None:
        table = self.table
        if not len(self.listing):
            return None
        return self.listing[table.cursor_row]

    def selected_rows(self) -> list[Row]:
        """The marked rows, or the row under the cursor (never the ``..`` row)."""
        marked = self.listing.marked_rows()
        if marked:
            return marked
        row = self.current_row
        return [row] if row is not None and row.kind != "up" else []

    def _visible(self) -> list[Row]:
        return self.listing.visible()

    # -- listing -------------------------------------------------------------------------------------------
    def load(self, keep: Keep = CURRENT, *, fresh: bool = False) -> Worker[None]:
        """List the location again. ``keep``: where the cursor goes (default: the row it is on); ``fresh``: empty
        the pane at once (a new location) instead of when the first page arrives (a refresh: no flicker)."""
        if keep is CURRENT:
            keep = self.current_row if self.is_mounted else None
        self.loading_done = False
        return self._list(keep, fresh)

    async def reload(self, keep: Keep = CURRENT) -> None:
        """Reload and wait for the listing."""
        await self.load(keep).wait()

    def _target(self, keep: Keep, prefix: str, bucket_list: bool) -> _Target | None:
        if isinstance(keep, _Current):
            return None
        if keep is None:
            return _Target((UP_KEY,), Row("up", "..", UP_KEY))
        if isinstance(keep, Row):
            return _Target((keep.key,), keep)
        name = keep.rstrip("/")
        if bucket_list:
            return _Target((name,), Row("bucket", name, name))
        return _Target((prefix + name, prefix + name + "/"), Row("file", name, prefix + name))

    @work(exclusive=True, group="listing", name="pane listing", exit_on_error=False)
    async def _list(self, keep: Keep, fresh: bool) -> None:
        location = self.location
        if location is None:
            return
        worker = get_current_worker()
        listing, table = self.listing, self.table
        up = Row("up", "..", UP_KEY) if location.parent() is not None else None
        self.loading_done = False
        self.error = None
        moves = table.user_moves
        emptied = False

        def empty() -> None:
            nonlocal emptied
            if not emptied:
                listing.reset(up)
                emptied = True

        if fresh:
            empty()
            table.rows_changed(0)
        self._update_status()
        prefix = ""
        if not location.is_bucket_list:
            prefix = self.hub.key(location)
            if prefix and not prefix.endswith("/"):
                prefix += "/"
        self._prefix = prefix
        target = self._target(keep, prefix, location.is_bucket_list)

        def place() -> int | None:
            """The kept row, once it is listed (unless the user moved since the listing started)."""
            nonlocal target
            if target is not None and table.user_moves == moves:
                for key in target.keys:
                    index = listing.index_of(key)
                    if index is not None:
                        target = None
                        return index
            return None

        def add(rows: list[Row]) -> None:
            """A page: inserted in order; the cursor stays on its row (rows may arrive above it)."""
            current = self.current_row
            empty()
            listing.add(rows)
            index = place()
            if index is None and current is not None:
                index = listing.index_of(current.key)
            table.rows_changed(index)
            self._update_status()

        try:
            if location.is_bucket_list:
                remote = await self.hub.remote(location)
                buckets = await remote.list_buckets()
                add([Row("bucket", b.name, b.name, modified=b.created) for b in buckets])
            else:
                store = await self.hub.store(location)
                async for page in store.list(prefix):
                    if worker.is_cancelled:
                        return
                    add([self._row(e, prefix) for e in page if e.key != prefix])
                if self.show_deleted and store.features.versions:
                    async for page in store.list_versions(prefix):
                        if worker.is_cancelled:
                            return
                        add(
                            [
                                Row("deleted", e.key[len(prefix) :], e.key, modified=e.last_modified)
                                for e in page
                                if e.is_latest and e.is_delete_marker and "/" not in e.key[len(prefix) :]
                            ]
                        )
        except CloudpaneError as exc:
            self.error = one_line(exc)
            self.post_message(self.ListingFailed(self, self.error))
        finally:
            if not worker.is_cancelled:
                empty()
                self.loading_done = True
                index = place()
                if index is None and target is not None and table.user_moves == moves:
                    index = listing.neighbour_of(target.probe)  # the name is gone: the row in its place
                table.rows_changed(index)
                self._update_status()

    _CLASSES: ClassVar[dict[str, str]] = {}

    @staticmethod
    def _row(entry: Entry, prefix: str) -> Row:
        name = entry.key[len(prefix) :]
        if entry.is_prefix:
            return Row("dir", name.rstrip("/"), entry.key)
        storage_class = entry.storage_class
        if storage_class is not None:  # one string per class, not one per row
            storage_class = StorePane._CLASSES.setdefault(storage_class, storage_class)
        return Row("file", name, entry.key, entry.size, entry.last_modified, storage_class)

    def _update_status(self) -> None:
        if not self.is_mounted:
            return
        totals = self.listing.totals()
        status = Text(end="")
        if self.error is not None:
            status.append("✗ " + display_text(self.error), style="bold red")
            if totals.items:
                status.append(f" · {totals.items} items listed before")
            self.query_one(".pane-status", Static).update(status)
            return
        parts = [f"{totals.items} items"]
        if not self.loading_done:
            parts.append("loading…")  # second: a narrow status line cuts the end
        if totals.files:
            parts.append(compact_size(totals.bytes))
        if totals.marked:
            parts.append(f"{totals.marked} marked ({compact_size(totals.marked_bytes)})")
        if self.filter_text:
            parts.append(f"filter: {display_text(self.filter_text)}")
        if self.show_deleted:
            parts.append("showing deleted")
        if not self.show_hidden and totals.hidden:
            parts.append(f"{totals.hidden} hidden")
        if self.sort_by != "name":
            parts.append(f"by {self.sort_by}")
        status.append(" · ".join(parts))
        self.query_one(".pane-status", Static).update(status)

    # -- navigation ----------------------------------------------------------------------------------------
    @on(PaneTable.RowSelected)
    def _on_row_selected(self, event: PaneTable.RowSelected) -> None:
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
        """One level up, the cursor on the folder (or bucket) we came from, as in Midnight Commander."""
        if self.location is None:
            return
        parent = self.location.parent()
        if parent is None:
            return
        self._navigate_keep = self.location.name or None
        self.location = parent

    # -- marks ---------------------------------------------------------------------------------------------
    def action_mark(self) -> None:
        row = self.current_row
        if row is None or row.kind == "up":
            return
        self.listing.toggle_mark(row)
        table = self.table
        table.action_cursor_down()
        table.refresh()
        self._update_status()

    def action_mark_pattern(self, op: MarkOp) -> None:
        """+ marks, - unmarks, * inverts the marks of the visible rows whose name matches a shell pattern."""

        def chosen(choice: MarkPattern | None) -> None:
            if choice is not None:
                self.mark_pattern(choice)

        self.app.push_screen(MarkDialog(op), chosen)

    def mark_pattern(self, choice: MarkPattern) -> int:
        changed = self.listing.mark_pattern(
            choice.pattern, choice.op, files_only=choice.files_only, case_sensitive=choice.case_sensitive
        )
        self.table.refresh()
        self._update_status()
        return changed

    # -- filter, hidden, sort, deleted ---------------------------------------------------------------------
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
        sort_by = self.SORTS[(self.SORTS.index(self.sort_by) + 1) % len(self.SORTS)]
        self._change_view(lambda: self.listing.set_sort(sort_by))
