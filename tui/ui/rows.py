"""The rows of a pane and how their cells look: names (untrusted, escaped), sizes and dates at three widths.

No Textual here: :mod:`tui.ui.listing` keeps the rows, :mod:`tui.ui.table` draws the visible ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import humanize
from rich.text import Text

from tui.safety import display_text

RowKind = Literal["up", "bucket", "dir", "file", "deleted"]

#: the key of the ``..`` row (no store key starts with NUL)
UP_KEY = "\x00up"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a pane. ``key`` is the store key (bucket name for buckets)."""

    kind: RowKind
    name: str
    key: str
    size: int | None = None
    modified: datetime | None = None
    storage_class: str | None = None

    @property
    def is_container(self) -> bool:
        return self.kind in ("up", "bucket", "dir")


_UNITS = (("TiB", "T"), ("GiB", "G"), ("MiB", "M"), ("KiB", "K"))


def compact_size(n: int) -> str:
    """At most 7 characters: ``512 B``, ``46.0K``, ``2.0M``, ``1023.9G``."""
    if n < 1024:
        return f"{n} B"
    text = humanize.naturalsize(n, binary=True, format="%.1f")
    for long, short in _UNITS:
        text = text.replace(f" {long}", short)
    return text


def tiny_size(n: int) -> str:
    """At most 5 characters, as Midnight Commander shrinks them: ``512``, ``9999``, ``46K``, ``1023M``."""
    value = n
    for unit in ("", "K", "M", "G", "T", "P"):
        if value < 10_000:
            return f"{value}{unit}"
        value //= 1024
    return f"{value}E"


def mc_time(when: datetime | None, now: datetime | None = None) -> str:
    """Midnight Commander's 12-column date: ``Nov 21 23:59`` within half a year, else ``Nov 21  2025``."""
    if when is None:
        return ""
    local = when.astimezone()
    now = now or datetime.now(local.tzinfo)
    if abs((now - local).days) < 183:
        return local.strftime("%b %d %H:%M")
    return local.strftime("%b %d  %Y")


def short_time(when: datetime | None, now: datetime | None = None) -> str:
    """At most 7 columns: ``Nov 21`` within half a year, else the month and year, ``Jan '25``."""
    if when is None:
        return ""
    local = when.astimezone()
    now = now or datetime.now(local.tzinfo)
    if abs((now - local).days) < 183:
        return local.strftime("%b %d")
    return local.strftime("%b '%y")


_LABELS = {"up": ("UP-DIR", "UP"), "dir": ("DIR", "DIR"), "bucket": ("BUCKET", "BKT"), "deleted": ("DEL", "DEL")}
_LABEL_STYLES = {"up": "dim", "dir": "dim", "bucket": "dim", "deleted": "red"}


def size_cell(row: Row, width: int) -> Text:
    """The size column, right-aligned in ``width`` (7: ``46.0K``; 5: ``46K``)."""
    if row.kind in _LABELS:
        full, short = _LABELS[row.kind]
        text = Text(full if width >= 7 else short, style=_LABEL_STYLES[row.kind])
    else:
        n = row.size or 0
        text = Text(compact_size(n) if width >= 7 else tiny_size(n))
    text.truncate(width, overflow="crop")
    text.align("right", width)
    return text


def date_cell(row: Row, width: int) -> Text:
    """The date column: 13 columns (`` Nov 21 23:59``), 8 (`` Nov 21``, `` Jan '25``) or none."""
    if width <= 0:
        return Text("")
    text = Text(" " + (mc_time(row.modified) if width >= 13 else short_time(row.modified)))
    text.truncate(width, overflow="crop", pad=True)
    return text


def row_name(row: Row, marked: bool) -> Text:
    """The name cell: untrusted text, escaped, never parsed as markup."""
    label = display_text(row.name + ("/" if row.kind == "dir" else ""))
    text = Text(("* " if marked else "  ") + label)
    if marked:
        text.stylize("bold yellow")
    elif row.kind == "deleted":
        text.stylize("red strike")
    elif row.is_container:
        text.stylize("bold")
    return text


@dataclass(frozen=True, slots=True)
class Columns:
    """How a width is shared: the name takes what the size and the date leave."""

    name: int
    size: int
    date: int


#: the name column gets at least this much before the size and date columns give way
NAME_MIN = 20
_LEVELS = ((7, 13), (7, 8), (7, 0), (5, 0))


def fit_columns(width: int) -> Columns:
    """Dates shrink first (13 -> 7 -> gone), then sizes (7 -> 5); the name takes the rest."""
    for size, date in _LEVELS:
        if width - size - date >= NAME_MIN:
            return Columns(width - size - date, size, date)
    size, date = _LEVELS[-1]
    return Columns(max(1, width - size - date), size, date)


def header_cells(columns: Columns) -> list[Text]:
    size = Text("Size")
    size.truncate(columns.size, overflow="crop")
    size.align("right", columns.size)
    cells = [Text("  Name"), size]
    if columns.date:
        date = Text(" Modified" if columns.date >= 13 else " Date")
        date.truncate(columns.date, overflow="crop", pad=True)
        cells.append(date)
    return cells
