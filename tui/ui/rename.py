"""Shift+F6 / R: rename in place.

- Local: one ``rename(2)`` that never replaces what is there (``renameat2(RENAME_NOREPLACE)``; where the kernel or
  the file system lacks it, a hard link then an unlink for a file, a check then a rename for a folder). Replacing
  an existing file happens only after the user confirmed it; an existing folder is never replaced.
- S3 and Azure: a server-side copy (the store's ``copy``, through the transfer engine and its queue, so that it
  shows in the transfers panel), then the delete of the source, only once its copy is complete. A folder (prefix)
  is every key under it, moved the same way. An existing name is overwritten only when confirmed; a folder onto an
  existing folder is refused.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.errors import ConflictError, StoreError
from tui.safety import display_text

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1


def name_problem(name: str, old: str, *, local: bool) -> str | None:
    """Why ``name`` cannot be the new name of ``old`` (one line), or None."""
    if not name:
        return "type a name"
    if name == old:
        return "that is the current name"
    if "/" in name:
        return "a name cannot contain /"
    if name in (".", ".."):
        return f"{name} cannot be a name"
    if "\x00" in name:
        return "a name cannot contain NUL"
    if local and len(os.fsencode(name)) > 255:
        return "too long for a local name (255 bytes)"
    return None


def _renameat2(src: Path, dst: Path) -> bool:
    """``renameat2(src, dst, RENAME_NOREPLACE)``: True when done; False when this kernel or file system has no
    such call; raises FileExistsError when ``dst`` exists, OSError otherwise."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(src), None, str(dst))


def rename_local(src: Path, dst: Path, *, overwrite: bool = False) -> None:
    """Rename ``src`` (a file, a folder or a symlink: the link itself) to ``dst`` in the same folder. Raises
    ConflictError when ``dst`` exists (unless ``overwrite`` and both are files), StoreError with one line else."""
    what = f"rename {display_text(str(src))} to {display_text(dst.name)}"
    try:
        if overwrite and os.path.lexists(dst):
            if dst.is_dir() and not dst.is_symlink():
                raise ConflictError(f"{what}: a folder of that name exists (folders are never replaced)")
            if src.is_dir() and not src.is_symlink():
                raise ConflictError(f"{what}: a file of that name exists")
            os.replace(src, dst)
            return
        if _renameat2(src, dst):
            return
        if src.is_dir() and not src.is_symlink():
            if os.path.lexists(dst):
                raise FileExistsError(errno.EEXIST, "exists", str(dst))
            os.rename(src, dst)  # not atomic against a racing creator: no such call on this file system
            return
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS):
                raise
            if os.path.lexists(dst):
                raise FileExistsError(errno.EEXIST, "exists", str(dst)) from exc
            os.rename(src, dst)
            return
        os.unlink(src)
    except FileExistsError as exc:
        raise ConflictError(f"{what}: that name exists") from exc
    except FileNotFoundError as exc:
        raise StoreError(f"{what}: no such file") from exc
    except OSError as exc:
        raise StoreError(f"{what}: {exc.strerror or exc}") from exc


class RenameDialog(ModalScreen[str | None]):
    """The new name, checked as you type; Enter renames, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, where: str, old: str, *, local: bool, folder: bool) -> None:
        super().__init__(classes="dialog-screen")
        self._where, self._old, self._local, self._folder = where, old, local, folder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Rename", classes="dialog-title")
            what = "the folder" if self._folder else "the file" if self._local else "the object"
            body = Text(f"Rename {what} ")
            body.append(display_text(self._old), style="bold")
            body.append("\nin " + display_text(self._where))
            if not self._local:
                how = "every key under it is copied server-side" if self._folder else "a server-side copy"
                body.append(f"\n({how}, then the original is deleted)", style="dim")
            yield Static(body)
            yield Label("New name:")
            yield Input(value=self._old, id="name", select_on_focus=False)
            yield Static("", id="name-error", classes="error-line")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Rename", variant="primary", id="ok", compact=True, disabled=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        box = self.query_one("#name", Input)
        box.focus()
        box.cursor_position = len(box.value)

    def _problem(self, name: str) -> str | None:
        return name_problem(name, self._old, local=self._local)

    @on(Input.Changed, "#name")
    def _validate(self, event: Input.Changed) -> None:
        reason = self._problem(event.value)
        shown = "" if event.value == self._old else reason or ""
        self.query_one("#name-error", Static).update(Text(display_text(shown)))
        self.query_one("#ok", Button).disabled = reason is not None

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        name = self.query_one("#name", Input).value
        reason = self._problem(name)
        if reason is not None:
            self.query_one("#name-error", Static).update(Text(display_text(reason)))
            return
        self.dismiss(name)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
