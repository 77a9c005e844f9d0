"""Transfers that outlive the app: the quit question, the resume offer at start, and the journal rows behind them.

Quitting with transfers running asks first (:class:`QuitDialog`): keep them resumable (running multipart uploads
stay on the server and in the resume journal, the app exits), cancel them (every upload this session started is
aborted on the server and forgotten), or stay. At the next start, the journal's unfinished uploads are offered
(:class:`ResumeDialog`): resume re-submits the same copy (the same source path to the same key), which the engine
matches with its journal row and continues from the parts already on the server; discard aborts them on the server
and forgets them.

The journal stores names, never credentials: a row's remote name, bucket and key become a :class:`Location` again
(:func:`destination`), its source path a local one (:func:`source`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import ClassVar, Literal

import humanize
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui.errors import CloudpaneError, NotFoundError, one_line
from tui.locations import Location, parse_location
from tui.safety import display_text
from tui.storage.base import LocalSource, ResumableStore, Store
from tui.storage.hub import StoreHub
from tui.transfer.journal import Journal, JournalUpload, owner_alive, owner_token
from tui.transfer.plan import Item

QuitChoice = Literal["keep", "cancel"]
ResumeChoice = Literal["resume", "discard"]

#: rows listed by name in the resume offer; the rest are counted
MAX_LISTED = 6


# -- journal rows <-> locations ------------------------------------------------------------------------------
def destination(upload: JournalUpload) -> Location:
    """Where a journaled upload goes, as the Location the TUI would have copied to (the remote by its name): an
    S3 bucket or an Azure container (the row's ``kind``); the default remote of each kind (``s3``, ``az``) goes
    by its scheme."""
    default = "az" if upload.kind == "azure" else "s3"
    remote = None if upload.remote == default else upload.remote
    return Location(upload.kind, remote=remote, bucket=upload.bucket, key=upload.key)


def source(upload: JournalUpload) -> Location:
    """The local file a journaled upload reads."""
    return parse_location(upload.source)


def describe(upload: JournalUpload, journal: Journal | None = None) -> str:
    """``/src/file -> s3://bucket/key  12.0 MiB of 40.0 MiB`` (escaped)."""
    done = sum(size for _, size in journal.parts(upload).values()) if journal is not None else None
    where = str(destination(upload))
    line = f"{display_text(upload.source)} → {display_text(where)}"
    if done is not None:
        line += f"  {humanize.naturalsize(done, binary=True)} of {humanize.naturalsize(upload.size, binary=True)}"
    return line


def rows_for(journal: Journal, item: Item) -> list[JournalUpload]:
    """The journal rows of one transfer item: the same remote, bucket, key and source file (any size or mtime)."""
    if not isinstance(item.dst, ResumableStore) or not isinstance(item.src, LocalSource):
        return []  # only uploads of local files to stores with resumable uploads are journaled
    try:
        path = os.path.abspath(item.src.read_path(item.src_key))
    except CloudpaneError:
        return []
    remote, _endpoint, bucket = item.dst.journal_target()
    me = owner_token()
    return [
        u
        for u in journal.unfinished()
        if u.remote == remote
        and u.bucket == bucket
        and u.key == item.dst_key
        and u.source == path
        and (not u.owner or u.owner == me or not owner_alive(u.owner))  # never another live process's upload
    ]


async def abort_upload(store: Store, upload: JournalUpload, journal: Journal) -> None:
    """Abort ``upload`` on its server (nothing left there), then forget it. An upload the server no longer knows
    is forgotten too; any other failure raises and leaves the row, so that it can be tried again."""
    if not isinstance(store, ResumableStore):
        raise CloudpaneError(f"{display_text(str(destination(upload)))}: no resumable uploads there, cannot abort")
    if upload.upload_id is not None:
        with contextlib.suppress(NotFoundError):  # gone already (completed, aborted, or the bucket was removed)
            await store.resume_writer(upload.key, upload.upload_id).abort()
    journal.finish(upload)


async def discard(hub: StoreHub, journal: Journal, uploads: list[JournalUpload]) -> list[tuple[str, str]]:
    """Abort and forget each upload; returns (what, why) for those that could not be aborted."""
    failed: list[tuple[str, str]] = []
    for u in uploads:
        try:
            await abort_upload(await hub.store(destination(u)), u, journal)
        except CloudpaneError as exc:
            failed.append((describe(u), one_line(exc)))
    return failed


UploadState = Literal["pending", "gone", "completed"]


async def server_state(hub: StoreHub, upload: JournalUpload) -> UploadState:
    """What the server says of a journaled upload: still pending; gone (aborted elsewhere, or a server that forgot
    it: resuming starts again); or completed (the quit came while the upload was completing: the object is there,
    as large as the source, written after the upload started). A server that cannot be asked counts as pending."""
    try:
        store = await hub.store(destination(upload))
        if not isinstance(store, ResumableStore) or upload.upload_id is None:
            return "pending"
        try:
            await store.list_parts(upload.key, upload.upload_id)
            return "pending"
        except NotFoundError:
            pass
        try:
            info = await store.stat(upload.key)
        except NotFoundError:
            return "gone"
    except CloudpaneError:
        return "pending"
    written_after = info.last_modified is None or info.last_modified >= upload.created.replace(microsecond=0)
    return "completed" if info.size == upload.size and written_after else "gone"


# -- dialogs -------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Busy:
    """What is in flight when the user asks to quit."""

    running: int
    queued: int

    @property
    def any(self) -> bool:
        return bool(self.running or self.queued)


class QuitDialog(ModalScreen[QuitChoice | None]):
    """Quit with transfers in flight: keep them resumable, cancel them, or stay (Escape).

    | key      | choice                        |
    |----------|-------------------------------|
    | k        | keep them resumable and quit  |
    | s / Esc  | stay                          |

    Cancelling aborts uploads, so it has no single key: Tab or the arrows to its button, then Enter (or a click).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,s", "stay", "Stay"),
        Binding("k", "keep", "Keep and quit", show=False),
        Binding("left,up", "app.focus_previous", show=False),
        Binding("right,down", "app.focus_next", show=False),
    ]

    def __init__(self, busy: Busy) -> None:
        super().__init__(classes="dialog-screen")
        self.busy = busy

    def body(self) -> Text:
        b = self.busy
        text = Text()
        if not b.any:
            text.append("The transfers have finished meanwhile: quitting now loses nothing.", style="bold")
            return text
        text.append(f"{b.running} transfer(s) running", style="bold")
        text.append(f", {b.queued} queued.\n\n" if b.queued else ".\n\n")
        text.append("Keep", style="bold")
        text.append(": uploads in progress stay on the server and are offered again at the next start; ")
        text.append("downloads and queued items stop.\n")
        text.append("Cancel", style="bold")
        text.append(": every transfer stops and its upload is aborted: nothing is left on the server.")
        return text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="quit-dialog"):
            yield Label("Quit with transfers running?", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.body(), id="quit-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep them resumable and quit", variant="primary", id="keep", compact=True)
                yield Button("Cancel them and quit", variant="error", id="cancel", compact=True)
                yield Button("Stay", id="stay", compact=True)

    def on_mount(self) -> None:
        self.query_one("#stay", Button).focus()

    def update_busy(self, busy: Busy) -> None:
        """The counts, refreshed while the dialog is open."""
        self.busy = busy
        self.query_one("#quit-body", Static).update(self.body())

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss("keep")

    @on(Button.Pressed, "#cancel")
    def action_cancel_all(self) -> None:
        self.dismiss("cancel")

    @on(Button.Pressed, "#stay")
    def action_stay(self) -> None:
        self.dismiss(None)


class ResumeDialog(ModalScreen[ResumeChoice | None]):
    """At start: the journal's unfinished uploads; resume them, later (Escape), or discard them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,l", "later", "Later"),
        Binding("r", "resume", "Resume", show=False),
        Binding("left,up", "app.focus_previous", show=False),
        Binding("right,down", "app.focus_next", show=False),
    ]

    def __init__(self, lines: list[str]) -> None:
        super().__init__(classes="dialog-screen")
        self.lines = lines

    def compose(self) -> ComposeResult:
        n = len(self.lines)
        text = Text()
        for line in self.lines[:MAX_LISTED]:
            text.append(line + "\n")
        if n > MAX_LISTED:
            text.append(f"… and {n - MAX_LISTED} more\n")
        text.append("\nResume", style="bold")
        text.append(" sends only the parts the server does not hold yet. ")
        text.append("Discard", style="bold")
        text.append(" aborts them on the server. ")
        text.append("Later", style="bold")
        text.append(" asks again at the next start (`cloudpane transfers` lists them).")
        with Vertical(classes="dialog wide", id="resume-dialog"):
            yield Label(f"{n} unfinished upload(s)", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(text, id="resume-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Resume", variant="primary", id="resume", compact=True)
                yield Button("Later", id="later", compact=True)
                yield Button("Discard", variant="error", id="discard", compact=True)

    def on_mount(self) -> None:
        self.query_one("#resume", Button).focus()

    @on(Button.Pressed, "#resume")
    def action_resume(self) -> None:
        self.dismiss("resume")

    @on(Button.Pressed, "#discard")
    def action_discard(self) -> None:
        self.dismiss("discard")

    @on(Button.Pressed, "#later")
    def action_later(self) -> None:
        self.dismiss(None)
