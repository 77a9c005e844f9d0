"""The engine never imports Textual (import-linter checks the static graph; this checks what really loads)."""

from __future__ import annotations

import subprocess
import sys

HEADLESS = [
    "tui.cli",
    "tui.storage.hub",
    "tui.storage.s3",
    "tui.storage.local",
    "tui.storage.http",
    "tui.transfer.copy",
    "tui.transfer.plan",
    "tui.transfer.journal",
    "tui.sync.backup",
    "tui.sync.twoway",
    "tui.demo",
]


def test_headless_modules_do_not_load_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in HEADLESS)
        + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'tui.ui')))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"headless modules pulled in: {out}"


def test_the_cli_starts_without_aiobotocore() -> None:
    """`cloudpane --help` and local-only commands stay fast: the S3 client loads on first use."""
    code = "import sys, tui.cli; print(any(m.startswith(('aiobotocore', 'aiohttp')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
