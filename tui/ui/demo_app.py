"""``cloudpane --demo``: the app on the demo server, telling the truth about its temporary sample folder.

- The first screen says that the left pane is a temporary folder, removed on exit with whatever is copied into it,
  and that the S3 server is a local moto in a child process that starts afresh each time.
- A pane inside that folder says "temporary" in its title.
- Quitting after files were copied into (or changed in) the folder asks first, naming them.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on

from tui.locations import Location
from tui.safety import display_text
from tui.ui.app import CloudpaneApp
from tui.ui.dialogs import ConfirmDialog, MessageDialog
from tui.ui.pane import StorePane

TEMPORARY_MARK = "temporary: removed on exit"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``root``: relative path -> (size, mtime in ns)."""
    out: dict[str, tuple[int, int]] = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def changed_files(root: Path, before: dict[str, tuple[int, int]]) -> list[str]:
    """Files below ``root`` that are new or changed since ``before``, sorted."""
    now = snapshot(root)
    return sorted(name for name, sig in now.items() if before.get(name) != sig)


def notice(sample: Path, endpoint: str) -> Text:
    text = Text()
    text.append("The left pane is a temporary sample folder:\n", style="bold")
    text.append("  " + display_text(str(sample)) + "/\n")
    text.append("It is deleted when cloudpane exits, with anything you copy into it.\n\n", style="bold yellow")
    text.append("The right pane is a demo S3 server (moto) at " + display_text(endpoint))
    text.append(", in a child process: its buckets start afresh on every run and go away on exit.\n\n")
    text.append("F1 or ? lists the keys. Enter or Esc to start.", style="dim")
    return text


class DemoApp(CloudpaneApp):
    """The app with the demo's notice, title mark and quit reminder."""

    def __init__(self, left: Location, right: Location, *, sample: Path, endpoint: str) -> None:
        super().__init__(left, right)
        self.sample = sample
        self.endpoint = endpoint
        self._before = snapshot(sample)
        self._reminded = False
        self._asking = False

    def on_mount(self) -> None:
        # (CloudpaneApp's own on_mount runs too: Textual calls the handler of every class)
        self.push_screen(MessageDialog("Demo mode", notice(self.sample, self.endpoint)))
        for pane in (self.left, self.right):
            self._mark(pane)

    def _inside(self, loc: Location | None) -> bool:
        if loc is None or loc.kind != "local" or loc.path is None:
            return False
        here, root = os.path.realpath(loc.path), os.path.realpath(self.sample)
        return here == root or here.startswith(root + os.sep)

    def _mark(self, pane: StorePane) -> None:
        if self._inside(pane.location):
            pane.set_title_mark(TEMPORARY_MARK)
        elif pane.title_mark == TEMPORARY_MARK:
            pane.set_title_mark("")

    @on(StorePane.Navigated)
    def _demo_navigated(self, event: StorePane.Navigated) -> None:
        self._mark(event.pane)

    async def action_quit(self) -> None:
        """Before the usual quit: when files were copied into the temporary folder, say that they go with it."""
        if self._asking:
            return
        if self._reminded or self._quitting:
            await super().action_quit()
            return
        changed = changed_files(self.sample, self._before)
        if not changed:
            await super().action_quit()
            return
        body = Text()
        body.append(f"{len(changed)} file(s) you copied into the temporary sample folder", style="bold")
        body.append(" are deleted on exit:\n\n")
        for name in changed[:6]:
            body.append("  " + display_text(name) + "\n")
        if len(changed) > 6:
            body.append(f"  … and {len(changed) - 6} more\n")
        body.append("\nin " + display_text(str(self.sample)) + "/\n\nCopy them somewhere else first to keep them.")
        quit_now = super().action_quit

        def chosen(answer: str | None) -> None:
            self._asking = False
            if answer:
                self._reminded = True
                self.run_worker(quit_now(), name="quit", group="quit", exit_on_error=False)

        self._asking = True
        self.push_screen(ConfirmDialog("Quit the demo?", body, confirm="Quit", danger=True), chosen)
