"""The cloudpane TUI: two panes, Midnight Commander keys (each F-key with a letter alias), a transfer queue.

| key            | action                                  |
|----------------|-----------------------------------------|
| Tab            | switch pane                             |
| Enter / Bksp   | open / up                               |
| F3 / o         | view (the first 256 KiB, text or hex)   |
| i              | inspect                                 |
| F5 / c         | copy to the other pane (folders as such)|
| F6 / m         | move to the other pane                  |
| Shift+F6 / R   | rename in place                         |
| F7 / n         | new folder (bucket in a bucket list)    |
| F8 / d         | delete (asks first)                     |
| Space / Insert | mark                                    |
| v, p, t        | versions, presign, transfers            |
| @ / R          | time travel (a prefix as it was) / restore from there |
| U              | upload from an https URL into the bucket pane |
| F1 / ?         | help                                    |
| F10 / q        | quit (asks first while transfers run)   |

Uploads are journaled (``tui.transfer.journal``): quitting with transfers running asks whether to keep them
resumable or cancel them, and the next start offers to resume what was kept (``tui.ui.resume``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import ClassVar

import humanize
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui import __version__
from tui.config import Settings, load_settings
from tui.errors import CloudpaneError, ConflictError, LocationError, NotFoundError, StoreError, one_line
from tui.locations import Location, parse_location, remote_kinds
from tui.safety import display_text
from tui.storage.base import Store
from tui.storage.hub import StoreHub
from tui.transfer.copy import Bandwidth, CopyOptions
from tui.transfer.journal import Journal, JournalUpload, owner_alive, owner_token
from tui.transfer.plan import Conflict, Item, Outcome, copy_options, run_transfer
from tui.ui.copyplan import Batch, plan
from tui.ui.dialogs import (
    ConfirmDialog,
    HelpScreen,
    MessageDialog,
    NewBucket,
    NewBucketDialog,
    PromptDialog,
    TransferDialog,
    plain,
)
from tui.ui.objects import DownloadVersion, InspectorScreen, PresignScreen, VersionsScreen
from tui.ui.pane import Row, StorePane
from tui.ui.rename import RenameDialog, rename_local
from tui.ui.resume import (
    QuitChoice,
    QuitDialog,
    ResumeChoice,
    ResumeDialog,
    describe,
    destination,
    discard,
    server_state,
    source,
)
from tui.ui.timetravel import TimeTravel
from tui.ui.transfers import Transfer, TransferQueue, TransfersScreen
from tui.ui.urlupload import ask_url
from tui.ui.viewer import ViewerScreen, read_preview

CONFLICT_CHOICES: list[tuple[str, str]] = [
    ("newer", "Only if the source is newer"),
    ("overwrite", "Overwrite"),
    ("skip", "Skip existing"),
]


#: what the command palette offers: (title, help, action)
PALETTE: list[tuple[str, str, str]] = [
    ("Copy", "Copy the marked entries (or the one under the cursor) to the other pane  F5 / c", "copy"),
    ("Move", "Move the marked entries to the other pane  F6 / m", "move"),
    ("New folder or bucket", "In a bucket list: a new private bucket  F7 / n", "new"),
    ("Delete", "Delete the marked entries, after a confirmation  F8 / d", "delete"),
    ("View", "The object's first 256 KiB, as text or hex  F3 / o", "view"),
    ("Rename", "Rename in place (server-side copy, then delete, on S3)  Shift+F6 / R", "rename"),
    ("Inspect", "Size, dates, ETag, VersionId, metadata, checksums  i", "inspect"),
    ("Versions", "Versions and delete markers: restore, undelete, download, delete  v", "versions"),
    ("Presigned link", "A link to the object, up to 7 days, copied with OSC 52  p", "presign"),
    ("Transfers", "Progress, cancel and retry  t", "transfers"),
    ("Compare panes", "The backup plan from this pane to the other, then run it  =", "compare"),
    ("Time travel", "This prefix as it was at a time or age (read-only); @ again leaves  @", "time_travel"),
    ("Restore from the past", "In time travel: the marked entries become current again  R", "travel_restore"),
    ("Upload from a URL", "Stream an https:// URL into this bucket pane  U", "url_upload"),
    ("Switch pane", "Tab", "switch_pane"),
    ("Refresh", "List this pane again  r", "refresh_active"),
    ("Show hidden files", "Toggle files starting with a dot  .", "hidden_active"),
    ("Show deleted objects", "Objects of this prefix whose latest version is a delete marker  u", "deleted_active"),
    ("Help", "Every key  F1 / ?", "help"),
]

#: actions of the main screen, off while a dialog is open
PANE_ACTIONS = frozenset(
    {
        "switch_pane",
        "inspect",
        "view",
        "rename",
        "copy",
        "move",
        "new",
        "delete",
        "versions",
        "presign",
        "transfers",
        "clear_filter",
        "compare",
        "time_travel",
        "travel_restore",
        "url_upload",
    }
)


class CloudpaneApp(App[int]):
    TITLE = "cloudpane"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "switch_pane", "Switch", show=False, priority=True),
        Binding("f1,question_mark", "help", "Help", key_display="F1/?"),
        Binding("f3,o", "view", "View", key_display="F3/o"),
        Binding("i", "inspect", "Info", key_display="i", show=False),
        Binding("f5,c", "copy", "Copy", key_display="F5/c"),
        Binding("f6,m", "move", "Move", key_display="F6/m"),
        Binding("shift+f6,R", "rename", "Rename", key_display="⇧F6/R", show=False),
        Binding("f7,n", "new", "New", key_display="F7/n"),
        Binding("f8,d", "delete", "Del", key_display="F8/d"),
        Binding("v", "versions", "Versions", show=False),
        Binding("p", "presign", "Link", show=False),
        Binding("t", "transfers", "Xfer"),
        Binding("equals_sign", "compare", "Compare", show=False),
        Binding("at", "time_travel", "Past", show=False),
        Binding("U", "url_upload", "URL", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("f10,q", "quit", "Quit", key_display="F10/q"),
        # Textual's Ctrl+C only says how to quit; here it quits (asking first while transfers run)
        Binding("ctrl+c", "quit", "Quit", show=False),
    ]

    def __init__(
        self,
        left: Location,
        right: Location,
        *,
        settings: Settings | None = None,
        hub: StoreHub | None = None,
        journal_path: Path | None = None,
        bandwidth: Bandwidth | None = None,
    ) -> None:
        """``journal_path``: the resume journal (default: the one in the state directory, shared with the CLI).
        ``bandwidth``: one byte-rate limit for every transfer of this app (None: unlimited)."""
        super().__init__()
        self.settings = settings or (hub.settings if hub is not None else load_settings())
        if hub is None:  # the panes show a folder's rows page by page as they arrive
            self.settings = replace(self.settings, streamed_listings=True)
        self.hub = hub or StoreHub(self.settings)
        self.left_location, self.right_location = left, right
        self.bandwidth = bandwidth
        self.journal: Journal | None = None
        self._journal_error = ""
        try:
            self.journal = Journal(journal_path)
        except StoreError as exc:  # no journal: transfers still work, they are just not resumable
            self._journal_error = one_line(exc)
        self.queue = TransferQueue(self._copy_options)
        self.queue.journal = self.journal
        self._active_id = "left"
        self._quitting = False
        self.travel = TimeTravel(self, self)

    def _copy_options(self) -> CopyOptions:
        return copy_options(self.settings, journal=self.journal, bandwidth=self.bandwidth)

    def compose(self) -> ComposeResult:
        yield Static(Text(f" cloudpane {__version__}", style="bold"), id="title")
        with Horizontal(id="panes"):
            yield StorePane(self.hub, self.left_location, id="left")
            yield StorePane(self.hub, self.right_location, id="right")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        # transfers hash and read in worker threads: hand the GIL back to the event loop (keys, drawing) sooner
        sys.setswitchinterval(0.001)
        self.left.table.focus()
        self.left.add_class("active")
        if self._journal_error:
            self.notify(f"Uploads will not be resumable: {self._journal_error}", severity="warning", markup=False)
        self._offer_resume()

    async def on_unmount(self) -> None:
        # however the app ends: transfers stop (journaled uploads stay resumable) before the journal closes,
        # so that no part finishes into a closed journal
        await self._stop_transfers()
        if self.journal is not None:
            self.journal.close()
        await self.hub.close()

    # -- quitting and resuming -----------------------------------------------------------------------------
    def _transfer_workers(self) -> list[Worker[object]]:
        return [
            w for w in self.workers if w.group == "transfers" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]

    async def action_quit(self) -> None:
        """q, F10, Ctrl+C, Ctrl+Q and the palette's Quit: at once when nothing is in flight, else ask."""
        if self._quitting or isinstance(self.screen, QuitDialog):
            return
        busy = self.queue.busy()
        if not busy.any and not self._transfer_workers():
            self.exit()
            return
        dialog = QuitDialog(busy)

        def refresh_counts() -> None:
            if dialog.is_attached:
                dialog.update_busy(self.queue.busy())

        timer = self.set_interval(0.5, refresh_counts)

        def chosen(choice: QuitChoice | None) -> None:
            timer.stop()
            if choice is not None:
                self._quitting = True
                self.quit_with_transfers(choice)

        self.push_screen(dialog, chosen)

    async def _stop_transfers(self) -> list[Transfer]:
        """Cancel every transfer (workers first, so that nothing queued starts) and wait until all stopped.
        Returns the transfers that were running or queued."""
        active = [t for t in self.queue.items if t.state in ("running", "queued")]
        workers = self._transfer_workers()
        for worker in workers:
            worker.cancel()
        await self.queue.stop(active)
        for worker in workers:
            if worker.state is not WorkerState.PENDING:
                with suppress(Exception):
                    await worker.wait()
        return active

    @work(name="quit", group="quit", exit_on_error=False)
    async def quit_with_transfers(self, choice: QuitChoice) -> None:
        """Keep: stop the transfers, their uploads stay journaled on the server; cancel: stop them and abort every
        upload they had started. Then exit."""
        self.notify("Stopping transfers…", markup=False)
        stopped = await self._stop_transfers()
        if choice == "cancel":
            failed = await self.queue.discard(stopped)
            if failed:
                # nothing silent: the app stays so that the user sees what is left on the server
                self._quitting = False
                lines = "\n".join(f"{display_text(what)}: {why}" for what, why in failed)
                self.push_screen(
                    MessageDialog(
                        "Some uploads could not be aborted",
                        Text(lines + "\n\nThey stay in the journal: quit again, or `cloudpane transfers --abort`."),
                        error=True,
                    )
                )
                return
        self.exit()

    @work(name="resume offer", group="journal", exit_on_error=False)
    async def _offer_resume(self) -> None:
        """The journal's unfinished uploads, checked with their servers, offered once at start."""
        journal = self.journal
        if journal is None:
            return
        try:
            rows = journal.unfinished()
        except StoreError as exc:
            self.notify(one_line(exc), title="Transfer journal", severity="warning", markup=False)
            return
        uploads: list[JournalUpload] = []
        lines: list[str] = []
        me = owner_token()
        for u in rows:
            if u.upload_id is None or (u.owner and u.owner != me and owner_alive(u.owner)):
                # an intent is resolved by the next upload to its key; another live process's upload is not ours
                continue
            state = await server_state(self.hub, u)
            if state == "completed":
                journal.finish(u)  # it completed as the app quit; nothing to resume
                continue
            uploads.append(u)
            line = describe(u, journal)
            lines.append(line + ("  (no longer on the server: starts again)" if state == "gone" else ""))
        if not uploads:
            return

        def chosen(choice: ResumeChoice | None) -> None:
            if choice == "resume":
                self.resume_uploads(uploads)
            elif choice == "discard":
                self.discard_uploads(uploads)

        self.push_screen(ResumeDialog(lines), chosen)

    def resume_uploads(self, uploads: list[JournalUpload]) -> None:
        """Re-submit each kept upload as the same copy: the engine finds its journal row and sends what is missing."""
        for u in uploads:
            path = Path(u.source)
            if not path.is_file():
                self.notify(
                    display_text(f"{u.source}: the source file is gone; discard the upload with `cloudpane transfers"
                                 " --abort`"),
                    title="Cannot resume",
                    severity="error",
                    markup=False,
                )  # fmt: skip
                continue
            self.run_transfer([source(u)], destination(u), move=False, conflict="refuse-newer", recursive=False,
                              resumed=u)  # fmt: skip

    @work(name="discard uploads", group="journal", exit_on_error=False)
    async def discard_uploads(self, uploads: list[JournalUpload]) -> None:
        assert self.journal is not None
        failed = await discard(self.hub, self.journal, uploads)
        for what, why in failed:
            self.notify(f"{what}: {why}", title="Could not abort", severity="error", markup=False)
        done = len(uploads) - len(failed)
        self.notify(f"Discarded {done} unfinished upload(s)", markup=False)

    # -- panes ---------------------------------------------------------------------------------------------
    @property
    def left(self) -> StorePane:
        return self.query_one("#left", StorePane)

    @property
    def right(self) -> StorePane:
        return self.query_one("#right", StorePane)

    @property
    def active(self) -> StorePane:
        return self.left if self._active_id == "left" else self.right

    @property
    def other(self) -> StorePane:
        return self.right if self._active_id == "left" else self.left

    def on_descendant_focus(self, event: object) -> None:
        focused = self.focused
        for pane in (self.left, self.right):
            if focused is not None and pane in focused.ancestors_with_self:
                self._active_id = pane.id or "left"
                pane.add_class("active")
                (self.right if pane is self.left else self.left).remove_class("active")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette (Ctrl+P) lists every pane action beside Textual's own commands."""
        yield from super().get_system_commands(screen)
        for title, help_text, action in PALETTE:
            yield SystemCommand(title, help_text, partial(self.run_action, action))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The pane actions belong to the main screen: under a dialog, their keys go to the dialog."""
        return not (action in PANE_ACTIONS and len(self.screen_stack) > 1)

    async def run_action(
        self,
        action: str | tuple[str, str, tuple[object, ...]],
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """The app's actions on a pane that shows the past (time travel) are refused or changed there (F5 copies
        those versions out): one place, whatever key, alias or palette entry ran them."""
        if (default_namespace is None or default_namespace is self) and len(self.screen_stack) == 1:
            name = action[1] if isinstance(action, tuple) else action.split("(", 1)[0].rsplit(".", 1)[-1]
            if self.travel.intercept(name):
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def action_time_travel(self) -> None:
        self.travel.toggle()

    def action_travel_restore(self) -> None:
        self.travel.restore()

    @on(StorePane.Navigated)
    def _navigated(self, event: StorePane.Navigated) -> None:
        self.travel.navigated(event.pane)

    def action_url_upload(self) -> None:
        pane = self.active

        def start(src: Location, dst: Location) -> None:
            self.notify(display_text(f"Uploading {dst.name} from the URL: t shows the progress"), markup=False)
            self.run_transfer([src], dst, move=False, conflict="overwrite", recursive=False)

        ask_url(
            pane.location,
            [r.name for r in pane.rows if r.kind == "file"],
            self.push_screen,
            lambda line: self.notify(line, markup=False),
            start,
        )

    def action_switch_pane(self) -> None:
        self.other.table.focus()

    def action_refresh_active(self) -> None:
        self.active.action_refresh()

    def action_hidden_active(self) -> None:
        self.active.action_toggle_hidden()

    def action_deleted_active(self) -> None:
        self.active.action_toggle_deleted()

    def action_clear_filter(self) -> None:
        self.active.clear_filter()

    @on(StorePane.ListingFailed)
    def _listing_failed(self, event: StorePane.ListingFailed) -> None:
        self.notify(event.error, title="Listing failed", severity="error", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker is non-fatal: a failure becomes a notification with one line of cause."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(one_line(event.worker.error), title="Error", severity="error", markup=False)

    def _fatal_error(self) -> None:
        """Textual's crash screen prints local variables; credentials may live there. Print the trace without."""
        from rich.segment import Segments
        from rich.traceback import Traceback

        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    # -- helpers -------------------------------------------------------------------------------------------
    def _row_location(self, pane: StorePane, row: Row) -> Location:
        assert pane.location is not None
        if row.kind == "dir":
            return pane.location.child(row.name + "/")
        return pane.location.child(row.name)

    def _current_file(self, *, deleted_ok: bool = False) -> tuple[StorePane, Row] | None:
        pane = self.active
        row = pane.current_row
        if row is None or not (row.kind == "file" or (deleted_ok and row.kind == "deleted")):
            self.notify("Move the cursor to a file first", markup=False)
            return None
        return pane, row

    # -- copy / move ---------------------------------------------------------------------------------------
    def action_copy(self) -> None:
        self._transfer(move=False)

    def action_move(self) -> None:
        self._transfer(move=True)

    def _transfer(self, *, move: bool) -> None:
        src_pane, dst_pane = self.active, self.other
        rows = [r for r in src_pane.selected_rows() if r.kind in ("file", "dir")]
        dst = dst_pane.location
        if not rows:
            self.notify("Nothing to copy: mark entries or move the cursor to one", markup=False)
            return
        if dst is None or dst.is_bucket_list:
            self.notify("The other pane must show a folder or a bucket", severity="warning", markup=False)
            return
        files = [r for r in rows if r.kind == "file"]
        folders = [r for r in rows if r.kind == "dir"]
        size = sum(r.size or 0 for r in files)
        verb = "Move" if move else "Copy"
        body = Text()
        body.append(f"{verb} ", style="bold")
        what = []
        if files or not folders:
            what.append(f"{len(files)} file(s) ({humanize.naturalsize(size, binary=True)})")
        if folders:
            what.append(f"{len(folders)} folder(s) with everything in them")
        body.append(" and ".join(what))
        body.append("\n\nfrom  ")
        body.append(display_text(str(src_pane.location)))
        for r in rows[:5]:
            body.append("\n      " + display_text(r.name + ("/" if r.kind == "dir" else "")))
        if len(rows) > 5:
            body.append(f"\n      … and {len(rows) - 5} more")
        if move:
            body.append("\n\nEach source is deleted once its copy is complete.", style="yellow")
        prefilled = _typed(dst)
        dialog = TransferDialog(verb, body, prefilled, confirm=verb, choices=CONFLICT_CHOICES)
        src_files = [self._row_location(src_pane, r) for r in files]
        src_folders = [self._row_location(src_pane, r) for r in folders]

        def go(choice: str | None) -> None:
            if choice is None:
                return
            typed = dialog.destination
            try:
                target = dst if typed == prefilled else self._parse_destination(typed, dst)
                if target.kind == "https" or target.is_bucket_list:
                    raise LocationError(f"{typed}: copy to a folder or a bucket")
                batches = plan(src_files, src_folders, target)
            except CloudpaneError as exc:
                self.push_screen(MessageDialog(f"Cannot {verb.lower()}", plain(one_line(exc)), error=True))
                return
            conflict: Conflict = "overwrite" if choice == "overwrite" else "skip" if choice == "skip" else "newer"
            if src_pane.marks:
                src_pane.marks.clear()
                src_pane.action_refresh()  # the marks go at once, not when the transfer ends
            self.run_batches(batches, move=move, conflict=conflict)

        self.push_screen(dialog, go)

    def _parse_destination(self, typed: str, beside: Location) -> Location:
        """What was typed as a destination: a relative local path is taken from the other pane's folder."""
        cwd = beside.path if beside.kind == "local" else None
        return parse_location(typed, known_remotes=remote_kinds(self.settings), cwd=cwd)

    def run_transfer(
        self,
        sources: list[Location],
        dst: Location,
        *,
        move: bool,
        conflict: Conflict,
        recursive: bool = True,
        resumed: JournalUpload | None = None,
    ) -> Worker[None]:
        """The engine's ``cp``/``mv`` of ``sources`` into ``dst`` (a folder's *contents*), in the background."""
        return self.run_batches([Batch(sources, dst, recursive)], move=move, conflict=conflict, resumed=resumed)

    @work(name="transfer", group="transfers", exit_on_error=False)
    async def run_batches(
        self,
        batches: list[Batch],
        *,
        move: bool,
        conflict: Conflict,
        resumed: JournalUpload | None = None,
    ) -> None:
        """Each batch is one engine transfer; one summary for all. ``resumed``: the journal row this copy
        continues; if the engine could not use it (the source changed since, the server forgot the upload), it is
        aborted and forgotten once the copy is done."""
        outcome = Outcome(tracker=self.queue)
        for batch in batches:
            failed_before = len(outcome.failures)
            try:
                await run_transfer(
                    self.hub,
                    batch.sources,
                    batch.dst,
                    recursive=batch.recursive,
                    move=move,
                    conflict=conflict,
                    outcome=outcome,
                    options=self._copy_options(),
                )
            except CloudpaneError as exc:
                self.notify(one_line(exc), title="Transfer failed", severity="error", markup=False)
                continue
            if move and batch.recursive and len(outcome.failures) == failed_before:
                for src in batch.sources:  # a moved local folder goes too, once all of it arrived
                    if src.kind == "local" and src.path is not None and src.path.is_dir() and src.is_prefix:
                        _remove_tree_dirs(src.path)
        if resumed is not None and self.journal is not None and outcome.done and not outcome.failures:
            stale = [u for u in self.journal.unfinished() if (u.id, u.upload_id) == (resumed.id, resumed.upload_id)]
            await discard(self.hub, self.journal, stale)
        queued = {t.item.src_label for t in self.queue.items}
        for what, error in outcome.failures:
            if what not in queued:  # failed before it became a queued item (a vanished folder, say)
                self.notify(
                    f"{display_text(what)}: {one_line(error)}", title="Copy failed", severity="error", markup=False
                )
        verb = "moved" if move else "copied"
        message = f"{verb} {outcome.done} file(s), {humanize.naturalsize(outcome.bytes, binary=True)}"
        if outcome.skipped:
            message += f", {outcome.skipped} skipped"
        if outcome.failures:
            message += f", {len(outcome.failures)} failed (t shows why)"
        self.notify(message, severity="error" if outcome.failures else "information", markup=False)
        changed: list[Location] = []
        for batch in batches:
            changed.append(batch.dst)
            if move:
                changed.extend(src.parent() or src for src in batch.sources)
        self.refresh_panes(*changed)

    # -- refreshing ----------------------------------------------------------------------------------------
    def refresh_panes(self, *changed: Location) -> None:
        """Refresh every pane whose listing one of the ``changed`` places (folders, buckets, bucket lists) is
        in or under: both panes when they show the same folder. The pane's own refresh keeps its cursor."""
        for pane in (self.left, self.right):
            shown = pane.location
            if shown is not None and any(_shows(shown, place) for place in changed):
                pane.action_refresh()

    @on(DownloadVersion)
    def _download_version(self, event: DownloadVersion) -> None:
        dst = self.other.location
        if dst is None or dst.is_bucket_list:
            self.notify("The other pane must show a folder", markup=False)
            return
        self.download_version(event)

    @work(name="download version", group="transfers", exit_on_error=False)
    async def download_version(self, event: DownloadVersion) -> None:
        dst = self.other.location
        assert dst is not None
        name = event.key.rsplit("/", 1)[-1]
        target = dst.child(name)
        dst_store, dst_key = await self.hub.destination(target, folder=False)
        # the item names the version: its first run and any retry (r in the transfers panel) read that version
        item = Item(
            event.store,
            event.key,
            dst_store,
            dst_key,
            False,
            f"{event.store.url}/{event.key} ({event.entry.version_id})",
            str(target),
            version_id=event.entry.version_id,
        )
        self.queue.queued(item)
        transfer = self.queue.items[-1]
        await self.queue.retry(transfer)
        if transfer.state == "done":
            self.notify(display_text(f"Downloaded that version to {target}"), markup=False)
            self.refresh_panes(dst)

    # -- new / delete --------------------------------------------------------------------------------------
    def action_new(self) -> None:
        pane = self.active
        loc = pane.location
        if loc is None:
            return
        if loc.is_bucket_list:
            self._new_bucket(pane, loc)
            return

        def made(name: str | None) -> None:
            if name:
                self.make_folder(pane, name)

        self.push_screen(PromptDialog("New folder", "Folder name:"), made)

    def _new_bucket(self, pane: StorePane, loc: Location) -> None:
        async def ask() -> None:
            remote = await self.hub.remote(loc)

            def made(spec: NewBucket | None) -> None:
                if spec is not None:
                    self.create_bucket(pane, spec)

            self.push_screen(NewBucketDialog(remote.region or "", remote.container_name_problem), made)

        self.run_worker(ask(), name="new bucket", exit_on_error=False)

    @work(name="create bucket", exit_on_error=False)
    async def create_bucket(self, pane: StorePane, spec: NewBucket) -> None:
        assert pane.location is not None
        remote = await self.hub.remote(pane.location)
        try:
            warnings = await remote.create_bucket(spec.name, region=spec.region, versioning=spec.versioning)
        except CloudpaneError as exc:
            self.push_screen(MessageDialog("Could not create the bucket", plain(one_line(exc)), error=True))
            return
        for w in warnings:
            self.notify(display_text(w), severity="warning", markup=False)
        self.notify(display_text(f"Created private bucket {spec.name}"), markup=False)
        self.refresh_panes(pane.location)

    @work(name="new folder", exit_on_error=False)
    async def make_folder(self, pane: StorePane, name: str) -> None:
        loc = pane.location
        assert loc is not None
        if "/" in name.strip("/") or name in (".", ".."):
            self.notify("A folder name cannot contain /", severity="error", markup=False)
            return
        target = loc.child(name.strip("/") + "/")
        store = await self.hub.store(target)
        if not store.features.folder_markers:
            self.notify(
                "This server cannot keep empty folders: the folder appears when you copy something into it",
                severity="warning",
                markup=False,
            )
            return
        await store.put(self.hub.key(target), b"")
        self.refresh_panes(loc)

    def action_delete(self) -> None:
        pane = self.active
        rows = [r for r in pane.selected_rows() if r.kind != "deleted"]
        if not rows:
            return
        buckets = [r for r in rows if r.kind == "bucket"]
        body = Text()
        if buckets:
            body.append("Delete these buckets? Only empty buckets can be deleted.\n\n")
        else:
            body.append("Delete permanently? On a versioned bucket a delete marker is added instead.\n\n")
        for r in rows[:8]:
            label = r.name + ("/  (and everything in it)" if r.kind == "dir" else "")
            body.append(display_text(label) + "\n")
        if len(rows) > 8:
            body.append(f"… and {len(rows) - 8} more\n")
        body.append("\nin " + display_text(str(pane.location)))

        def go(answer: str | None) -> None:
            if answer:
                pane.marks.clear()
                self.delete_rows(pane, rows)

        self.push_screen(ConfirmDialog("Delete", body, confirm="Delete", danger=True), go)

    @work(name="delete", exit_on_error=False)
    async def delete_rows(self, pane: StorePane, rows: list[Row]) -> None:
        deleted, failed = 0, 0
        for row in rows:
            loc = self._row_location(pane, row)
            try:
                if row.kind == "bucket":
                    remote = await self.hub.remote(loc)
                    await remote.delete_bucket(row.name)
                    deleted += 1
                    continue
                store = await self.hub.store(loc)
                key = self.hub.key(loc)
                if row.kind == "file":
                    await store.delete(key)
                    deleted += 1
                    continue
                prefix = key if key.endswith("/") else key + "/"
                async for page in store.list(prefix, recursive=True):
                    for e in page:
                        await store.delete(e.key)
                        deleted += 1
                if store.features.folder_markers:
                    await store.delete(prefix)
                if loc.kind == "local" and loc.path is not None:
                    _remove_tree_dirs(loc.path)
            except CloudpaneError as exc:
                failed += 1
                self.notify(one_line(exc), title="Delete failed", severity="error", markup=False)
        self.notify(f"Deleted {deleted} item(s)" + (f", {failed} failed" if failed else ""), markup=False)
        if pane.location is not None:
            self.refresh_panes(pane.location)

    # -- rename --------------------------------------------------------------------------------------------
    def action_rename(self) -> None:
        """Shift+F6 / R: rename the file or folder under the cursor, in place."""
        pane = self.active
        row, loc = pane.current_row, pane.location
        if row is None or loc is None or row.kind not in ("file", "dir"):
            self.notify("Move the cursor to a file or a folder to rename it", markup=False)
            return

        def chosen(name: str | None) -> None:
            if name:
                self.rename_entry(pane, row, name)

        dialog = RenameDialog(str(loc), row.name, local=loc.kind == "local", folder=row.kind == "dir")
        self.push_screen(dialog, chosen)

    def _confirm_overwrite(self, pane: StorePane, row: Row, name: str) -> None:
        body = Text()
        body.append(display_text(name), style="bold")
        body.append(" exists in " + display_text(str(pane.location)) + ".\n\nReplace it with ")
        body.append(display_text(row.name), style="bold")
        body.append("?")

        def go(answer: str | None) -> None:
            if answer:
                self.rename_entry(pane, row, name, overwrite=True)

        self.push_screen(ConfirmDialog("Overwrite?", body, confirm="Overwrite", danger=True), go)

    @work(name="rename", group="transfers", exit_on_error=False)
    async def rename_entry(self, pane: StorePane, row: Row, name: str, *, overwrite: bool = False) -> None:
        """Local: one rename that replaces nothing unconfirmed. Remote: a server-side copy of the object (every key
        of a folder) through the transfer queue, each source deleted once its copy is complete."""
        folder = pane.location
        assert folder is not None
        is_dir = row.kind == "dir"
        old = self._row_location(pane, row)
        new = folder.child(name + ("/" if is_dir else ""))
        shown = display_text(f"{row.name} → {name}")
        if folder.kind == "local":
            assert old.path is not None and new.path is not None
            try:
                await asyncio.to_thread(rename_local, old.path, new.path, overwrite=overwrite)
            except ConflictError as exc:
                if overwrite or is_dir or new.path.is_dir():
                    self.push_screen(MessageDialog("Not renamed", plain(one_line(exc)), error=True))
                else:
                    self._confirm_overwrite(pane, row, name)
                return
            except CloudpaneError as exc:
                self.push_screen(MessageDialog("Not renamed", plain(one_line(exc)), error=True))
                return
            self.notify(f"Renamed {shown}", markup=False)
            self.refresh_panes(folder)
            return
        try:
            store = await self.hub.store(new)
            key = self.hub.key(new)
            if is_dir:
                if await _has_keys(store, key):
                    raise ConflictError(
                        f"{display_text(str(new))} exists: choose another name (folders are not merged)"
                    )
            elif not overwrite:
                try:
                    await store.stat(key)
                except NotFoundError:
                    pass
                else:
                    self._confirm_overwrite(pane, row, name)
                    return
        except CloudpaneError as exc:
            self.push_screen(MessageDialog("Not renamed", plain(one_line(exc)), error=True))
            return
        outcome = Outcome(tracker=self.queue)
        try:
            await run_transfer(
                self.hub,
                [old],
                new,
                recursive=is_dir,
                move=True,
                conflict="overwrite" if overwrite else "skip",
                outcome=outcome,
                options=self._copy_options(),
            )
        except CloudpaneError as exc:
            outcome.fail(str(old), exc)
        if outcome.failures:
            first = outcome.failures[0]
            cause = f"{display_text(first[0])}: {one_line(first[1])}"
            done = f"{outcome.done} moved, " if is_dir else ""
            self.notify(
                f"Not renamed: {done}{len(outcome.failures)} failed, their sources kept ({cause})",
                title="Rename failed",
                severity="error",
                markup=False,
            )
        elif outcome.skipped:
            self.notify(f"Not renamed: {display_text(name)} appeared meanwhile", severity="error", markup=False)
        else:
            self.notify(f"Renamed {shown}" + (f" ({outcome.done} keys)" if is_dir else ""), markup=False)
        self.refresh_panes(folder)

    # -- object screens ------------------------------------------------------------------------------------
    def _object_screen(self, name: str, make: Callable[[Store, Location], Awaitable[Screen[None] | None]], *,
                       deleted_ok: bool = False, refresh: bool = False) -> None:  # fmt: skip
        """Open a screen about the file under the cursor; ``make`` returns None when it does not apply.
        ``refresh``: the screen may change the object (restore, undelete, delete a version): once it closes, the
        panes showing its folder are refreshed."""
        found = self._current_file(deleted_ok=deleted_ok)
        if found is None:
            return
        loc = self._row_location(*found)
        folder = found[0].location

        def closed(_result: None) -> None:
            if refresh and folder is not None:
                self.refresh_panes(folder)

        async def open_screen() -> None:
            screen = await make(await found[0].hub.store(loc), loc)  # the pane's: a view of the past reads then
            if screen is not None:
                self.push_screen(screen, closed)

        self.run_worker(open_screen(), name=name, exit_on_error=False)

    def action_inspect(self) -> None:
        row = self.active.current_row
        if row is not None and row.kind == "bucket":
            self._inspect_bucket(self._row_location(self.active, row), row.name)
            return

        async def make(store: Store, loc: Location) -> Screen[None] | None:
            return InspectorScreen(store, self.hub.key(loc), str(loc))

        self._object_screen("inspect", make)

    def action_view(self) -> None:
        """F3: the first 256 KiB of the object under the cursor, by one ranged read."""

        async def make(store: Store, loc: Location) -> Screen[None] | None:
            try:
                preview = await read_preview(store, self.hub.key(loc))
            except CloudpaneError as exc:
                self.push_screen(MessageDialog("Cannot view", plain(one_line(exc)), error=True))
                return None
            return ViewerScreen(str(loc), preview)

        self._object_screen("view", make)

    def _inspect_bucket(self, loc: Location, name: str) -> None:
        """i on a bucket (container) row: its settings, versioning toggle, du (tui/ui/buckets.py)."""

        async def open_screen() -> None:
            from tui.ui.buckets import BucketInspectorScreen

            self.push_screen(
                BucketInspectorScreen(await self.hub.remote(loc), await self.hub.store(loc), name, str(loc))
            )

        self.run_worker(open_screen(), name="inspect bucket", exit_on_error=False)

    def action_versions(self) -> None:
        async def make(store: Store, loc: Location) -> Screen[None] | None:
            if not store.features.versions:
                self.notify("This location keeps no versions", markup=False)
                return None
            other = self.other.location
            can_download = other is not None and not other.is_bucket_list
            return VersionsScreen(store, self.hub.key(loc), str(loc), can_download=can_download)

        self._object_screen("versions", make, deleted_ok=True, refresh=True)

    def action_presign(self) -> None:
        async def make(store: Store, loc: Location) -> Screen[None] | None:
            if not store.features.presign:
                self.notify("Only objects in a bucket can have presigned links", markup=False)
                return None
            remote = await self.hub.remote(loc)
            return PresignScreen(store, self.hub.key(loc), str(loc), await remote.credentials_expire())

        self._object_screen("presign", make)

    def action_compare(self) -> None:
        src, dst = self.active.location, self.other.location
        if src is None or dst is None or src.is_bucket_list or dst.is_bucket_list:
            self.notify("Both panes must show a folder or a bucket to compare", markup=False)
            return
        self.compare(src, dst)

    @work(exclusive=True, group="compare", name="compare panes", exit_on_error=False)
    async def compare(self, src: Location, dst: Location) -> None:
        from tui.sync.backup import Action, BackupOptions, backup
        from tui.sync.filters import KeyFilter
        from tui.ui.compare import MAX_LINES, CompareScreen

        actions: list[Action] = []
        truncated = False

        def collect(action: Action) -> None:
            nonlocal truncated
            if action.op == "=":
                return
            if len(actions) < MAX_LINES:
                actions.append(action)
            else:
                truncated = True

        keep = KeyFilter(include_hidden=self.active.show_hidden)
        self.notify("Comparing…", markup=False)
        try:
            src_store, src_prefix = await self.hub.side(src, symlinks="skip")
            dst_store, dst_prefix = await self.hub.side(dst)
            report = await backup(
                src_store,
                src_prefix,
                dst_store,
                dst_prefix,
                keep=keep,
                options=BackupOptions(dry_run=True, delete=True, force=True),
                copy_options=self._copy_options(),
                on_action=collect,
            )
        except CloudpaneError as exc:
            self.push_screen(MessageDialog("Compare failed", plain(one_line(exc)), error=True))
            return

        def go(delete: bool | None) -> None:
            if delete is not None:
                self.run_backup(src, dst, delete=delete)

        self.push_screen(CompareScreen(str(src), str(dst), actions, report, truncated), go)

    @work(group="transfers", name="backup", exit_on_error=False)
    async def run_backup(self, src: Location, dst: Location, *, delete: bool) -> None:
        from tui.sync.backup import BackupOptions, backup
        from tui.sync.filters import KeyFilter

        try:
            src_store, src_prefix = await self.hub.side(src, symlinks="skip")
            dst_store, dst_prefix = await self.hub.side(dst)
            report = await backup(
                src_store,
                src_prefix,
                dst_store,
                dst_prefix,
                keep=KeyFilter(include_hidden=self.active.show_hidden),
                options=BackupOptions(delete=delete, files_in_flight=self.settings.max_files_in_flight),
                copy_options=self._copy_options(),
                same_remote=self.hub.same_remote(src, dst),
                tracker=self.queue,
            )
        except CloudpaneError as exc:
            self.push_screen(MessageDialog("Backup stopped", plain(one_line(exc)), error=True))
            return
        self.notify(report.line(), severity="information" if report.ok else "error", markup=False)
        self.refresh_panes(dst)

    def action_transfers(self) -> None:
        self.push_screen(TransfersScreen(self.queue))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(classes="dialog-screen"))


async def _has_keys(store: Store, prefix: str) -> bool:
    """Whether anything is under ``prefix`` (one listing page of one key)."""
    async for page in store.list(prefix, recursive=True, page_size=1):
        if page:
            return True
    return False


def _typed(loc: Location) -> str:
    """A location as the user would type it as a destination folder (local folders with their trailing /)."""
    if loc.kind == "local":
        assert loc.path is not None
        text = str(loc.path)
        return text if text.endswith("/") else text + "/"
    return str(loc)


def _shows(shown: Location, place: Location) -> bool:
    """Whether a pane showing ``shown`` lists something of ``place`` (the same folder, or one of its ancestors)."""
    if shown.kind != place.kind:
        return False
    if shown.kind == "local":
        if shown.path is None or place.path is None:
            return False
        here, there = Path(os.path.normpath(shown.path)), Path(os.path.normpath(place.path))
        return here == there or here in there.parents
    if shown.remote != place.remote:
        return False
    if shown.bucket is None:
        return place.bucket is None
    if shown.bucket != place.bucket:
        return False
    return place.key.startswith(shown.key)


def _remove_tree_dirs(path: Path) -> None:
    for root, _dirs, _files in sorted(os.walk(path), key=lambda t: -len(t[0])):
        try:
            os.rmdir(root)
        except OSError:
            continue
