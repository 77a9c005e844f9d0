"""Object screens: the inspector (F3/i), the versions browser (v) and presigned links (p)."""

from __future__ import annotations

import stat as stat_mod
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import humanize
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Label, RadioButton, RadioSet, Static

from tui.errors import CloudpaneError, one_line
from tui.safety import display_text
from tui.storage.base import Entry, ObjectInfo, Store
from tui.ui.dialogs import ConfirmDialog, plain


def _stamp(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if when else "-"


def info_text(info: ObjectInfo, where: str) -> Text:
    """The inspector body. Every value from the server goes through display_text, as plain Text."""
    text = Text()

    def row(name: str, value: str) -> None:
        text.append(f"{name:<16}", style="bold")
        text.append(display_text(value) + "\n")

    row("Location", where)
    row("Size", f"{humanize.naturalsize(info.size, binary=True)} ({info.size:,} bytes)")
    row("Last modified", _stamp(info.last_modified))
    if info.mode is not None:
        row("Mode", stat_mod.filemode(info.mode))
        return text
    row("ETag", info.etag or "-")
    row("VersionId", info.version_id or "- (not versioned)")
    row("Storage class", info.storage_class or "STANDARD")
    row("Content type", info.content_type or "-")
    for name, value in sorted(info.checksums.items()):
        row(f"Checksum {name.upper()}", value)
    if info.metadata:
        text.append("\nUser metadata\n", style="bold underline")
        for name, value in sorted(info.metadata.items()):
            row(f"  {name}", value)
    else:
        row("User metadata", "-")
    return text


class InspectorScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f3,i,q", "close", "Close")]

    def __init__(self, store: Store, key: str, where: str) -> None:
        super().__init__(classes="dialog-screen")
        self.store, self.key, self.where = store, key, where

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Inspector", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(plain("loading…"), id="info")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, name="inspect", exit_on_error=False)
    async def load(self) -> None:
        try:
            info = await self.store.stat(self.key)
        except CloudpaneError as exc:
            self.query_one("#info", Static).update(plain(one_line(exc)))
            return
        self.query_one("#info", Static).update(info_text(info, self.where))

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class DownloadVersion(Message):
    """Ask the app to download one version of a key into the other pane."""

    def __init__(self, store: Store, key: str, entry: Entry) -> None:
        super().__init__()
        self.store, self.key, self.entry = store, key, entry


def elide_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle replaced by "…" (both ends of an id stay)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    head = width - 1 - tail
    return text[:head] + "…" + (text[-tail:] if tail else "")


#: the flag column ("latest") and the size column (or "DEL MARKER") of the versions table
FLAG_WIDTH = 6
SIZE_WIDTH = 10
#: the table's cells have one space of padding each side; a vertical scrollbar (when the rows do not fit) takes 2
CELL_PADDING = 2
SCROLLBAR = 2
#: the ETag keeps at least this much room beside a whole VersionId (else both are elided in the middle)
MIN_ETAG = 10


def version_widths(avail: int, vid_len: int, etag_len: int) -> tuple[int, int, int]:
    """(Modified, VersionId, ETag) widths for a table ``avail`` cells wide: dates shrink first (seconds go), the
    VersionId stays whole while the ETag keeps MIN_ETAG cells, then both are elided in the middle."""
    content = max(0, avail - FLAG_WIDTH - SIZE_WIDTH - 5 * CELL_PADDING)
    modified = 19 if content >= 19 + vid_len + etag_len else 16
    rest = max(0, content - modified)
    if rest >= vid_len + etag_len:
        return modified, vid_len, max(etag_len, rest - vid_len)
    if rest - vid_len >= MIN_ETAG:
        return modified, vid_len, rest - vid_len
    vid = max(8, rest * 3 // 5)
    return modified, vid, max(6, rest - vid)


class VersionsScreen(ModalScreen[None]):
    """Every version and delete marker of one key, newest first. Actions post back to the app.

    The VersionId shows whole where the terminal is wide enough (100 columns for a 36-character id) and is elided
    in its middle below; the ETag takes what is left, and the selected version's whole VersionId and ETag are in
    the line under the table."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "restore", "Restore as latest"),
        Binding("u", "undelete", "Undelete"),
        Binding("g,f5", "download", "Download to other pane"),
        Binding("d,f8", "delete", "Delete version"),
    ]

    DEFAULT_CSS = """
    VersionsScreen #versions-detail {
        height: auto;
        max-height: 3;
    }
    """

    def __init__(self, store: Store, key: str, where: str, *, can_download: bool) -> None:
        super().__init__(classes="dialog-screen")
        self.store, self.key, self.where = store, key, where
        self.entries: list[Entry] = []
        self.can_download = can_download
        #: the (Modified, VersionId, ETag) widths the table is laid out for
        self.widths: tuple[int, int, int] = (0, 0, 0)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide tall"):
            yield Label(Text("Versions of " + display_text(self.where)), classes="dialog-title")
            table: DataTable[Text] = DataTable(cursor_type="row", id="versions")
            yield table
            yield Static("", id="versions-detail")
            yield Static("", id="versions-status")
            yield Footer()

    def on_mount(self) -> None:
        self.load()

    def on_resize(self) -> None:
        self.call_after_refresh(self._render_table)

    def _render_table(self) -> None:
        """Lay the table out for its width and fill it from ``entries`` (the cursor stays on its row)."""
        table = self.query_one(DataTable)
        # room for a vertical scrollbar only when the rows do not fit
        scrollbar = SCROLLBAR if len(self.entries) >= table.size.height - 1 else 0
        avail = (table.size.width or self.size.width) - scrollbar
        vid_len = max((len(display_text(e.version_id or "null")) for e in self.entries), default=4)
        etag_len = max((len(display_text(e.etag or "")) for e in self.entries), default=4)
        widths = version_widths(avail, vid_len, max(4, etag_len))
        row = table.cursor_row
        table.clear(columns=True)
        modified, vid, etag = widths
        self.widths = widths
        table.add_column("", width=FLAG_WIDTH)
        table.add_column("Modified", width=modified)
        table.add_column("Size", width=SIZE_WIDTH)
        table.add_column("VersionId", width=vid)
        table.add_column("ETag", width=etag)
        for e in self.entries:
            when = e.last_modified.astimezone() if e.last_modified else None
            stamp = when.strftime("%Y-%m-%d %H:%M:%S" if modified >= 19 else "%Y-%m-%d %H:%M") if when else "-"
            size = (
                Text("DEL MARKER", style="bold red")
                if e.is_delete_marker
                else Text(humanize.naturalsize(e.size or 0, binary=True), justify="right")
            )
            table.add_row(
                Text("latest" if e.is_latest else "", style="bold green"),
                Text(stamp),
                size,
                Text(elide_middle(display_text(e.version_id or "null"), vid)),
                Text(elide_middle(display_text(e.etag or ""), etag), style="dim"),
            )
        if self.entries:
            table.move_cursor(row=min(max(row, 0), len(self.entries) - 1), animate=False)
        self._show_detail()

    def _show_detail(self) -> None:
        entry = self.current
        text = Text()
        if entry is not None:
            text.append("VersionId ", style="bold")
            text.append(display_text(entry.version_id or "null"))
            text.append("\nETag      ", style="bold")
            text.append(display_text(entry.etag or "-") if not entry.is_delete_marker else "- (a delete marker)")
        self.query_one("#versions-detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#versions")
    def _highlighted(self) -> None:
        self._show_detail()

    @work(exclusive=True, name="versions", exit_on_error=False)
    async def load(self) -> None:
        self.entries = []
        self._render_table()
        status = self.query_one("#versions-status", Static)
        status.update(plain("loading…"))
        try:
            async for page in self.store.list_versions(self.key, exact=True):
                self.entries.extend(page)
                self._render_table()
        except CloudpaneError as exc:
            status.update(plain(one_line(exc)))
            return
        self._render_table()
        markers = sum(1 for e in self.entries if e.is_delete_marker)
        status.update(
            plain(f"{len(self.entries) - markers} version(s)" + (f", {markers} delete marker(s)" if markers else ""))
        )

    @property
    def current(self) -> Entry | None:
        table = self.query_one(DataTable)
        if not self.entries or table.cursor_row >= len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def action_close(self) -> None:
        self.dismiss(None)

    def _notify_error(self, exc: CloudpaneError) -> None:
        self.app.notify(one_line(exc), severity="error", markup=False)

    @work(name="version restore", exit_on_error=False)
    async def action_restore(self) -> None:
        entry = self.current
        if entry is None or entry.is_delete_marker:
            self.app.notify("Pick a version (not a delete marker) to restore", markup=False)
            return
        try:
            result = await self.store.copy(self.key, self.key, src_version_id=entry.version_id)
        except CloudpaneError as exc:
            self._notify_error(exc)
            return
        self.app.notify(
            display_text(f"Restored version {entry.version_id} as the latest (new version {result.version_id})"),
            markup=False,
        )
        self.load()

    @work(name="version undelete", exit_on_error=False)
    async def action_undelete(self) -> None:
        marker = next((e for e in self.entries if e.is_latest and e.is_delete_marker), None)
        if marker is None:
            self.app.notify("The latest version is not a delete marker: nothing to undelete", markup=False)
            return
        try:
            await self.store.delete(self.key, version_id=marker.version_id)
        except CloudpaneError as exc:
            self._notify_error(exc)
            return
        self.app.notify("Undeleted: the delete marker is gone", markup=False)
        self.load()

    def action_download(self) -> None:
        entry = self.current
        if entry is None or entry.is_delete_marker:
            return
        if not self.can_download:
            self.app.notify("The other pane is not a folder to download into", markup=False)
            return
        self.app.post_message(DownloadVersion(self.store, self.key, entry))

    def action_delete(self) -> None:
        entry = self.current
        if entry is None:
            return
        body = Text()
        body.append("Permanently delete this version? It cannot be restored.\n\n")
        body.append(display_text(f"{self.where}\nVersionId {entry.version_id}"))

        def done(answer: str | None) -> None:
            if answer:
                self._delete_version(entry)

        self.app.push_screen(ConfirmDialog("Delete version", body, confirm="Delete", danger=True), done)

    @work(name="version delete", exit_on_error=False)
    async def _delete_version(self, entry: Entry) -> None:
        try:
            await self.store.delete(self.key, version_id=entry.version_id)
        except CloudpaneError as exc:
            self._notify_error(exc)
            return
        self.app.notify(display_text(f"Deleted version {entry.version_id}"), markup=False)
        self.load()


EXPIRIES: list[tuple[str, timedelta]] = [
    ("1 hour", timedelta(hours=1)),
    ("12 hours", timedelta(hours=12)),
    ("1 day", timedelta(days=1)),
    ("7 days (the most S3 allows)", timedelta(days=7)),
]


class PresignScreen(ModalScreen[None]):
    """Pick an expiry, get the link, copy it with OSC 52 (works over SSH)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]

    def __init__(self, store: Store, key: str, where: str, credentials_expire: datetime | None) -> None:
        super().__init__(classes="dialog-screen")
        self.store, self.key, self.where = store, key, where
        self.credentials_expire = credentials_expire
        self.url: str | None = None
        #: the expiries this store's links can have (``Features.max_presign``)
        self.expiries = [e for e in EXPIRIES if e[1] <= store.features.max_presign] or EXPIRIES[:1]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Text("Presigned link: " + display_text(self.where)), classes="dialog-title")
            with RadioSet(id="expiry"):
                for i, (label, _) in enumerate(self.expiries):
                    yield RadioButton(label, value=i == 0)
            yield Static("", id="url")
            yield Static("", id="warning", classes="error-line")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Make link", variant="primary", id="make", compact=True)
                yield Button("Copy (OSC 52)", id="copy", disabled=True, compact=True)
                yield Button("Close", id="close", compact=True)

    @on(Button.Pressed, "#make")
    def _make(self) -> None:
        index = max(self.query_one(RadioSet).pressed_index, 0)
        self.make(self.expiries[index][1])

    @work(exclusive=True, name="presign", exit_on_error=False)
    async def make(self, expires: timedelta) -> None:
        try:
            url = await self.store.presign(self.key, expires=expires)
        except CloudpaneError as exc:
            self.query_one("#url", Static).update(plain(one_line(exc)))
            return
        self.url = url
        self.query_one("#url", Static).update(plain(url))
        self.query_one("#copy", Button).disabled = False
        warning = ""
        if self.credentials_expire is not None and self.credentials_expire < datetime.now(UTC) + expires:
            warning = (
                f"Your credentials expire at {_stamp(self.credentials_expire)}, before the link does: "
                "the link stops working then."
            )
        self.query_one("#warning", Static).update(plain(warning))

    @on(Button.Pressed, "#copy")
    def _copy(self) -> None:
        if self.url:
            self.app.copy_to_clipboard(self.url)
            self.app.notify("Link copied to the clipboard (OSC 52)", markup=False)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
