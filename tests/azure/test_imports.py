"""The Azure modules are headless and loaded on first use (import-linter checks the static graph; this checks what
really loads)."""

from __future__ import annotations

import subprocess
import sys


def _loaded(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_azure_modules_do_not_load_textual() -> None:
    code = (
        "import sys, tui.storage.azure.remote, tui.storage.azure.store, tui.storage.azure.writer\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'tui.ui')))))\n"
    )
    assert _loaded(code) == ""


def test_the_cli_and_the_hub_start_without_the_azure_sdk() -> None:
    code = (
        "import sys, tui.cli, tui.storage.hub, tui.storage.azure\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('azure'))))\n"
    )
    assert _loaded(code) == ""
