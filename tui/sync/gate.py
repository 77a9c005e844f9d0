"""The one delete gate of backup, two-way sync and the TUI's compare panes.

Deletes run last, and only when the gate lets them:

- never after any error: a failed transfer, or a listing that failed part way (an unreadable folder, a failed
  page) skips every delete of the run (exit 1, with the failures listed);
- never because a side is empty: a side that lists nothing (a wrong path, an unmounted disk, a prefix emptied
  by another client) deletes nothing on the other side (exit 5) without ``--force``;
- never more than ``--max-delete`` of what the other side held (a backup: the destination's count; a two-way
  sync: the count the last sync recorded): by default 50 %, or a number of objects, or ``N%`` (exit 5) without
  ``--force``.

A missing side (a local directory that does not exist, a bucket that does not exist) never reaches the gate: it
is "not found" (exit 4) before anything runs. An S3 prefix with nothing under it is empty, not missing.
Each refusal is one line.
"""

from __future__ import annotations

import os
import re
import stat as stat_mod
from dataclasses import dataclass, field
from pathlib import Path

from tui.errors import NotFoundError, UsageError
from tui.safety import display_text
from tui.storage.base import Store

_LIMIT = re.compile(r"^\s*(\d+)\s*(%?)\s*$")


@dataclass(frozen=True, slots=True)
class DeleteLimit:
    """``--max-delete``: a number of objects, or a percentage (``50%``) of what the side held."""

    count: int | None = None
    percent: int = 50

    @classmethod
    def parse(cls, text: str | int | None) -> DeleteLimit:
        if text is None:
            return cls()
        if isinstance(text, int):
            return cls(count=text)
        m = _LIMIT.match(text)
        if m is None or (m.group(2) and int(m.group(1)) > 100):
            raise UsageError(
                f"--max-delete {display_text(text)}: expected a number of objects (10) or a percentage (30%)"
            )
        return cls(percent=int(m.group(1))) if m.group(2) else cls(count=int(m.group(1)))

    def of(self, known: int) -> int:
        """The most deletes allowed when the side held ``known`` objects."""
        return self.count if self.count is not None else known * self.percent // 100


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the gate decided for one batch of deletes. ``allowed``: run them. Otherwise ``skipped`` (errors came
    first: the run already fails with exit 1) or ``refusal`` (exit 5), each one line."""

    allowed: bool
    skipped: str | None = None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteGate:
    limit: DeleteLimit = field(default_factory=DeleteLimit)
    force: bool = False

    def verdict(
        self,
        *,
        pending: int,
        errors: int,
        listed: int,
        known: int,
        noun: str = "object(s)",
        where: str = "at the destination",
        empty: str = "the source is empty (wrong path, or unmounted disk?)",
    ) -> Verdict:
        """``pending`` deletes of ``noun`` ``where``, because they are gone from a side that ``listed`` entries
        (and held ``known`` entries, by the other side's count or the last sync's); ``errors``: failures so far."""
        if pending == 0:
            return Verdict(True)
        if errors:
            return Verdict(
                False, skipped=f"{pending} deletion(s) not done: {errors} item(s) failed or could not be listed"
            )
        if self.force:
            return Verdict(True)
        if listed == 0:
            return Verdict(False, refusal=f"refusing to delete {pending} {noun}: {empty}; use --force if you mean it")
        limit = self.limit.of(known)
        if pending > limit:
            return Verdict(
                False,
                refusal=f"refusing to delete {pending} of {known} {noun} {where} (limit {limit}); "
                "check the source, then use --force or --max-delete",
            )
        return Verdict(True)


async def require_dir(store: Store, label: str) -> None:
    """A local side must be an existing directory (exit 4 otherwise); a bucket side is checked by its listing
    (no such bucket: exit 4), and a prefix with nothing under it is just empty."""
    if store.features.buckets:
        return
    try:
        info = await store.stat("")
    except NotFoundError:
        raise NotFoundError(f"{display_text(label)}: no such directory") from None
    if info.mode is not None and not stat_mod.S_ISDIR(info.mode):
        raise NotFoundError(f"{display_text(label)}: not a directory")


def local_key(path: Path) -> str:
    """A local side as a comparable string: the real path, ending in ``/``."""
    real = os.path.realpath(path)
    return real if real.endswith("/") else real + "/"


def overlap(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Whether two sides (store identity, path or prefix ending in ``/`` or empty) are the same place or one holds
    the other."""
    if a[0] != b[0]:
        return False
    return a[1].startswith(b[1]) or b[1].startswith(a[1])
