"""Quitting with transfers running asks (keep resumable / cancel / stay); the next start offers to resume.

A real upload to moto, slowed by the app's bandwidth limit so that it is still running when the test presses q:
once the first part is in the journal, the limit drops to a crawl, so nothing can finish while the dialog is open
(the tests wait for states, never for time). The server is checked with boto3 (list_multipart_uploads), the
journal by opening its file again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Button, Static

from tests.ui.conftest import SIZE, cursor_to, errors, make_app, settle
from tui.config import Settings
from tui.transfer.copy import Bandwidth
from tui.transfer.journal import Journal, JournalUpload
from tui.ui.app import CloudpaneApp
from tui.ui.dialogs import ConfirmDialog
from tui.ui.resume import QuitDialog, ResumeDialog
from tui.ui.transfers import TransfersScreen

MiB = 1024 * 1024
PART = 5 * MiB
PARTS = 8
#: fast enough that the first part is journaled soon, slow enough that the upload cannot end before the test acts
START_RATE = 8 * MiB
CRAWL = 256 * 1024


def settings() -> Settings:
    return Settings(part_size=PART, concurrency=2)


class CountingBandwidth(Bandwidth):
    """The app's own rate limiter, counting the bytes the copies read from the source."""

    def __init__(self, rate: int) -> None:
        super().__init__(rate)
        self.read = 0

    async def take(self, n: int) -> None:
        self.read += n
        await super().take(n)


def big_file(folder: Path) -> tuple[Path, str]:
    folder.mkdir()
    path = folder / "big.bin"
    data = os.urandom(PARTS * PART + 12345)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def journal_rows(state_dir: Path) -> list[tuple[JournalUpload, dict[int, tuple[str, int]]]]:
    with Journal(state_dir / "transfers.sqlite3") as journal:
        return [(u, journal.parts(u)) for u in journal.unfinished()]


def pending_uploads(s3: Any, bucket: str) -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


async def wait_until(pilot: Pilot[Any], what: str, predicate: Callable[[], bool], rounds: int = 2000) -> None:
    """Let the app run until ``predicate`` holds (a state, not a duration)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


def parts_journaled(app: CloudpaneApp) -> int:
    assert app.journal is not None
    return sum(len(app.journal.parts(u)) for u in app.journal.unfinished())


async def start_upload(pilot: Pilot[Any], app: CloudpaneApp, bandwidth: Bandwidth) -> None:
    """Copy big.bin with c + Enter; return once one part is journaled, with the rest held back."""
    await settle(pilot)
    await cursor_to(pilot, app.left, "big.bin")
    await pilot.press("c")
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("enter")
    await wait_until(pilot, "a part is journaled", lambda: parts_journaled(app) >= 1)
    bandwidth.rate = CRAWL
    assert app.queue.busy().running == 1


async def quit_from_palette(pilot: Pilot[Any], app: CloudpaneApp) -> None:
    """Ctrl+P, type Quit, Enter on the first match (Textual's own Quit command)."""
    await pilot.press("ctrl+p")
    await wait_until(pilot, "the palette opens", lambda: isinstance(app.screen, CommandPalette))

    def first_match() -> str:
        found = app.screen.query(CommandList)
        if not found or not found.first().option_count:
            return ""
        return str(found.first().get_option_at_index(0).prompt)

    await pilot.press(*"Quit")
    await wait_until(pilot, "Quit is the first match", lambda: "Quit the application" in first_match())
    await pilot.press("enter")
    await wait_until(pilot, "the palette closes", lambda: not isinstance(app.screen, CommandPalette))


def body(dialog: QuitDialog | ResumeDialog) -> str:
    content = dialog.query_one("#quit-body" if isinstance(dialog, QuitDialog) else "#resume-body", Static).content
    return content.plain if isinstance(content, Text) else str(content)


async def test_keep_then_resume_on_next_start(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    bucket = new_bucket("keep")
    path, digest = big_file(tmp_path / "src")
    bandwidth = Bandwidth(START_RATE)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=bandwidth)
    async with app.run_test(size=SIZE) as pilot:
        await start_upload(pilot, app, bandwidth)
        await pilot.press("q")
        dialog = app.screen
        assert isinstance(dialog, QuitDialog)
        assert "1 transfer(s) running" in body(dialog)
        assert isinstance(app.focused, Button) and app.focused.id == "stay"  # the safe default
        await pilot.click("#keep")
        await wait_until(pilot, "the app exits", lambda: not app.is_running)
    assert app.return_code == 0

    rows = journal_rows(state_dir)
    assert len(rows) == 1
    upload, parts = rows[0]
    assert (upload.bucket, upload.key, upload.source) == (bucket, "big.bin", str(path))
    assert parts, "the parts finished before quitting are journaled"
    kept = sum(size for _, size in parts.values())
    on_server = pending_uploads(s3, bucket)
    assert [u["UploadId"] for u in on_server] == [upload.upload_id]
    server_parts = s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload.upload_id)["Parts"]
    assert {p["PartNumber"] for p in server_parts} >= set(parts)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    # the next start offers it; Resume (the default button) sends only what the server does not hold
    counting = CountingBandwidth(1024 * MiB)
    app2 = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=counting)
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offer = app2.screen
        assert isinstance(offer, ResumeDialog)
        assert "1 unfinished upload(s)" in str(offer.query_one(".dialog-title").render())
        assert "big.bin" in body(offer) and bucket in body(offer)
        assert isinstance(app2.focused, Button) and app2.focused.id == "resume"
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app2) == []
        assert [t.state for t in app2.queue.items] == ["done"]

    got = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == digest
    assert counting.read == path.stat().st_size - kept, "the journaled parts were not read again"
    assert journal_rows(state_dir) == []
    assert pending_uploads(s3, bucket) == []


async def test_cancel_and_quit_leaves_nothing(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    bucket = new_bucket("cancel")
    path, _ = big_file(tmp_path / "src")
    bandwidth = Bandwidth(START_RATE)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=bandwidth)
    async with app.run_test(size=SIZE) as pilot:
        await start_upload(pilot, app, bandwidth)
        assert len(pending_uploads(s3, bucket)) == 1
        await pilot.press("f10")
        assert isinstance(app.screen, QuitDialog)
        await pilot.click("#cancel")
        await wait_until(pilot, "the app exits", lambda: not app.is_running)
    assert app.return_code == 0
    assert pending_uploads(s3, bucket) == []
    assert journal_rows(state_dir) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


async def test_stay_keeps_the_transfer_running(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("stay")
    path, digest = big_file(tmp_path / "src")
    bandwidth = Bandwidth(START_RATE)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=bandwidth)
    async with app.run_test(size=SIZE) as pilot:
        await start_upload(pilot, app, bandwidth)
        await pilot.press("ctrl+c")
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("escape")
        assert not isinstance(app.screen, QuitDialog)
        assert app.is_running
        assert app.queue.busy().running == 1
        # Ctrl+Q and the palette's Quit ask too; the Stay button stays
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, QuitDialog)
        await pilot.click("#stay")
        assert not isinstance(app.screen, QuitDialog)
        await quit_from_palette(pilot, app)
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("s")
        assert app.is_running and app.queue.busy().running == 1

        bandwidth.rate = 1024 * MiB
        await settle(pilot)
        assert errors(app) == []
        assert [t.state for t in app.queue.items] == ["done"]
        assert app.is_running
    got = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == digest
    assert pending_uploads(s3, bucket) == []


@pytest.mark.parametrize("key", ["q", "f10", "ctrl+c", "ctrl+q"])
async def test_quit_without_transfers_is_immediate(s3_env: Any, new_bucket: Any, tmp_path: Path, key: str) -> None:
    bucket = new_bucket("idle")
    (tmp_path / "small.txt").write_bytes(b"x" * 100)
    screens: list[object] = []
    app = make_app(tmp_path, f"s3://{bucket}/")
    # every screen ever on the stack, seen at each message the app handles
    async with app.run_test(size=SIZE, message_hook=lambda m: screens.extend(app.screen_stack)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await wait_until(pilot, f"{key} quits", lambda: not app.is_running)
    assert screens, "the hook saw the app's screens"
    assert not any(isinstance(s, QuitDialog) for s in screens)
    assert app.return_code == 0


async def test_discard_on_start_aborts_kept_uploads(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    bucket = new_bucket("discard")
    path, _ = big_file(tmp_path / "src")
    bandwidth = Bandwidth(START_RATE)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=bandwidth)
    async with app.run_test(size=SIZE) as pilot:
        await start_upload(pilot, app, bandwidth)
        await pilot.press("q")
        await pilot.press("k")  # keep
        await wait_until(pilot, "the app exits", lambda: not app.is_running)
    assert len(pending_uploads(s3, bucket)) == 1 and len(journal_rows(state_dir)) == 1

    app2 = make_app(path.parent, f"s3://{bucket}/", settings=settings())
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app2.screen, ResumeDialog)
        await pilot.click("#discard")
        await settle(pilot)
        assert errors(app2) == []
        assert app2.queue.items == []
    assert pending_uploads(s3, bucket) == []
    assert journal_rows(state_dir) == []
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)

    # and the start after that offers nothing
    app3 = make_app(path.parent, f"s3://{bucket}/", settings=settings())
    async with app3.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app3.screen, ResumeDialog)


async def test_later_keeps_the_offer_for_the_next_start(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    bucket = new_bucket("later")
    path, _ = big_file(tmp_path / "src")
    bandwidth = Bandwidth(START_RATE)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=bandwidth)
    async with app.run_test(size=SIZE) as pilot:
        await start_upload(pilot, app, bandwidth)
        await pilot.press("q")
        await pilot.click("#keep")
        await wait_until(pilot, "the app exits", lambda: not app.is_running)

    app2 = make_app(path.parent, f"s3://{bucket}/", settings=settings())
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app2.screen, ResumeDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app2.screen, ResumeDialog)
        assert app2.queue.items == []
        await pilot.press("q")  # nothing running: quits at once, the kept upload stays kept
        await wait_until(pilot, "the app exits", lambda: not app2.is_running)
    assert len(journal_rows(state_dir)) == 1
    assert len(pending_uploads(s3, bucket)) == 1


async def test_cancel_in_the_transfers_panel_aborts_the_upload(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    # the engine keeps a journaled upload on cancellation (for resume): x in the panel must abort it all the same
    bucket = new_bucket("x")
    path, _ = big_file(tmp_path / "src")
    bandwidth = Bandwidth(START_RATE)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings(), bandwidth=bandwidth)
    async with app.run_test(size=SIZE) as pilot:
        await start_upload(pilot, app, bandwidth)
        assert len(pending_uploads(s3, bucket)) == 1
        await pilot.press("t")
        assert isinstance(app.screen, TransfersScreen)
        await pilot.press("x")
        await settle(pilot)
        assert [t.state for t in app.queue.items] == ["cancelled"]
        assert errors(app) == []
        assert pending_uploads(s3, bucket) == []
        assert app.journal is not None and app.journal.unfinished() == []
        await pilot.press("escape", "q")  # nothing left running: quits at once
        await wait_until(pilot, "the app exits", lambda: not app.is_running)
    assert journal_rows(state_dir) == []


def journal_row_for(state_dir: Path, path: Path, bucket: str, upload_id: str) -> None:
    """A journal row as a TUI upload of ``path`` to ``bucket``/big.bin with these settings writes it."""
    st = path.stat()
    with Journal(state_dir / "transfers.sqlite3") as journal:
        journal.start(
            remote="s3",
            endpoint="",
            bucket=bucket,
            key="big.bin",
            upload_id=upload_id,
            source=str(path),
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            part_size=PART,
        )


async def test_an_upload_that_completed_as_the_app_quit_is_not_offered(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    # a quit that lands while CompleteMultipartUpload is on the wire: the object is there, the row still too
    bucket = new_bucket("done")
    path, digest = big_file(tmp_path / "src")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    journal_row_for(state_dir, path, bucket, upload_id)
    etag = s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload_id, PartNumber=1, Body=path.read_bytes())
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag["ETag"]}]},
    )
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, ResumeDialog)
        assert errors(app) == []
    assert journal_rows(state_dir) == []
    got = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == digest


async def test_an_upload_the_server_forgot_starts_again(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path, state_dir: Path
) -> None:
    # e.g. aborted by a lifecycle rule, or by `cloudpane transfers --abort` run elsewhere
    bucket = new_bucket("gone")
    path, digest = big_file(tmp_path / "src")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    journal_row_for(state_dir, path, bucket, upload_id)
    s3.abort_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload_id)
    app = make_app(path.parent, f"s3://{bucket}/", settings=settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offer = app.screen
        assert isinstance(offer, ResumeDialog)
        assert "no longer on the server: starts again" in body(offer)
        await pilot.click("#resume")
        await settle(pilot)
        assert errors(app) == []
        assert [t.state for t in app.queue.items] == ["done"]
    got = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == digest
    assert journal_rows(state_dir) == []
    assert pending_uploads(s3, bucket) == []
