"""What a pane holds: every row of a listing, kept sorted as pages arrive, and the visible (filtered) part.

Sized for prefixes of 100,000+ keys: a page is inserted in order (an append when it sorts after what is there,
a bisection otherwise), never re-sorted or re-rendered as a whole; a row is found by key in O(1) (its position
in O(log n)); the counters of the status line are kept as rows arrive. Filtering is one pass, sorting one sort.
No Textual here: :class:`tui.ui.table.PaneTable` draws what is visible.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from operator import attrgetter
from typing import Literal

from tui.ui.rows import UP_KEY, Row

SortBy = Literal["name", "size", "modified"]
MarkOp = Literal["mark", "unmark", "invert"]

SortKey = tuple[bool, str, str] | tuple[bool, int, str, str] | tuple[bool, float, str, str]


def _by_name(row: Row) -> SortKey:
    return (not row.is_container, row.name, row.key)


def _by_size(row: Row) -> SortKey:
    return (not row.is_container, -(row.size or 0), row.name, row.key)


def _by_modified(row: Row) -> SortKey:
    return (not row.is_container, -(row.modified.timestamp() if row.modified else 0.0), row.name, row.key)


_OLDEST = datetime.min.replace(tzinfo=UTC)


_CONTAINERS = frozenset({"up", "bucket", "dir"})
_BY_SIZE = attrgetter("size")
_BY_MODIFIED = attrgetter("modified")


def _size(row: Row) -> int:
    return row.size or 0


def _modified(row: Row) -> datetime:
    return row.modified or _OLDEST


SORT_KEYS: dict[SortBy, Callable[[Row], SortKey]] = {"name": _by_name, "size": _by_size, "modified": _by_modified}


@dataclass(frozen=True, slots=True)
class Totals:
    """What the status line says about the listing (hidden rows included)."""

    items: int
    files: int
    bytes: int
    hidden: int
    marked: int
    marked_bytes: int


class Listing:
    """The rows of one listing, sorted; ``len`` and indexing are over the visible rows (``..`` first)."""

    def __init__(self) -> None:
        self.up: Row | None = None
        self.by_key: dict[str, Row] = {}
        self.marks: set[str] = set()
        self.sort_by: SortBy = "name"
        self.show_hidden = False
        self.filter_text = ""
        self._all: list[Row] = []  # every row but "..", in sort order
        self._name_order: list[Row] | None = None  # the rows in name order while sorted otherwise (None: stale)
        self._shown: list[Row] = []  # the visible ones, in sort order
        self._files = 0
        self._bytes = 0
        self._hidden = 0

    # -- filling ----------------------------------------------------------------------------------------------
    def reset(self, up: Row | None = None) -> None:
        """Empty, for a new listing (the marks stay: the caller clears them when the location changes)."""
        self.up = up
        self.by_key = {} if up is None else {up.key: up}
        self._all = []
        self._name_order = None
        self._shown = []
        self._files = self._bytes = self._hidden = 0

    def add(self, rows: Iterable[Row]) -> int:
        """Insert rows in sort order; a key already listed is skipped. Returns how many were added."""
        sort_key = SORT_KEYS[self.sort_by]
        all_rows, shown, by_key = self._all, self._shown, self.by_key
        if self.sort_by != "name":
            self._name_order = None  # sorted again when next asked for
        added = 0
        for row in rows:
            if row.key in by_key:
                continue
            by_key[row.key] = row
            added += 1
            k = sort_key(row)
            if not all_rows or sort_key(all_rows[-1]) <= k:
                all_rows.append(row)
            else:
                bisect.insort(all_rows, row, key=sort_key)
            if self._keeps(row):
                if not shown or sort_key(shown[-1]) <= k:
                    shown.append(row)
                else:
                    bisect.insort(shown, row, key=sort_key)
            if row.kind == "file":
                self._files += 1
                self._bytes += row.size or 0
            if row.name.startswith("."):
                self._hidden += 1
        return added

    # -- what is shown ----------------------------------------------------------------------------------------
    def _keeps(self, row: Row) -> bool:
        if not self.show_hidden and row.name.startswith("."):
            return False
        return not self.filter_text or self.filter_text.lower() in row.name.lower()

    def _refilter(self) -> None:
        if self.show_hidden and not self.filter_text:
            self._shown = list(self._all)
            return
        needle = self.filter_text.lower()
        hidden_ok = self.show_hidden
        self._shown = [
            r
            for r in self._all
            if (hidden_ok or not r.name.startswith(".")) and (not needle or needle in r.name.lower())
        ]

    def set_view(self, *, show_hidden: bool | None = None, filter_text: str | None = None) -> None:
        if show_hidden is not None:
            self.show_hidden = show_hidden
        if filter_text is not None:
            self.filter_text = filter_text
        self._refilter()

    def set_sort(self, sort_by: SortBy) -> None:
        """Sort again, in the order of SORT_KEYS but without a key tuple per row: from the rows in name order (kept
        from the last time they were, unless rows arrived since), folders and files apart, one stable pass on one
        attribute (a C-level getter where no value is None)."""
        by_name = self._all if self.sort_by == "name" else self._name_order
        if by_name is None:
            by_name = sorted(self._all, key=_by_name)
        self.sort_by = sort_by
        if sort_by == "name":
            self._all, self._name_order = by_name, None
            self._refilter()
            return
        self._name_order = by_name
        folders = [r for r in by_name if r.kind in _CONTAINERS]
        files = [r for r in by_name if r.kind not in _CONTAINERS]
        for part in (folders, files):
            if sort_by == "size":
                sizes = _BY_SIZE if all(r.size is not None for r in part) else _size
                part.sort(key=sizes, reverse=True)  # reverse keeps a sort stable: equal sizes stay by name
            else:
                dates = _BY_MODIFIED if all(r.modified is not None for r in part) else _modified
                part.sort(key=dates, reverse=True)
        self._all = folders + files
        self._refilter()

    def __len__(self) -> int:
        return len(self._shown) + (self.up is not None)

    def __getitem__(self, index: int) -> Row:
        if self.up is not None:
            if index == 0:
                return self.up
            return self._shown[index - 1]
        return self._shown[index]

    def __iter__(self) -> Iterator[Row]:
        if self.up is not None:
            yield self.up
        yield from self._shown

    def visible(self) -> list[Row]:
        """The visible rows in order (a copy)."""
        return list(self)

    def rows(self) -> list[Row]:
        """Every row, hidden and filtered ones included, ``..`` first."""
        return ([self.up] if self.up is not None else []) + self._all

    def get(self, key: str) -> Row | None:
        return self.by_key.get(key)

    def index_of(self, key: str) -> int | None:
        """Where the row with this key is shown, or None (not listed, hidden or filtered out). O(log n)."""
        row = self.by_key.get(key)
        if row is None:
            return None
        if row.kind == "up":
            return 0 if self.up is row else None
        sort_key = SORT_KEYS[self.sort_by]
        i = bisect.bisect_left(self._shown, sort_key(row), key=sort_key)
        if i < len(self._shown) and self._shown[i] is row:
            return i + (self.up is not None)
        return None

    def neighbour_of(self, row: Row) -> int | None:
        """Where ``row`` is shown, or, when it is gone, the row that took its place (the next one, else the last)."""
        found = self.index_of(row.key)
        if found is not None:
            return found
        if not len(self):
            return None
        if row.kind == "up":
            return 0
        sort_key = SORT_KEYS[self.sort_by]
        i = bisect.bisect_left(self._shown, sort_key(row), key=sort_key)
        return min(i + (self.up is not None), len(self) - 1)

    # -- marks ------------------------------------------------------------------------------------------------
    def toggle_mark(self, row: Row) -> None:
        if row.kind == "up":
            return
        if row.key in self.marks:
            self.marks.discard(row.key)
        else:
            self.marks.add(row.key)

    def marked_rows(self) -> list[Row]:
        """The marked rows that are listed, in sort order (filtered-out ones included)."""
        if not self.marks:
            return []
        return [r for r in self._all if r.key in self.marks]

    def mark_pattern(self, pattern: str, op: MarkOp, *, files_only: bool = False, case_sensitive: bool = True) -> int:
        """Mark, unmark or invert the visible rows whose name matches a shell glob. Returns how many changed."""
        glob = pattern if case_sensitive else pattern.lower()
        changed = 0
        for row in self._shown:
            if files_only and row.kind != "file":
                continue
            name = row.name if case_sensitive else row.name.lower()
            if not fnmatchcase(name, glob):
                continue
            marked = row.key in self.marks
            if op == "mark" and not marked:
                self.marks.add(row.key)
            elif op == "unmark" and marked:
                self.marks.discard(row.key)
            elif op == "invert":
                if marked:
                    self.marks.discard(row.key)
                else:
                    self.marks.add(row.key)
            else:
                continue
            changed += 1
        return changed

    def totals(self) -> Totals:
        marked = [r for k in self.marks if (r := self.by_key.get(k)) is not None and r.kind != "up"]
        return Totals(
            items=len(self._all),
            files=self._files,
            bytes=self._bytes,
            hidden=self._hidden,
            marked=len(marked),
            marked_bytes=sum(r.size or 0 for r in marked if r.kind == "file"),
        )


__all__ = ["UP_KEY", "Listing", "MarkOp", "Row", "SortBy", "Totals"]
