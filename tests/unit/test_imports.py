"""The engine never imports Textual (import-linter checks the static graph; this checks what really loads)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


#: what a one-key `ls` never needs: the TUI, the other cloud, boto3's resource layer, progress rendering
NEVER_FOR_LS = ("textual", "tui.ui", "azure", "boto3", "rich")
#: the SDK (control plane): not needed where the native plane serves the listing (rclone serve s3)
SDK = ("aiobotocore", "botocore", "aiohttp")


def _ls_modules(server: Any, tmp_path: Path, location: str) -> tuple[str, set[str]]:
    """Run `cloudpane ls LOCATION` in a fresh interpreter; return its stdout and the top-level modules it loaded."""
    dump = tmp_path / "modules.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
        f"sys.argv = ['cloudpane', 'ls', {location!r}]\n"
        "from tui.cli import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDPANE_"))}
    env.update(server.env())
    for name in ("CONFIG", "STATE", "CACHE"):
        env[f"CLOUDPANE_{name}_DIR"] = str(tmp_path / name.lower())
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout, set(dump.read_text().split("\n"))


def _loaded(modules: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in roots or m.startswith(tuple(f"{r}." for r in roots)))


@pytest.mark.parametrize("kind", ["rclone", "moto"])
def test_a_one_key_ls_loads_only_what_it_needs(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server = request.getfixturevalue(f"{kind}_server")
    client = server.boto3_client()
    bucket = f"imports-{kind}-{os.getpid()}"
    client.create_bucket(Bucket=bucket)
    try:
        client.put_object(Bucket=bucket, Key="one/onekey", Body=b"hi")
        out, modules = _ls_modules(server, tmp_path, f"s3://{bucket}/one/")
        assert out.split()[-1] == "onekey" and out.split()[-2] == "2", out
        assert _loaded(modules, NEVER_FOR_LS) == []
        if kind == "rclone":
            # keys are paths there: the native plane lists, and the server kind is probed without the SDK
            assert _loaded(modules, SDK) == []
            assert "obstore" in modules
        else:
            # moto can hold folder markers, which object_store cannot tell from files: the SDK lists there
            assert "aiobotocore" in modules
    finally:
        client.delete_object(Bucket=bucket, Key="one/onekey")
        client.delete_bucket(Bucket=bucket)
        client.close()
