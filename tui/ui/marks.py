"""Mark by pattern, as Midnight Commander's ``+`` (select group), ``-`` (unselect group) and ``*`` (invert).

A small dialog asks for a shell glob (default ``*``) and two options; the pane applies it to its visible rows
(:meth:`tui.ui.listing.Listing.mark_pattern`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label

from tui.ui.listing import MarkOp

TITLES: dict[MarkOp, str] = {"mark": "Select", "unmark": "Unselect", "invert": "Invert selection"}


@dataclass(frozen=True, slots=True)
class MarkPattern:
    op: MarkOp
    pattern: str
    files_only: bool
    case_sensitive: bool


class MarkDialog(ModalScreen[MarkPattern | None]):
    """A shell pattern (``*``, ``?``, ``[abc]``) for the names to (un)mark; Enter applies it, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, op: MarkOp, *, pattern: str = "*") -> None:
        super().__init__(classes="dialog-screen")
        self.op = op
        self._pattern = pattern

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="mark-dialog"):
            yield Label(TITLES[self.op], classes="dialog-title")
            yield Label("Names matching (shell pattern: * ? [abc]):", markup=False)
            yield Input(value=self._pattern, id="pattern", select_on_focus=True)
            with Horizontal(classes="mark-options"):
                yield Checkbox("Files only", False, id="files-only", compact=True)
                yield Checkbox("Case sensitive", True, id="case-sensitive", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    DEFAULT_CSS = """
    MarkDialog .mark-options {
        height: auto;
        padding-top: 1;
    }
    MarkDialog .mark-options Checkbox {
        margin-right: 2;
    }
    """

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        pattern = self.query_one(Input).value.strip()
        if not pattern:
            self.dismiss(None)
            return
        self.dismiss(
            MarkPattern(
                self.op,
                pattern,
                files_only=self.query_one("#files-only", Checkbox).value,
                case_sensitive=self.query_one("#case-sensitive", Checkbox).value,
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
