"""Where F5/F6 put what: Midnight Commander's rules on top of the engine's ``cp -r`` (which copies a folder's
*contents*).

- A folder goes as itself: ``bigset/`` onto ``s3://b/incoming/`` gives ``incoming/bigset/...``; with marked
  entries, each marked folder goes as itself and the files go beside them.
- A single entry onto a destination that is not a folder (the path typed in the dialog has no trailing ``/`` and
  is no existing directory) is copied *as* that name: a file to that key, a folder's contents into that prefix.
- A folder is never copied into itself or below itself, nor through a symlink in the destination folder
  (``dl/bigset -> /etc``): the engine roots a local destination at the folder it writes into.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tui.errors import UnsafePathError, UsageError
from tui.locations import Location
from tui.safety import display_text


@dataclass(frozen=True, slots=True)
class Batch:
    """One ``run_transfer`` call: these sources into that destination."""

    sources: list[Location]
    dst: Location
    recursive: bool = True


def as_folder(loc: Location) -> Location:
    """The same place as a folder (a trailing ``/``): what is copied goes inside it."""
    if loc.kind == "local":
        assert loc.path is not None
        return replace(loc, raw=str(loc.path) + "/")
    if loc.bucket is None or loc.key == "" or loc.key.endswith("/"):
        return loc
    folder = replace(loc, key=loc.key + "/")
    return replace(folder, raw=str(folder))


def _inside(folder: Location, target: Location) -> bool:
    """Whether ``target`` is ``folder`` or below it (same remote and bucket, or the same local tree)."""
    if folder.kind != target.kind:
        return False
    if folder.kind == "local":
        assert folder.path is not None and target.path is not None
        base = os.path.realpath(folder.path)
        there = os.path.realpath(target.path)
        return there == base or there.startswith(base.rstrip("/") + "/")
    if (folder.remote, folder.bucket) != (target.remote, target.bucket):
        return False
    prefix = folder.key if folder.key.endswith("/") else folder.key + "/"
    key = target.key if target.key.endswith("/") or not target.key else target.key + "/"
    return key.startswith(prefix)


def plan(files: Sequence[Location], folders: Sequence[Location], dst: Location) -> list[Batch]:
    """The transfers for the marked ``files`` and ``folders`` (locations of folders end in ``/``) onto ``dst``.
    Raises UsageError (one line) for a folder copied into itself."""
    single = len(files) + len(folders) == 1
    if single and not dst.is_prefix:
        # copy as: the one entry takes the typed name
        if files:
            return [Batch([files[0]], dst, recursive=False)]
        target = as_folder(dst)
        _refuse_into_itself(folders[0], target)
        return [Batch([folders[0]], target)]
    base = as_folder(dst)
    batches: list[Batch] = []
    if files:
        batches.append(Batch(list(files), base))
    for folder in folders:
        target = base.child(folder.name + "/")
        _refuse_into_itself(folder, target)
        _refuse_symlink(target)
        batches.append(Batch([folder], target))
    return batches


def _refuse_symlink(target: Location) -> None:
    """The folder made below the destination the user chose must not be a symlink planted there: the copy
    would write wherever it points."""
    if target.kind == "local" and target.path is not None and target.path.is_symlink():
        raise UnsafePathError(f"{display_text(str(target.path))}: refusing to write through a symlink")


def _refuse_into_itself(folder: Location, target: Location) -> None:
    if _inside(folder, target):
        raise UsageError(
            f"cannot copy the folder {display_text(str(folder))} into itself ({display_text(str(target))})"
        )
