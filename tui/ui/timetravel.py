"""Time travel (``@``): a versioned prefix as it was at a time or age, read-only, in its pane.

The pane shows the past through :class:`tui.sync.asof.AsOfHub` (its stores are read-only ``AsOfStore`` views: the
version each key had then, ``restore --as-of``'s choice), so the pane lists it like any location; the header says
``@ 2026-11-01 12:00Z``. From there:

- F5/c copies out those versions (each item carries its version id) to the other pane, through the transfers panel;
- R restores them in place: each becomes the current version again (a server-side copy of that version onto its
  key; the newer versions stay, as older ones); keys that did not exist then are left alone;
- move, delete, new folder, rename, versions, compare and URL uploads are refused with one line, and so is any
  copy *into* a pane that shows the past;
- ``@`` again, Esc, or going up above the prefix where the travel began, leaves it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import humanize
from rich.text import Text
from textual.app import App

from tui.errors import CloudpaneError, UsageError, one_line
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import Entry, ObjectInfo, Store
from tui.storage.hub import StoreHub
from tui.sync.asof import AsOfHub, AsOfStore, as_of_label, resolve_version
from tui.timeparse import parse_time
from tui.transfer.copy import CopyOptions
from tui.transfer.plan import Conflict, Item, run_item
from tui.transfer.pool import TaskPool
from tui.ui.dialogs import ConfirmDialog, PromptDialog
from tui.ui.pane import Row, StorePane
from tui.ui.transfers import TransferQueue

#: actions refused while the active pane shows the past (their one line says why)
REFUSED = frozenset({"move", "delete", "new", "rename", "versions", "compare", "url_upload"})
#: actions that write into the *other* pane: refused when that pane shows the past
WRITES_OTHER = frozenset({"copy", "move", "compare"})

PROMPT = "As it was at (2026-11-01T12:00Z, or an age: 3d, 12h):"

CONFLICTS: list[tuple[str, str]] = [
    ("newer", "Only if the source is newer"),
    ("overwrite", "Overwrite"),
    ("skip", "Skip existing"),
]


class Host(Protocol):
    """What time travel needs of the app."""

    hub: StoreHub
    queue: TransferQueue

    @property
    def active(self) -> StorePane: ...

    @property
    def other(self) -> StorePane: ...

    def _copy_options(self) -> CopyOptions: ...


def travel_of(pane: StorePane) -> AsOfHub | None:
    """The time travel a pane is on, or None."""
    hub = pane.hub
    return hub if isinstance(hub, AsOfHub) else None


def enter(pane: StorePane, base: StoreHub, when: datetime) -> None:
    """Show ``pane``'s location as it was at ``when`` (the caller checked that it keeps versions)."""
    assert pane.location is not None
    travel = AsOfHub(base, when, pane.location)
    pane.hub = travel
    pane.marks.clear()
    pane.set_title_mark(travel.label)
    pane.load()


def leave(pane: StorePane) -> None:
    travel = travel_of(pane)
    if travel is None:
        return
    pane.hub = travel.base
    pane.marks.clear()
    pane.set_title_mark("")
    pane.load()


@dataclass(frozen=True, slots=True)
class Picked:
    """One version chosen in the past, and where below the selection it lies (``rel``: ``name`` or
    ``folder/sub/name``)."""

    entry: Entry
    rel: str


async def picked_versions(pane: StorePane, travel: AsOfHub, rows: list[Row]) -> tuple[Store, list[Picked]]:
    """The version each selected file had then (folders: every key below them, as they were): the real store and
    the versions, as the as-of listing chose them."""
    assert pane.location is not None
    view = await travel.store(pane.location)
    assert isinstance(view, AsOfStore)
    out: list[Picked] = []
    for row in rows:
        if row.kind == "file":
            out.append(Picked(await resolve_version(view.inner, row.key, travel.when), row.name))
        elif row.kind == "dir":
            prefix = row.key if row.key.endswith("/") else row.key + "/"
            async for page in view.list(prefix, recursive=True):
                out.extend(Picked(e, row.name + "/" + e.key[len(prefix) :]) for e in page)
    return view.inner, out


class TimeTravel:
    """The app's time travel: ``@`` in and out, the refusals, copy out and restore."""

    def __init__(self, app: App[Any], host: Host) -> None:
        """``app`` and ``host`` are the same app: its Textual side (dialogs, workers, notifications) and its
        cloudpane side (hub, queue, panes)."""
        self.app = app
        self.host = host

    # -- in and out ----------------------------------------------------------------------------------------
    def toggle(self) -> None:
        """``@``: leave the past, or ask for a time and go there."""
        pane = self.host.active
        if travel_of(pane) is not None:
            leave(pane)
            return
        loc = pane.location
        if loc is None or loc.kind == "local" or loc.kind == "https" or loc.is_bucket_list:
            self.app.notify("Time travel needs a prefix in a versioned bucket", markup=False)
            return
        self.app.run_worker(self._ask(pane, loc), name="time travel", exit_on_error=False)

    async def _ask(self, pane: StorePane, loc: Location) -> None:
        try:
            problem = await versioning_problem(self.host.hub, loc)
        except CloudpaneError as exc:
            self.app.notify(one_line(exc), title="Time travel", severity="error", markup=False)
            return
        if problem:
            self.app.notify(problem, markup=False)
            return

        def chosen(text: str | None) -> None:
            if not text:
                return
            try:
                when = parse_time(text)
            except UsageError as exc:
                self.app.notify(one_line(exc), severity="error", markup=False)
                return
            if when > datetime.now(UTC):
                self.app.notify(f"{as_of_label(when)} is in the future: nothing to show yet", markup=False)
                return
            if pane.location == loc:
                enter(pane, self.host.hub, when)

        self.app.push_screen(PromptDialog(f"Time travel: {display_text(str(loc))}", PROMPT), chosen)

    def navigated(self, pane: StorePane) -> None:
        """Going up above where the travel began leaves it."""
        travel = travel_of(pane)
        if travel is not None and pane.location is not None and not travel.contains(pane.location):
            leave(pane)

    def escape(self) -> bool:
        """Esc on a pane in the past (no filter to clear first) leaves it."""
        pane = self.host.active
        if travel_of(pane) is None or pane.filter_text:
            return False
        leave(pane)
        return True

    # -- refusals ------------------------------------------------------------------------------------------
    def intercept(self, action: str) -> bool:
        """Handle ``action`` (a name) when time travel changes what it does; True when it was handled here."""
        active, other = travel_of(self.host.active), travel_of(self.host.other)
        if active is not None and action == "rename":  # R renames in the present and restores in the past
            self.restore()
            return True
        if active is not None and action in REFUSED:
            self.app.notify(f"{active.label} is read-only: copy out (F5) or restore (R), or leave it (@)",
                             severity="warning", markup=False)  # fmt: skip
            return True
        if other is not None and action in WRITES_OTHER:
            self.app.notify(f"The other pane shows {other.label}, read-only: nothing can be written there",
                             severity="warning", markup=False)  # fmt: skip
            return True
        if active is not None and action == "copy":
            self.copy_out()
            return True
        if action == "clear_filter":
            return self.escape()
        return False

    # -- copy out ------------------------------------------------------------------------------------------
    def copy_out(self) -> None:
        src, dst_pane = self.host.active, self.host.other
        travel = travel_of(src)
        assert travel is not None
        rows = [r for r in src.selected_rows() if r.kind in ("file", "dir")]
        dst = dst_pane.location
        if not rows:
            self.app.notify("Nothing to copy: mark entries or move the cursor to one", markup=False)
            return
        if dst is None or dst.is_bucket_list:
            self.app.notify("The other pane must show a folder or a bucket", severity="warning", markup=False)
            return
        body = Text()
        body.append("Copy ", style="bold")
        body.append(_rows_line(rows))
        body.append(f" as they were {travel.label}\n\nfrom  ")
        body.append(display_text(str(src.location)))
        for r in rows[:5]:
            body.append("\n      " + display_text(r.name + ("/" if r.kind == "dir" else "")))
        if len(rows) > 5:
            body.append(f"\n      … and {len(rows) - 5} more")
        body.append("\nto    " + display_text(str(dst)))
        body.append("\n\nWhen the destination exists:")

        def go(choice: str | None) -> None:
            if choice is None:
                return
            conflict: Conflict = "overwrite" if choice == "overwrite" else "skip" if choice == "skip" else "newer"
            src.marks.clear()
            self.app.run_worker(self._copy(src, travel, rows, dst, conflict), name="copy from the past",
                                 group="transfers", exit_on_error=False)  # fmt: skip

        self.app.push_screen(ConfirmDialog(f"Copy {travel.label}", body, confirm="Copy", choices=CONFLICTS), go)

    async def _copy(self, pane: StorePane, travel: AsOfHub, rows: list[Row], dst: Location, conflict: Conflict) -> None:
        host = self.host
        assert pane.location is not None
        try:
            store, picked = await picked_versions(pane, travel, rows)
            dst_store, dst_key = await host.hub.destination(dst, folder=True)
        except CloudpaneError as exc:
            self.app.notify(one_line(exc), title="Copy failed", severity="error", markup=False)
            return
        same = host.hub.same_remote(pane.location, dst)
        options = host._copy_options()
        done = failed = skipped = 0
        total = 0

        async def one(item: Item) -> None:
            nonlocal done, failed, skipped, total
            try:
                result = await run_item(item, options, tracker=host.queue)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the transfers panel shows why; counted here
                failed += 1
                return
            if result is None:
                skipped += 1
            else:
                done += 1
                total += result[1]

        async with TaskPool(host.hub.settings.max_files_in_flight) as pool:
            for p in picked:
                target = _join(dst_key, p.rel)
                item = Item(
                    store,
                    p.entry.key,
                    dst_store,
                    target,
                    same,
                    f"{store.url}/{p.entry.key} {travel.label}",
                    _dst_label(dst, dst_store, target),
                    info=ObjectInfo.from_entry(p.entry) if store.features.buckets else None,
                    version_id=p.entry.version_id,
                    conflict=conflict,
                )
                host.queue.queued(item)
                await pool.submit(one(item), label=item.src_label)
        failed += len(pool.failures)
        message = f"copied {done} file(s) as they were {travel.label}, {humanize.naturalsize(total, binary=True)}"
        if skipped:
            message += f", {skipped} skipped"
        if failed:
            message += f", {failed} failed (t shows why)"
        self.app.notify(message, severity="error" if failed else "information", markup=False)
        host.other.load()

    # -- restore -------------------------------------------------------------------------------------------
    def restore(self) -> None:
        """R: the selected files (and folders) as they were then become the current versions again."""
        pane = self.host.active
        travel = travel_of(pane)
        if travel is None:
            self.app.notify("R restores from the past: go there first with @", markup=False)
            return
        rows = [r for r in pane.selected_rows() if r.kind in ("file", "dir")]
        if not rows:
            self.app.notify("Nothing to restore: mark entries or move the cursor to one", markup=False)
            return
        body = Text()
        body.append("Restore ", style="bold")
        body.append(_rows_line(rows))
        body.append(f" as they were {travel.label}?\n\n")
        for r in rows[:5]:
            body.append(display_text(r.name + ("/" if r.kind == "dir" else "")) + "\n")
        if len(rows) > 5:
            body.append(f"… and {len(rows) - 5} more\n")
        body.append("in " + display_text(str(pane.location)))
        body.append(
            "\n\nEach becomes the current version again (a new version; the newer ones are kept as older versions). "
            "Keys that did not exist then are left as they are."
        )

        def go(answer: str | None) -> None:
            if answer:
                pane.marks.clear()
                self.app.run_worker(self._restore(pane, travel, rows), name="restore from the past",
                                     group="transfers", exit_on_error=False)  # fmt: skip

        self.app.push_screen(ConfirmDialog(f"Restore {travel.label}", body, confirm="Restore"), go)

    async def _restore(self, pane: StorePane, travel: AsOfHub, rows: list[Row]) -> None:
        host = self.host
        try:
            store, picked = await picked_versions(pane, travel, rows)
        except CloudpaneError as exc:
            self.app.notify(one_line(exc), title="Restore failed", severity="error", markup=False)
            return
        restored = current = 0
        failures: list[str] = []
        for p in picked:
            if p.entry.is_latest:
                current += 1  # that version is still the current one: nothing to do
                continue
            try:
                await store.copy(p.entry.key, p.entry.key, src_version_id=p.entry.version_id)
            except CloudpaneError as exc:
                failures.append(f"{display_text(p.rel)}: {one_line(exc)}")
                continue
            restored += 1
        for line in failures[:5]:
            self.app.notify(line, title="Restore failed", severity="error", markup=False)
        message = f"restored {restored} file(s) as they were {travel.label}"
        if current:
            message += f", {current} already current"
        if failures:
            message += f", {len(failures)} failed"
        self.app.notify(message, severity="error" if failures else "information", markup=False)
        host.other.load()


async def versioning_problem(hub: StoreHub, loc: Location) -> str | None:
    """Why ``loc`` has no past to show (one line), or None."""
    store = await hub.store(loc)
    if not store.features.versions:
        return f"{display_text(str(loc))}: this store keeps no versions, so it has no past to show"
    assert loc.bucket is not None
    remote = await hub.remote(loc)
    status = await remote.get_versioning(loc.bucket)
    if status is None:
        return f"{display_text(loc.bucket)} is not versioned: it has no past to show"
    return None


def _rows_line(rows: list[Row]) -> str:
    files = sum(1 for r in rows if r.kind == "file")
    folders = sum(1 for r in rows if r.kind == "dir")
    line = f"{files} file(s)"
    if folders:
        line += f" and {folders} folder(s) with everything in them"
    return line


def _join(prefix: str, rel: str) -> str:
    if not prefix or prefix.endswith("/"):
        return prefix + rel
    return f"{prefix}/{rel}"


def _dst_label(loc: Location, store: Store, key: str) -> str:
    if loc.kind == "local":
        return os.path.join(store.url, key)
    return str(replace(loc, key=key))


__all__ = ["REFUSED", "Host", "TimeTravel", "enter", "leave", "travel_of", "versioning_problem"]
