"""Compare panes (=): the backup plan from the active pane to the other, as a dry run, then run it on confirm.

The plan comes from the backup engine, so its deletes went through the one delete gate (``tui.sync.gate``). The
plan is made with ``force`` (to show every key that is only at the destination), so the screen shows what the
gate would refuse without it (an empty source, more than half of the destination) or skips (listing errors),
and then offers no deletes: the backup it runs passes the gate again, without ``force``."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Static

from tui.safety import display_text
from tui.sync.backup import Action, Report

#: the plan view shows at most this many lines (the counts cover everything)
MAX_LINES = 2000
STYLES = {"+": "green", "*": "yellow", "-": "red", "!": "bold red", "=": "dim"}


def deletes_blocked(report: Report) -> list[str]:
    """The delete gate's lines for a compare plan (made with ``force``): a refusal it would make without it, a
    skip after listing or transfer errors, and the notes that say where those errors were."""
    lines = [*report.overridden, *report.refusals]
    if report.failed or report.refused:
        lines += report.notes
    return lines


class CompareScreen(ModalScreen[bool | None]):
    """Returns True to run the backup with deletes, False without, None to cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, src: str, dst: str, actions: list[Action], report: Report, truncated: bool) -> None:
        super().__init__(classes="dialog-screen")
        self.src, self.dst = src, dst
        self.actions, self.report, self.truncated = actions, report, truncated
        #: why the gate lets no delete run: refusals that the plan's ``force`` overrode, skips after errors
        self.blocked = deletes_blocked(report)

    def compose(self) -> ComposeResult:
        r = self.report
        body = Text()
        for a in self.actions:
            body.append(a.line() + "\n", style=STYLES.get(a.op, ""))
        if self.truncated:
            body.append(f"… only the first {MAX_LINES} lines are shown\n", style="dim")
        if not self.actions:
            body.append("Nothing to do: the destination matches the source.\n", style="green")
        for line in self.blocked:
            body.append(f"Deletes will not run: {display_text(line)}\n", style="bold red")
        summary = f"+ {r.new} new   * {r.changed} changed   - {r.deleted} only at the destination   = {r.same} same" + (
            f"   ! {r.failed + r.refused} failed" if r.failed or r.refused else ""
        )
        with Vertical(classes="dialog wide tall"):
            yield Label(
                Text("Compare: " + display_text(self.src) + "  →  " + display_text(self.dst)), classes="dialog-title"
            )
            with VerticalScroll(id="plan"):
                yield Static(body)
            yield Static(Text(summary, style="bold"))
            yield Checkbox(
                "Also delete what is only at the destination",
                id="delete",
                value=False,
                disabled=bool(self.blocked),
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run backup", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(self.query_one("#delete", Checkbox).value and not self.blocked)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
