"""Upload from a URL (``U`` in a bucket pane): stream an https:// URL into the pane's prefix.

The URL is checked by the CLI's own rule (:func:`tui.locations.parse_location`: https://, or plain http:// to
localhost only) and copied by the CLI's own path (``run_transfer`` with an https source, ``tui.storage.http``):
streamed, never through local disk, with progress, cancel (``x``) and retry (``r``) in the transfers panel. The
object's name comes from the URL's last segment and can be edited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.errors import LocationError, one_line
from tui.locations import Location, parse_location
from tui.safety import display_text


@dataclass(frozen=True, slots=True)
class UrlUpload:
    """What the dialog decided: the URL (a Location of kind https) and the object's name."""

    source: Location
    name: str


def url_problem(text: str) -> tuple[Location | None, str]:
    """The URL as a location, or why it cannot be one (one line)."""
    typed = text.strip()
    if not typed:
        return None, "type an https:// URL"
    if not typed.lower().startswith(("https://", "http://")):
        return None, "only https:// URLs (http:// to localhost) can be uploaded from"
    try:
        loc = parse_location(typed)
    except LocationError as exc:
        return None, one_line(exc)
    if loc.kind != "https":
        return None, "only https:// URLs (http:// to localhost) can be uploaded from"
    return loc, ""


def name_problem(name: str) -> str:
    """Why ``name`` cannot be the object's name in this prefix ("" when it can)."""
    if not name:
        return "type a name for the object"
    if "/" in name or name in (".", ".."):
        return "a name cannot contain / (nor be . or ..)"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "a name cannot contain control characters"
    return ""


class UrlDialog(ModalScreen[UrlUpload | None]):
    """The URL, the name it gets (from the URL, editable), and what is wrong with them as you type."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, where: str, existing: Collection[str] = (), *, url: str = "") -> None:
        """``where``: the pane's location (shown); ``existing``: the names already there (an upload of one of them
        replaces it: the dialog says so)."""
        super().__init__(classes="dialog-screen")
        self._where = where
        self._existing = set(existing)
        self._url = url
        #: the name follows the URL until the user edits it
        self._name_edited = False
        self._auto_name = ""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Upload from a URL", classes="dialog-title")
            yield Static(Text("into " + display_text(self._where), no_wrap=True))
            yield Input(value=self._url, placeholder="https://host/path/file", id="url")
            yield Input(placeholder="name", id="name")
            yield Static("", id="url-error", classes="error-line")
            yield Static(
                Text("Streamed into the bucket (never to disk); t shows the progress, x cancels.", style="dim")
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Upload", variant="primary", id="ok", disabled=True, compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#url", Input).focus()
        self._check()

    @on(Input.Changed, "#url")
    def _url_changed(self, event: Input.Changed) -> None:
        event.stop()
        loc, _ = url_problem(event.value)
        name_box = self.query_one("#name", Input)
        if not self._name_edited:
            self._auto_name = loc.name if loc is not None else ""
            name_box.value = self._auto_name
        self._check()

    @on(Input.Changed, "#name")
    def _name_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self._auto_name:
            self._name_edited = True
        self._check()

    def _check(self) -> UrlUpload | None:
        loc, problem = url_problem(self.query_one("#url", Input).value)
        name = self.query_one("#name", Input).value.strip()
        if not problem:
            problem = name_problem(name)
        line = Text(display_text(problem), style="red") if problem else Text()
        if not problem and name in self._existing:
            line = Text(display_text(f"{name} exists here: the upload replaces it"), style="yellow")
        self.query_one("#url-error", Static).update(line)
        self.query_one("#ok", Button).disabled = bool(problem)
        return UrlUpload(loc, name) if loc is not None and not problem else None

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "url" and self._check() is not None and not self._name_edited:
            self.query_one("#name", Input).focus()  # Enter on the URL: look at the name, Enter again uploads
            return
        self._ok()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        choice = self._check()
        if choice is not None:
            self.dismiss(choice)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def remote_prefix_problem(loc: Location | None) -> str:
    """Why a pane at ``loc`` cannot take a URL upload ("" when it can)."""
    if loc is None or loc.kind not in ("s3", "azure") or loc.is_bucket_list:
        return "Uploads from a URL go into a bucket: open one in this pane first"
    return ""


def ask_url(
    where: Location | None,
    existing: Collection[str],
    push: Callable[[UrlDialog, Callable[[UrlUpload | None], None]], object],
    notify: Callable[[str], None],
    start: Callable[[Location, Location], None],
) -> None:
    """``U``: ask for a URL and a name, then ``start(source, destination)`` (the app's transfer worker)."""
    problem = remote_prefix_problem(where)
    if problem:
        notify(problem)
        return
    assert where is not None

    def chosen(choice: UrlUpload | None) -> None:
        if choice is not None:
            start(choice.source, where.child(choice.name))

    push(UrlDialog(str(where), existing), chosen)


__all__ = ["UrlDialog", "UrlUpload", "ask_url", "name_problem", "remote_prefix_problem", "url_problem"]
