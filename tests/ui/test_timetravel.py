"""Time travel (@): a versioned prefix as it was at a time, read-only; copy out the old bytes, restore them.

Against moto with versioning. moto's LastModified has whole seconds, so the past and the present are a little more
than a second apart (a wait for the server's clock, not a timing).
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.servers import AzuriteServer
from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, notifications, settle
from tui.errors import NotFoundError
from tui.sync.asof import AsOfStore, ReadOnlyError
from tui.ui.dialogs import ConfirmDialog, PromptDialog
from tui.ui.timetravel import travel_of

PAST = {"p/a.txt": b"a as it was", "p/b.txt": b"b never changed", "p/sub/c.txt": b"c as it was", "p/gone.txt": b"gone"}


def _current(s3: Any, bucket: str, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def _versions(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    reply = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in reply.get("Versions", []) if v["Key"] == key]


@pytest.fixture
def history(s3: Any, new_bucket: Any) -> tuple[str, datetime]:
    """A versioned bucket with a past (PAST, at the returned time) and a present: a.txt and sub/c.txt rewritten,
    gone.txt deleted, later.txt new."""
    bucket = new_bucket("tt", versioned=True)
    for key, body in PAST.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    when = datetime.now(UTC)
    time.sleep(1.1)  # the server's clock has whole seconds: the present must be in a later second
    s3.put_object(Bucket=bucket, Key="p/a.txt", Body=b"a today, longer than before")
    s3.put_object(Bucket=bucket, Key="p/sub/c.txt", Body=b"c today")
    s3.delete_object(Bucket=bucket, Key="p/gone.txt")
    s3.put_object(Bucket=bucket, Key="p/later.txt", Body=b"written after")
    s3.put_object(Bucket=bucket, Key="p/newdir/x.txt", Body=b"a folder that did not exist")
    return bucket, when


async def _travel(pilot: Any, when: datetime) -> None:
    await pilot.press("@")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PromptDialog), notifications(pilot.app)
    await pilot.press(*when.strftime("%Y-%m-%dT%H:%M:%SZ"), "enter")
    await settle(pilot)


def _sizes(pane: Any) -> dict[str, str]:
    table = pane.table
    return {cell_text(table.get_row_at(i)[0])[2:]: cell_text(table.get_row_at(i)[1]).strip() for i in
            range(table.row_count)}  # fmt: skip


async def test_the_past_is_listed_by_content_and_read_only(
    s3_env: Any, s3: Any, history: tuple[str, datetime], tmp_path: Path
) -> None:
    bucket, when = history
    app = make_app(f"s3://{bucket}/p/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert sorted(names(app.left)) == sorted(["..", "a.txt", "b.txt", "later.txt", "newdir/", "sub/"])
        await _travel(pilot, when)
        assert travel_of(app.left) is not None
        header = cell_text(app.left.query_one(".pane-header").render())
        assert header.startswith(when.strftime("@ %Y-%m-%d %H:%M")) and header.endswith(f"s3://{bucket}/p/")
        # as it was: gone.txt back, later.txt and newdir/ not yet there, a.txt at its old size
        assert sorted(names(app.left)) == sorted(["..", "a.txt", "b.txt", "gone.txt", "sub/"])
        assert _sizes(app.left)["a.txt"] == f"{len(PAST['p/a.txt'])} B"
        # into a folder of the past, and back: still the past
        await cursor_to(pilot, app.left, "sub/")
        await pilot.press("enter")
        await settle(pilot)
        assert names(app.left) == ["..", "c.txt"]
        assert _sizes(app.left)["c.txt"] == f"{len(PAST['p/sub/c.txt'])} B"
        await pilot.press("backspace")
        await settle(pilot)
        assert travel_of(app.left) is not None and "gone.txt" in names(app.left)

        # every write is refused with one line, and nothing changes on the server
        await cursor_to(pilot, app.left, "a.txt")
        for key in ("d", "f8", "m", "f6", "n", "f7", "v", "U"):
            app._notifications.clear()
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is app.screen_stack[0], key  # no dialog opened
            lines = [n for n in notifications(app) if "read-only" in n[2]]
            assert len(lines) == 1, (key, notifications(app))
        assert _current(s3, bucket, "p/a.txt") == b"a today, longer than before"
        assert len(_versions(s3, bucket, "p/a.txt")) == 2

        # the view's store refuses writes too (a dialog that reached it would get one line, not a write)
        view = await app.left.hub.store(app.left.location)
        assert isinstance(view, AsOfStore)
        with pytest.raises(ReadOnlyError):
            await view.put("p/a.txt", b"x")
        with pytest.raises(ReadOnlyError):
            await view.delete("p/a.txt")
        # and reads it pinned to the version of then
        assert b"".join([c async for c in view.read("p/a.txt")]) == PAST["p/a.txt"]
        with pytest.raises(NotFoundError):
            await view.stat("p/later.txt")

        # a copy *into* the past is refused as well
        await pilot.press("tab")
        await settle(pilot)
        app._notifications.clear()
        await pilot.press("c")
        await settle(pilot)
        assert any("read-only" in n[2] for n in notifications(app)), notifications(app)
        assert app.screen is app.screen_stack[0]
        await pilot.press("tab")

        # @ again leaves: the present is back
        await pilot.press("@")
        await settle(pilot)
        assert travel_of(app.left) is None
        assert cell_text(app.left.query_one(".pane-header").render()) == f"s3://{bucket}/p/"
        assert "later.txt" in names(app.left) and "gone.txt" not in names(app.left)
        assert errors(app) == []


async def test_copy_out_gets_the_old_bytes(s3_env: Any, s3: Any, history: tuple[str, datetime], tmp_path: Path) -> None:
    bucket, when = history
    app = make_app(f"s3://{bucket}/p/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _travel(pilot, when)
        for name in ("a.txt", "gone.txt", "sub/"):
            await cursor_to(pilot, app.left, name)
            await pilot.press("space")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert (tmp_path / "a.txt").read_bytes() == PAST["p/a.txt"]
        assert (tmp_path / "gone.txt").read_bytes() == PAST["p/gone.txt"]
        assert (tmp_path / "sub" / "c.txt").read_bytes() == PAST["p/sub/c.txt"]
        assert not (tmp_path / "later.txt").exists() and not (tmp_path / "b.txt").exists()
        # through the transfers panel, each item naming its version
        items = [t.item for t in app.queue.items]
        assert len(items) == 3 and all(i.version_id for i in items)
        assert all(t.state == "done" for t in app.queue.items)
        # the bucket is untouched
        assert _current(s3, bucket, "p/a.txt") == b"a today, longer than before"


async def test_restore_makes_the_old_versions_current(
    s3_env: Any, s3: Any, history: tuple[str, datetime], tmp_path: Path
) -> None:
    bucket, when = history
    app = make_app(f"s3://{bucket}/p/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _travel(pilot, when)
        for name in ("a.txt", "b.txt", "gone.txt", "sub/"):
            await cursor_to(pilot, app.left, name)
            await pilot.press("space")
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert any("restored 3 file(s)" in n[2] and "1 already current" in n[2] for n in notifications(app))
    assert _current(s3, bucket, "p/a.txt") == PAST["p/a.txt"]
    assert _current(s3, bucket, "p/gone.txt") == PAST["p/gone.txt"]  # undeleted, by a new version
    assert _current(s3, bucket, "p/sub/c.txt") == PAST["p/sub/c.txt"]
    # b.txt was already current: no new version; the newer versions of a.txt are kept
    assert len(_versions(s3, bucket, "p/b.txt")) == 1
    assert len(_versions(s3, bucket, "p/a.txt")) == 3
    # what did not exist then is left alone
    assert _current(s3, bucket, "p/later.txt") == b"written after"


async def test_leaving_by_escape_and_by_going_up(s3_env: Any, history: tuple[str, datetime], tmp_path: Path) -> None:
    bucket, when = history
    app = make_app(f"s3://{bucket}/p/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _travel(pilot, when)
        assert travel_of(app.left) is not None
        await pilot.press("escape")
        await settle(pilot)
        assert travel_of(app.left) is None and "later.txt" in names(app.left)

        await _travel(pilot, when)
        assert "gone.txt" in names(app.left)
        await pilot.press("backspace")  # above the prefix where the travel began
        await settle(pilot)
        assert travel_of(app.left) is None
        assert app.left.title_mark == ""
        assert names(app.left)[:2] == ["..", "p/"]


async def test_refused_where_there_is_no_past(
    s3_env: Any, new_bucket: Any, history: tuple[str, datetime], tmp_path: Path
) -> None:
    plain = new_bucket("plain")
    app = make_app(f"s3://{plain}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("@")
        await settle(pilot)
        assert app.screen is app.screen_stack[0]
        assert any("not versioned" in n[2] for n in notifications(app)), notifications(app)
        await pilot.press("tab", "@")  # the local pane
        await settle(pilot)
        assert app.screen is app.screen_stack[0]
        assert any("versioned bucket" in n[2] for n in notifications(app)), notifications(app)
        assert travel_of(app.left) is None and travel_of(app.right) is None

    bucket, _ = history
    app = make_app(f"s3://{bucket}/p/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for typed in ("yesterday", "2999-01-01T00:00Z"):
            app._notifications.clear()
            await pilot.press("@")
            await settle(pilot)
            await pilot.press(*typed, "enter")
            await settle(pilot)
            assert travel_of(app.left) is None, typed
            assert len(notifications(app)) == 1, (typed, notifications(app))


async def test_refused_on_azure_without_versions(
    azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from azure.storage.blob import BlobServiceClient

    for name, value in azurite_server.env().items():
        monkeypatch.setenv(name, value)
    container = f"tt-{secrets.token_hex(4)}"
    with BlobServiceClient.from_connection_string(azurite_server.connection_string) as service:
        service.create_container(container)
        service.get_blob_client(container, "x.txt").upload_blob(b"x")
    app = make_app(f"az://{container}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.left) == ["..", "x.txt"]
        await pilot.press("@")
        await settle(pilot)
        assert app.screen is app.screen_stack[0]  # no prompt
        assert [n[2] for n in notifications(app)] == [
            f"az://{container}/: this store keeps no versions, so it has no past to show"
        ]
        assert travel_of(app.left) is None
