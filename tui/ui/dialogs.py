"""Modal dialogs: confirm, prompt, new bucket, message, help. Untrusted text arrives as ``rich.text.Text``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet, Static

from tui.locations import validate_bucket_name
from tui.safety import display_text


def plain(text: str) -> Text:
    """Untrusted text for a widget: escaped and never parsed as markup."""
    return Text(display_text(text))


class ConfirmDialog(ModalScreen[str | None]):
    """Shows exactly what will happen; returns the chosen option (or "yes"), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        body: Text,
        *,
        confirm: str = "OK",
        danger: bool = False,
        choices: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self._title = title
        self._body = body
        self._confirm = confirm
        self._danger = danger
        self._choices = choices or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._body)
            if self._choices:
                with RadioSet(id="choice"):
                    for i, (_value, label) in enumerate(self._choices):
                        yield RadioButton(label, value=i == 0)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm, variant="error" if self._danger else "primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._initial_focus()

    def _initial_focus(self) -> None:
        self.query_one("#cancel" if self._danger else "#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        if self._choices:
            index = self.query_one(RadioSet).pressed_index
            self.dismiss(self._choices[max(index, 0)][0])
        else:
            self.dismiss("yes")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TransferDialog(ConfirmDialog):
    """Copy or move: what goes, an editable destination (prefilled with the other pane's location; Enter accepts)
    and the choice for an existing destination, moved with the up and down arrows from anywhere in the dialog.

    It answers like ``ConfirmDialog`` (the chosen conflict value, or None); ``destination`` is what was typed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("up", "choice(-1)", "Previous choice", show=False),
        Binding("down", "choice(1)", "Next choice", show=False),
    ]

    def __init__(
        self, title: str, body: Text, destination: str, *, confirm: str, choices: list[tuple[str, str]]
    ) -> None:
        super().__init__(title, body, confirm=confirm, choices=choices)
        self._destination = destination

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._body)
            yield Label("to (Enter accepts):")
            yield Input(value=self._destination, id="destination", select_on_focus=False, compact=True)
            yield Label("When the destination exists (↑ ↓):")
            with RadioSet(id="choice", compact=True):
                for i, (_value, label) in enumerate(self._choices):
                    yield RadioButton(label, value=i == 0)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._confirm, variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def _initial_focus(self) -> None:
        # the arrows choose from anywhere (the input has no use for them): the set itself takes no focus
        self.query_one(RadioSet).can_focus = False
        box = self.query_one("#destination", Input)
        box.focus()
        box.cursor_position = len(box.value)

    @property
    def destination(self) -> str:
        return self.query_one("#destination", Input).value.strip()

    @property
    def choice(self) -> str:
        index = self.query_one(RadioSet).pressed_index
        return self._choices[max(index, 0)][0]

    def action_choice(self, delta: int) -> None:
        buttons = list(self.query(RadioButton))
        index = max(self.query_one(RadioSet).pressed_index, 0)
        buttons[(index + delta) % len(buttons)].value = True

    @on(Input.Submitted, "#destination")
    def _submitted(self) -> None:
        self.dismiss(self.choice)


class PromptDialog(ModalScreen[str | None]):
    """One line of input."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, prompt: str, *, value: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self._title, self._prompt, self._value = title, prompt, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="dialog-title")
            yield Label(self._prompt)
            yield Input(value=self._value, id="value")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        value = self.query_one(Input).value.strip()
        self.dismiss(value or None)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class NewBucket:
    name: str
    region: str | None
    versioning: bool


class NewBucketDialog(ModalScreen[NewBucket | None]):
    """Create a bucket: the name is checked against S3's rules as you type. Buckets are always private."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default_region: str, problem: Callable[[str], str | None] = validate_bucket_name) -> None:
        """``problem``: why a name cannot be a bucket on this remote (``Remote.container_name_problem``)."""
        super().__init__(classes="dialog-screen")
        self._region = default_region
        self._problem = problem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New bucket", classes="dialog-title")
            yield Input(placeholder="bucket name", id="name")
            yield Static("", id="name-error", classes="error-line")
            yield Input(value=self._region, placeholder="region", id="region")
            yield Checkbox("Versioning (keep every version of every object)", id="versioning")
            yield Static(
                "The bucket is private: no public ACL; Block Public Access and BucketOwnerEnforced where the "
                "server supports them.",
                classes="dim",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="ok", disabled=True, compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Changed, "#name")
    def _validate(self, event: Input.Changed) -> None:
        reason = self._problem(event.value) if event.value else "type a name"
        self.query_one("#name-error", Static).update(plain(reason or ""))
        self.query_one("#ok", Button).disabled = reason is not None

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        if self._problem(name) is not None:
            return
        region = self.query_one("#region", Input).value.strip() or None
        self.dismiss(NewBucket(name, region, self.query_one("#versioning", Checkbox).value))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class MessageDialog(ModalScreen[None]):
    """An error or a long message: one line of cause, and an OK."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close"),
    ]

    def __init__(self, title: str, body: Text, *, error: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self._title, self._body, self._error = title, body, error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog error" if self._error else "dialog"):
            yield Label(self._title, classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(self._body)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok", compact=True)

    @on(Button.Pressed, "#ok")
    def action_close(self) -> None:
        self.dismiss(None)


KEYS = [
    ("Tab", "", "switch pane"),
    ("Enter", "", "open folder / bucket"),
    ("Backspace", "", "up one level"),
    ("F3", "o", "view the object (its first 256 KiB)"),
    ("", "i", "inspect object or file"),
    ("F5", "c", "copy to the other pane"),
    ("F6", "m", "move to the other pane"),
    ("Shift+F6", "R", "rename in place"),
    ("F7", "n", "new folder (or bucket in a bucket list)"),
    ("F8", "d", "delete (asks first)"),
    ("Space", "Insert", "mark / unmark"),
    ("+  -  *", "", "mark, unmark, invert by pattern"),
    ("Home", "End", "first / last entry"),
    ("PgUp", "PgDn", "a page up / down"),
    ("/", "", "filter the listing"),
    (".", "", "show / hide hidden files"),
    ("s", "", "sort by name, size, date"),
    ("v", "", "versions: restore, undelete, download, delete"),
    ("u", "", "show deleted objects of this prefix"),
    ("p", "", "presigned link"),
    ("t", "", "transfers panel"),
    ("=", "", "compare panes: backup plan, then run it"),
    ("@", "", "this prefix as it was at a time (R restores)"),
    ("U", "", "upload from an https:// URL"),
    ("i  v  s", "", "on a bucket: settings, versioning, du"),
    ("r", "", "refresh"),
    ("F1", "?", "this help"),
    ("F10", "q", "quit (asks first while transfers run)"),
    ("Ctrl+P", "", "command palette: every action"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        text = Text()
        for key, alias, what in KEYS:
            text.append(f"{key:<10}", style="bold")
            text.append(f"{alias:<8}", style="bold cyan")
            text.append(what + "\n")
        text.append("\nF-keys die in tmux? Every F-key has the letter beside it.", style="dim")
        with Vertical(classes="dialog help"):
            yield Label("cloudpane keys", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
