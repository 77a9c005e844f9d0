"""F3: look inside an object. Its first 256 KiB, read with one ranged read; text as text, anything else as hex.

The bytes are untrusted: every line goes through ``display_text`` (no control characters, no bidi tricks) and the
widget that shows them never parses markup. A read-only ``TextArea`` draws only the lines in view, so a hex dump of
256 KiB (16,384 lines) scrolls as fast as a short file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from tui.safety import display_text
from tui.storage.base import Store

#: how much of an object the viewer reads
PREVIEW_BYTES = 256 * 1024
#: hex dump: bytes per line
HEX_WIDTH = 16


@dataclass(frozen=True, slots=True)
class Preview:
    """The first bytes of an object, and what is known of the whole."""

    data: bytes
    size: int

    @property
    def truncated(self) -> bool:
        return self.size > len(self.data)


async def read_preview(store: Store, key: str, *, limit: int = PREVIEW_BYTES) -> Preview:
    """``stat`` for the size, then one ranged read of at most ``limit`` bytes (none for an empty object: a range
    on zero bytes is an error on S3)."""
    info = await store.stat(key)
    end = min(info.size, limit)
    chunks: list[bytes] = []
    got = 0
    if end > 0:
        async for chunk in store.read(key, start=0, end=end, if_match=info.etag):
            chunks.append(chunk)
            got += len(chunk)
            if got >= end:
                break
    return Preview(b"".join(chunks)[:end], info.size)


def as_text(data: bytes, *, truncated: bool) -> str | None:
    """The bytes as UTF-8 text, or None when they are not text (a NUL, invalid UTF-8). A character cut by the end
    of a truncated preview does not make it binary."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8", errors="strict")
        return None


def text_lines(text: str) -> list[str]:
    """Lines of untrusted text, each safe to show: tabs expanded (on the escaped text, so columns line up as
    shown), a CRLF's CR dropped, every other control character as a visible escape."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [
        "\t".join(display_text(part) for part in line.removesuffix("\r").split("\t")).expandtabs(8) for line in lines
    ]


def hex_lines(data: bytes, *, width: int = HEX_WIDTH) -> list[str]:
    """``00000000  68 65 6c 6c 6f 0a                                 |hello.|``: printable ASCII on the right."""
    out: list[str] = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        half = width // 2
        if len(chunk) > half:  # a gap in the middle, as hexdump -C
            hexes = hexes[: half * 3 - 1] + "  " + hexes[half * 3 :]
        shown = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        out.append(f"{offset:08x}  {hexes:<{width * 3 + 1}} |{shown}|")
    return out


def render(preview: Preview, *, hex_width: int = HEX_WIDTH) -> tuple[str, str]:
    """(kind, content): "text" or "hex", and the lines to show, joined."""
    text = as_text(preview.data, truncated=preview.truncated)
    if text is None:
        return "hex", "\n".join(hex_lines(preview.data, width=hex_width))
    return "text", "\n".join(text_lines(text))


def summary(preview: Preview, kind: str) -> str:
    """The line under the title: size, how it is shown, and whether it is cut."""
    from tui.ui.pane import compact_size

    line = f"{compact_size(preview.size)} · {kind}"
    if preview.truncated:
        line += f" · truncated: the first {compact_size(len(preview.data))} of {compact_size(preview.size)} shown"
    elif preview.size == 0:
        line += " · empty"
    return line


class Pager(TextArea):
    """A read-only TextArea where Home and End go to the first and the last line (as in Midnight Commander's
    viewer), not to the ends of the current line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,ctrl+home", "document_start", "Top", show=False),
        Binding("end,ctrl+end", "document_end", "Bottom", show=False),
    ]

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor((self.document.line_count - 1, 0))


class ViewerScreen(ModalScreen[None]):
    """The object's first bytes, scrollable (arrows, PgUp/PgDn, Home/End to the top and the bottom); Esc, q or F3
    closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f3,f10", "close", "Close"),
    ]

    def __init__(self, where: str, preview: Preview) -> None:
        super().__init__(classes="dialog-screen")
        self.where = where
        self.preview = preview
        self.kind, self.content = "", ""

    def compose(self) -> ComposeResult:
        # 16 bytes a line need 78 columns: narrower terminals (80x24 and its dialog borders) get 8
        self.kind, self.content = render(self.preview, hex_width=HEX_WIDTH if self.app.size.width >= 90 else 8)
        with Vertical(classes="dialog wide tall viewer"):
            yield Label(Text("View " + display_text(self.where), no_wrap=True), classes="dialog-title")
            yield Static(Text(summary(self.preview, self.kind)), id="viewer-summary", classes="dim")
            area = Pager(
                self.content,
                read_only=True,
                soft_wrap=self.kind == "text",
                show_line_numbers=False,
                id="viewer-text",
                compact=True,
            )
            area.highlight_cursor_line = False
            yield area
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", variant="primary", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
