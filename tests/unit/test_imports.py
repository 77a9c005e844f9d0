"""The engine never imports Textual (import-linter checks the static graph; this checks what really loads)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

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


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(lint), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    """`make lint` runs lint-imports: the layers, the no-concrete-store and the acyclic contracts are kept."""
    done = _lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("Layers:", "know no concrete store", "No import cycles", "never imports Textual"):
        assert f"{name}" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # a store reaching up into the engine: a layer violation
        ("tui/storage/base.py", "import tui.transfer.plan", "Layers:"),
        # the UI naming a concrete store instead of the protocols and the hub
        ("tui/ui/transfers.py", "import tui.storage.s3", "know no concrete store"),
        # the old cycle: errors importing safety while safety imports errors
        ("tui/errors.py", "import tui.safety", "Layers:"),
    ],
)
def test_the_contracts_catch_a_violation(tmp_path: Path, module: str, line: str, contract: str) -> None:
    """The contracts are real: one forbidden import added to a copy of the package breaks the named one."""
    shutil.copytree(REPO / "tui", tmp_path / "tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, done.stdout
