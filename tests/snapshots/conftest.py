"""What every snapshot needs to be deterministic: UTC dates and a resume journal of its own."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Dates render in local time: pin it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.fixture(autouse=True)
def empty_journal(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resume journal of this test's own: a row another test left must not add a resume offer to the picture."""
    monkeypatch.setenv("CLOUDPANE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
