"""The transfers panel (t) as a user follows it: the selected row stays in view, every running file has its own bar,
the phases after the last byte (verifying, completing) and retries are states on screen, and C clears the finished
rows only.

Real uploads to moto. Where a test must catch a transfer in a given state, a fault proxy in front of moto
(tests/faults/proxy.py) holds the request that state waits on (a part, CompleteMultipartUpload) until the test has
read the screen; nothing waits for a duration.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.faults.proxy import FaultProxy, RequestRecord
from tests.servers import S3Server
from tests.ui.conftest import SIZE, cursor_to, errors, make_app, settle
from tui.config import Settings
from tui.ui.app import CloudpaneApp
from tui.ui.dialogs import ConfirmDialog
from tui.ui.transfers import TransferList, TransfersScreen

MiB = 1024 * 1024
PART = 5 * MiB


@pytest.fixture
async def proxy(moto_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FaultProxy]:
    """A fault proxy in front of moto, and the default S3 remote (the AWS env chain) pointed at it."""
    fault_proxy = FaultProxy(moto_server.endpoint_url)
    await fault_proxy.start()
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    try:
        yield fault_proxy
    finally:
        await fault_proxy.stop()
    assert not fault_proxy.errors, f"the fault proxy itself failed: {fault_proxy.errors!r}"


class Gate:
    """A request held by the proxy until the test opens the gate (a hook runs before the proxy's status rules:
    ``skip`` lets that many matching requests through first)."""

    def __init__(self, skip: int = 0) -> None:
        self.reached = asyncio.Event()
        self.open = asyncio.Event()
        self.held: list[RequestRecord] = []
        self.skip = skip

    async def __call__(self, record: RequestRecord) -> None:
        if self.skip > 0:
            self.skip -= 1
            return
        self.held.append(record)
        self.reached.set()
        await self.open.wait()


async def wait_until(pilot: Pilot[Any], what: str, predicate: Callable[[], bool], rounds: int = 3000) -> None:
    """Let the app run until ``predicate`` holds (a state, not a duration)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


async def copy_folder_contents(pilot: Pilot[Any], app: CloudpaneApp, name: str) -> None:
    """Mark every file of the left pane (the cursor on ``name`` first) and copy them with c + Enter."""
    await settle(pilot)
    await cursor_to(pilot, app.left, name)
    await pilot.press("c")
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("enter")


async def open_panel(pilot: Pilot[Any], app: CloudpaneApp) -> TransfersScreen:
    await pilot.press("t")
    await pilot.pause()
    panel = app.screen
    assert isinstance(panel, TransfersScreen)
    return panel


def selected_name(panel: TransfersScreen) -> str:
    index = panel.query_one(TransferList).selected
    return panel.queue.items[index].item.src_label.rsplit("/", 1)[-1]


async def test_the_selected_row_stays_in_view(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("view")
    src = tmp_path / "src"
    src.mkdir()
    count = 30
    for n in range(count):
        (src / f"f{n:02d}.txt").write_bytes(b"x" * (n + 1))

    app = make_app(src, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "f00.txt")
        for _ in range(count):
            await pilot.press("space")
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == count
        assert [t.state for t in app.queue.items] == ["done"] * count

        panel = await open_panel(pilot, app)
        rows = panel.query_one(TransferList)
        shown = panel.shown_rows()
        visible = len(shown)
        assert 3 <= visible < count, f"the list shows {visible} rows: the test needs more rows than fit"
        assert "f00.txt" in shown[0]
        assert rows.selected == 0

        # down past the last visible row: the selection moves, and the list scrolls with it
        for step in range(1, visible + 5):
            await pilot.press("down")
            assert rows.selected == step
            assert rows.selected in rows.visible_rows(), f"row {step} out of view: {list(rows.visible_rows())}"
            assert any(selected_name(panel) in line for line in panel.shown_rows())
        assert "f00.txt" not in panel.shown_rows()[0]  # it did scroll

        await pilot.press("end")
        assert rows.selected == count - 1 and selected_name(panel) == f"f{count - 1:02d}.txt"
        assert f"f{count - 1:02d}.txt" in panel.shown_rows()[-1]
        await pilot.press("home")
        assert rows.selected == 0 and "f00.txt" in panel.shown_rows()[0]
        await pilot.press("pagedown")
        assert rows.selected == visible - 1 or rows.selected in rows.visible_rows()
        assert rows.selected > 0 and rows.selected in rows.visible_rows()
        await pilot.press("escape")


async def test_two_running_files_each_have_a_bar(proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("bars")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("one.bin", "two.bin"):
        (src / name).write_bytes(os.urandom(2 * PART + 1000))  # three parts
    gate = Gate()
    # the second part of each file is held: both files are running, their first parts sent
    proxy.add_rule("UploadPart", "hook", part=2, times=2, hook=gate)

    app = make_app(src, f"s3://{bucket}/", settings=Settings(part_size=PART, concurrency=1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "one.bin")
        await pilot.press("space", "space", "c")  # mark one.bin and two.bin
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await wait_until(pilot, "both second parts are held", lambda: len(gate.held) == 2)
        panel = await open_panel(pilot, app)
        await wait_until(pilot, "two rows running", lambda: sum("running" in r for r in panel.shown_rows()) == 2)
        rows = panel.shown_rows()
        for name in ("one.bin", "two.bin"):
            [row] = [r for r in rows if f"{name} → " in r]
            assert row.startswith("running")
            bar = row[len("running") :].strip()
            assert bar.startswith("━" * 10), row  # a bar of its own
            assert "%" in bar.split("…")[0], row
        gate.open.set()
        await settle(pilot)
        assert errors(app) == []
        assert [t.state for t in app.queue.items] == ["done", "done"]
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["one.bin", "two.bin"]


async def test_retrying_verifying_and_completing_are_states_you_can_see(
    proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("phases")
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(PART + 4321)  # two parts
    (src / "big.bin").write_bytes(data)
    # the first part fails with 503 (botocore tries twice, then our loop retries), its next try is held; then
    # CompleteMultipartUpload is held
    proxy.add_rule("UploadPart", "status", status=503, part=1, times=2)
    retried = Gate(skip=2)
    proxy.add_rule("UploadPart", "hook", part=1, times=3, hook=retried)
    completing = Gate()
    proxy.add_rule("CompleteMultipartUpload", "hook", times=1, hook=completing)

    app = make_app(src, f"s3://{bucket}/", settings=Settings(part_size=PART, concurrency=1))
    seen: list[str] = []

    def record() -> None:
        for t in app.queue.items:
            if not seen or seen[-1] != t.shown_state():
                seen.append(t.shown_state())

    app.queue.on_change = record
    async with app.run_test(size=SIZE) as pilot:
        await copy_folder_contents(pilot, app, "big.bin")
        panel = await open_panel(pilot, app)
        await wait_until(pilot, "the retried part is held", retried.reached.is_set)

        def row() -> str:
            [line] = [r for r in panel.shown_rows() if "big.bin → " in r]
            return line

        await wait_until(pilot, "retrying on screen", lambda: row().startswith("retrying (1)"))
        retried.open.set()
        await wait_until(pilot, "CompleteMultipartUpload is held", completing.reached.is_set)
        await wait_until(pilot, "completing on screen", lambda: row().startswith("completing"))
        assert "100%" in row()
        # the upload is not done while it completes: nothing is at the key yet
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
        completing.open.set()
        await settle(pilot)
        await wait_until(pilot, "done on screen", lambda: row().startswith("done"))
        assert errors(app) == []
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == data
    # every state the row went through, in order (verifying passes too quickly to be caught held: it is recorded)
    assert seen[0] == "queued"
    order = ["running", "hashing", "retrying (1)", "verifying", "completing", "done"]
    positions = [seen.index(state) for state in order]
    assert positions == sorted(positions), seen
    assert app.queue.items[0].retries == 1


async def test_clear_removes_the_finished_rows_only(
    proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("clear")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("a1.txt", "a2.txt", "a3.txt", "b-refused.txt", "d-waits.txt"):
        (src / name).write_bytes(name.encode())
    (src / "c-held.bin").write_bytes(os.urandom(PART + 10))
    proxy.add_rule("PutObject", "status", status=403, code="AccessDenied", key="b-refused.txt", times=None)
    held = Gate()
    proxy.add_rule("CompleteMultipartUpload", "hook", times=1, hook=held)

    # one file at a time: while c-held.bin completes, d-waits.txt is queued
    settings = Settings(part_size=PART, concurrency=1, max_files_in_flight=1)
    app = make_app(src, f"s3://{bucket}/", settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "a1.txt")
        for _ in range(6):
            await pilot.press("space")
        await pilot.press("c")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await wait_until(pilot, "c-held.bin is completing", held.reached.is_set)
        await wait_until(pilot, "d-waits.txt is queued", lambda: len(app.queue.items) == 6)

        def states() -> dict[str, str]:
            return {t.item.src_label.rsplit("/", 1)[-1]: t.state for t in app.queue.items}

        assert states() == {
            "a1.txt": "done",
            "a2.txt": "done",
            "a3.txt": "done",
            "b-refused.txt": "failed",
            "c-held.bin": "running",
            "d-waits.txt": "queued",
        }
        panel = await open_panel(pilot, app)
        shown = {b.binding.key: b.binding.description for b in panel.active_bindings.values() if b.binding.show}
        assert shown.get("C") == "Clear done", shown  # in the footer
        await pilot.press("C")
        assert states() == {"b-refused.txt": "failed", "c-held.bin": "running", "d-waits.txt": "queued"}
        assert not any("a1.txt" in r or "a2.txt" in r or "a3.txt" in r for r in panel.shown_rows())
        assert len(panel.shown_rows()) == 3

        # Delete on a failed row removes it; on the running one it would cancel (not pressed here)
        held.open.set()
        await settle(pilot)
        assert states() == {"b-refused.txt": "failed", "c-held.bin": "done", "d-waits.txt": "done"}
        await pilot.press("C")
        assert states() == {"b-refused.txt": "failed"}  # a failed row stays for r (retry)
        await pilot.press("home", "delete")
        assert states() == {}
        assert panel.text() == "nothing queued"
    # clearing forgets rows, never objects
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["a1.txt", "a2.txt", "a3.txt", "c-held.bin", "d-waits.txt"]
