"""Suite-wide setup: a sealed-off environment and the shared S3 servers.

Environment hygiene (``pytest_configure``, for the whole session):

* every ``AWS_*`` variable from the developer's shell (keys, session tokens,
  profiles, endpoint overrides, role/web-identity settings) is removed, and
  ``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE`` point at empty files,
  so no test can reach a real AWS account by accident;
* ``AWS_EC2_METADATA_DISABLED=true`` stops botocore probing 169.254.169.254;
* ``RCLONE_*`` and ``AZURE_STORAGE_*`` variables are removed as well;
* proxies are bypassed for 127.0.0.1 (``NO_PROXY``);
* ``CLOUDPANE_CONFIG_DIR`` / ``CLOUDPANE_STATE_DIR`` / ``CLOUDPANE_CACHE_DIR``
  point at fresh temporary directories.

The original environment is restored in ``pytest_unconfigure``.

Servers (see ``tests/servers.py``): ``moto_server``, ``rclone_server`` and ``azurite_server`` (Azure Blob,
from ``npm ci``) are
session-scoped, started once on a random 127.0.0.1 port and stopped at the end.
A server that cannot start raises, which errors every test that uses it: the
suite never skips for a missing server.  Tests that share a server should use
unique bucket names or call ``tests.servers.reset(server)``.

Parallel runs (``make test``: pytest-xdist, ``-n N --dist loadfile``): every worker is its own process with its
own session, so each runs ``pytest_configure`` (its own sealed environment and temporary directories, named after
the worker) and starts its own servers on its own random ports; nothing is shared between workers.  A test file
stays on one worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import AzuriteServer, S3Server, start_azurite, start_moto, start_rclone

_SCRUB_PREFIXES = ("AWS_", "RCLONE_", "AZURE_STORAGE_")
_saved_environ: dict[str, str] | None = None
_session_dir: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _saved_environ, _session_dir
    _saved_environ = dict(os.environ)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # gw0, gw1, ... under pytest-xdist
    _session_dir = Path(tempfile.mkdtemp(prefix=f"cloudpane-tests-{worker}-"))

    for name in list(os.environ):
        if name.startswith(_SCRUB_PREFIXES):
            del os.environ[name]

    aws_config = _session_dir / "aws-config"
    aws_credentials = _session_dir / "aws-credentials"
    aws_config.write_text("")
    aws_credentials.write_text("")
    os.environ["AWS_CONFIG_FILE"] = str(aws_config)
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(aws_credentials)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

    no_proxy = "127.0.0.1,localhost"
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name)
        os.environ[name] = f"{current},{no_proxy}" if current else no_proxy

    for name, sub in (
        ("CLOUDPANE_CONFIG_DIR", "config"),
        ("CLOUDPANE_STATE_DIR", "state"),
        ("CLOUDPANE_CACHE_DIR", "cache"),
    ):
        path = _session_dir / sub
        path.mkdir()
        os.environ[name] = str(path)


#: the test folders, slowest files first (they run the real executable, servers, big payloads); unknown ones after
#: these, then the fast in-process ones. Under ``--dist loadfile --no-loadscope-reorder`` (``make test``) the workers
#: take whole files in this order, so no slow file starts last and keeps one worker busy after the others are done.
_SLOW_FIRST = ("cli", "sync", "azure", "faults", "ui")
_FAST_LAST = ("contract", "snapshots", "unit")


def _schedule_rank(item: pytest.Item) -> int:
    parts = Path(str(item.path)).relative_to(Path(__file__).parent).parts
    folder = parts[0] if len(parts) > 1 else ""
    if folder in _SLOW_FIRST:
        return _SLOW_FIRST.index(folder)
    if folder in _FAST_LAST:
        return len(_SLOW_FIRST) + 1 + _FAST_LAST.index(folder)
    return len(_SLOW_FIRST)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow folders first (a stable sort: the files of a folder and the tests of a file keep their order)."""
    items.sort(key=_schedule_rank)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _saved_environ, _session_dir
    if _saved_environ is not None:
        os.environ.clear()
        os.environ.update(_saved_environ)
        _saved_environ = None
    if _session_dir is not None:
        shutil.rmtree(_session_dir, ignore_errors=True)
        _session_dir = None


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Server]:
    """``moto_server`` subprocess: versioning etc.; does not check credentials."""
    server = start_moto()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def rclone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """``rclone serve s3`` subprocess: checks SigV4; no versioning."""
    server = start_rclone(tmp_path_factory.mktemp("rclone-storage"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[AzuriteServer]:
    """Azurite's blob service (in memory): Azure Blob's API; no versioning, no Put Block From URL."""
    server = start_azurite()
    try:
        yield server
    finally:
        server.stop()
