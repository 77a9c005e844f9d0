"""A cancelled ``open_writer`` (Ctrl-C while the temporary file is being made in its worker thread) leaves nothing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tui.storage.local import LocalStore


@pytest.mark.parametrize("spins", [0, 1, 2, 3])
async def test_a_cancelled_open_writer_leaves_no_temporary_file(tmp_path: Path, spins: int) -> None:
    store = LocalStore(tmp_path, no_symlink_writes=True)
    task = asyncio.ensure_future(store.open_writer("new/dir/big.bin", part_size=1024))
    for _ in range(spins):  # cancel at different points: before the thread starts, while it runs, after
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)  # the worker thread has finished by now, whatever it made
    assert os.listdir(tmp_path) == []
