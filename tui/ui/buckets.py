"""The bucket inspector (i on a bucket or container row): region, versioning (v toggles it, after a confirmation),
Block Public Access, object ownership, object lock, encryption; and, when asked (s), the object count and total size
of the bucket, counted from a streamed listing with a running count (s again, or Esc, stops it).

The settings come from the remote's ``BucketInspector`` (tui/storage/s3_buckets.py, tui/storage/azure_buckets.py);
a remote without one shows what the ``Remote`` protocol says (versioning) and "not available" for the rest.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

import humanize
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker, WorkerState

from tui.errors import CloudpaneError, one_line
from tui.safety import display_text
from tui.storage.base import BucketFact, BucketInspector, BucketReport, Remote, Store
from tui.ui.dialogs import ConfirmDialog, plain

LABEL_WIDTH = 20
#: the du line is redrawn at most once per this many objects (and at every page's end)
DU_UPDATE_EVERY = 1000

_STATUS_STYLE = {"not set": "dim italic", "not available": "dim", "error": "red"}


def facts_text(where: str, facts: tuple[BucketFact, ...] | list[BucketFact]) -> Text:
    """The inspector body: one line per fact; every value from the server goes through display_text."""
    text = Text()
    text.append(f"{'Bucket':<{LABEL_WIDTH}}", style="bold")
    text.append(display_text(where) + "\n")
    for fact in facts:
        text.append(f"{display_text(fact.label):<{LABEL_WIDTH}}", style="bold")
        if fact.status == "set":
            text.append(display_text(fact.value))
        elif fact.status == "error":
            text.append("error: " + display_text(fact.value), style=_STATUS_STYLE["error"])
        else:
            text.append(fact.status, style=_STATUS_STYLE[fact.status])
            if fact.value:
                text.append(" (" + display_text(fact.value) + ")", style="dim")
        text.append("\n")
    return text


async def basic_report(remote: Remote, name: str) -> BucketReport:
    """What any Remote can say of a bucket (its versioning), for remotes without a BucketInspector."""
    versioning: BucketFact
    status: str | None = None
    if remote.features.versions:
        try:
            status = await remote.get_versioning(name) or ""
        except CloudpaneError as exc:
            versioning = BucketFact("Versioning", one_line(exc), "error")
        else:
            versioning = (
                BucketFact("Versioning", status) if status else BucketFact("Versioning", "never enabled", "not set")
            )
    else:
        versioning = BucketFact("Versioning", "", "not available")
    others = ("Region", "Block Public Access", "Object ownership", "Object Lock")
    return BucketReport(name, (versioning, *(BucketFact(label, "", "not available") for label in others)), status)


class BucketInspectorScreen(ModalScreen[None]):
    """The settings of one bucket; v toggles versioning (asks first), s counts objects and bytes (du)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,i,f3,q", "close", "Close"),
        Binding("v", "toggle_versioning", "Versioning on/off"),
        Binding("s", "du", "Count objects (du)"),
    ]

    DEFAULT_CSS = """
    BucketInspectorScreen #bucket-du {
        height: auto;
        padding-top: 1;
    }
    """

    def __init__(self, remote: Remote, store: Store, bucket: str, where: str) -> None:
        super().__init__(classes="dialog-screen")
        self.remote, self.store, self.bucket, self.where = remote, store, bucket, where
        self.report: BucketReport | None = None
        #: (objects, bytes) counted so far, and whether the count is complete
        self.counted: tuple[int, int] = (0, 0)
        self.du_done = False
        self._du: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Bucket inspector", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(plain("loading…"), id="bucket-facts")
                yield Static(Text("Objects and size: press s to count them (du)", style="dim"), id="bucket-du")
            yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="bucket-inspect", name="inspect bucket", exit_on_error=False)
    async def load(self) -> None:
        facts = self.query_one("#bucket-facts", Static)
        try:
            if isinstance(self.remote, BucketInspector):
                report = await self.remote.inspect_bucket(self.bucket)
            else:
                report = await basic_report(self.remote, self.bucket)
        except CloudpaneError as exc:
            facts.update(Text(one_line(exc), style="red"))
            return
        self.report = report
        facts.update(facts_text(self.where, report.facts))

    def fact(self, label: str) -> BucketFact | None:
        """The fact shown under ``label`` (None before the settings are loaded)."""
        if self.report is None:
            return None
        return next((f for f in self.report.facts if f.label == label), None)

    # -- versioning ----------------------------------------------------------------------------------------
    def action_toggle_versioning(self) -> None:
        report = self.report
        if report is None:
            return
        if report.versioning is None or not self.remote.features.versions:
            self.app.notify("Versioning cannot be changed here", markup=False)
            return
        enable = report.versioning != "Enabled"
        body = Text()
        if enable:
            body.append("Enable versioning on this bucket?\n\n", style="bold")
            body.append(
                "Every overwrite and delete then keeps the old version (v on a file lists them). Old versions are "
                "stored, and billed, until they are deleted. Versioning can later be suspended, never removed.\n\n"
            )
        else:
            body.append("Suspend versioning on this bucket?\n\n", style="bold")
            body.append(
                "New overwrites and deletes then replace the current object: what they replace cannot be restored. "
                "The versions kept so far stay.\n\n"
            )
        body.append(display_text(self.where))

        def answered(answer: str | None) -> None:
            if answer:
                self.set_versioning(enable)

        self.app.push_screen(
            ConfirmDialog(
                "Enable versioning" if enable else "Suspend versioning",
                body,
                confirm="Enable" if enable else "Suspend",
                danger=not enable,
            ),
            answered,
        )

    @work(exclusive=True, group="bucket-versioning", name="set versioning", exit_on_error=False)
    async def set_versioning(self, enable: bool) -> None:
        try:
            await self.remote.set_versioning(self.bucket, enable)
        except CloudpaneError as exc:
            self.app.notify(one_line(exc), title="Versioning", severity="error", markup=False)
            return
        self.app.notify(
            display_text(f"Versioning {'enabled' if enable else 'suspended'} on {self.where}"), markup=False
        )
        self.load()

    # -- du ------------------------------------------------------------------------------------------------
    def action_du(self) -> None:
        if self._du is not None and self._du.state in (WorkerState.PENDING, WorkerState.RUNNING):
            self._du.cancel()
            return
        self._du = self.count_objects()

    def _show_count(self, state: str) -> None:
        objects, size = self.counted
        text = Text()
        text.append(f"{'Objects':<{LABEL_WIDTH}}", style="bold")
        text.append(f"{objects:,}")
        text.append(f"\n{'Total size':<{LABEL_WIDTH}}", style="bold")
        text.append(f"{humanize.naturalsize(size, binary=True)} ({size:,} bytes)")
        if state:
            text.append(f"\n{'':<{LABEL_WIDTH}}")
            style = "red" if "failed" in state else "yellow" if state.startswith("counting") else "dim"
            text.append(state, style=style)
        self.query_one("#bucket-du", Static).update(text)

    @work(exclusive=True, group="bucket-du", name="du bucket", exit_on_error=False)
    async def count_objects(self) -> None:
        """Stream the bucket's flat listing (current objects, every folder marker included) and count as the pages
        arrive; s again stops the count."""
        objects = size = 0
        self.counted, self.du_done = (0, 0), False
        self._show_count("counting… (s stops)")
        shown = 0
        try:
            async for page in self.store.list("", recursive=True):
                for entry in page:
                    if entry.is_prefix or entry.is_delete_marker:
                        continue
                    objects += 1
                    size += entry.size or 0
                self.counted = (objects, size)
                if objects - shown >= DU_UPDATE_EVERY or not shown:
                    shown = objects
                    self._show_count("counting… (s stops)")
        except asyncio.CancelledError:
            self.counted = (objects, size)
            if self.is_mounted:
                self._show_count("stopped before the end: the numbers are what was counted so far")
            raise
        except CloudpaneError as exc:
            self.counted = (objects, size)
            self._show_count(f"counting failed after {objects:,} objects: {one_line(exc)}")
            return
        self.counted, self.du_done = (objects, size), True
        self._show_count("complete")

    def action_close(self) -> None:
        if self._du is not None:
            self._du.cancel()
        self.dismiss(None)
