"""One transfer item, one pipeline: `g` in the versions browser downloads the version it names, and a retry from
the transfers panel (r) repeats exactly what the first attempt did (version, move, conflict policy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, settle
from tui.locations import parse_location
from tui.transfer.plan import Item
from tui.ui.objects import VersionsScreen
from tui.ui.transfers import TransfersScreen


def _version_ids(screen: VersionsScreen) -> list[str]:
    table = screen.query_one("#versions", DataTable)
    return [cell_text(table.get_row_at(i)[3]) for i in range(table.row_count)]


async def test_g_downloads_the_selected_old_version(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("gver", versioned=True)
    old, new = b"the old version, which the user picked", b"the latest version"
    old_id = s3.put_object(Bucket=bucket, Key="doc.txt", Body=old)["VersionId"]
    s3.put_object(Bucket=bucket, Key="doc.txt", Body=new)
    dl = tmp_path / "dl"
    dl.mkdir()

    app = make_app(f"s3://{bucket}/", dl)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "doc.txt")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        for _ in range(_version_ids(screen).index(old_id)):
            await pilot.press("down")
        assert screen.current is not None and screen.current.version_id == old_id
        await pilot.press("g")
        await settle(pilot)
        assert errors(app) == []
        # the bytes of the version picked, not those of the latest (the bug: the retry path read the latest)
        assert (dl / "doc.txt").read_bytes() == old
        [transfer] = app.queue.items
        assert transfer.state == "done" and transfer.item.version_id == old_id


async def test_retry_repeats_the_version_move_and_conflict_policy(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    """A failed item retried from the panel (r) reads the same version, keeps its conflict policy and, for a
    move, deletes the source afterwards: the item carries all of it."""
    bucket = new_bucket("retry", versioned=True)
    first_id = s3.put_object(Bucket=bucket, Key="a.txt", Body=b"version one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"version two, the latest")
    dl = tmp_path / "dl"
    dl.mkdir()
    # the destination is blocked by a directory of the same name: the first attempt fails
    (dl / "a.txt").mkdir()

    app = make_app(f"s3://{bucket}/", dl)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        src_loc = parse_location(f"s3://{bucket}/a.txt")
        src_store = await app.hub.store(src_loc)
        dst_store, dst_key = await app.hub.destination(parse_location(str(dl / "a.txt")), folder=False)
        item = Item(
            src_store,
            "a.txt",
            dst_store,
            dst_key,
            False,
            f"s3://{bucket}/a.txt",
            str(dl / "a.txt"),
            version_id=first_id,
            move=True,
            conflict="skip",
        )
        app.queue.queued(item)
        [transfer] = app.queue.items
        await app.queue.retry(transfer)  # the first attempt: the directory is in the way
        assert transfer.state == "failed", transfer.error
        assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"version two, the latest"

        (dl / "a.txt").rmdir()
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TransfersScreen)
        await pilot.press("r")
        await settle(pilot)
        assert transfer.state == "done", transfer.error
        assert transfer.item is item
        # the same version as the first attempt, not the latest
        assert (dl / "a.txt").read_bytes() == b"version one"
        # a move: the source is deleted (a delete marker on a versioned bucket) once the copy is complete
        head = s3.list_object_versions(Bucket=bucket, Prefix="a.txt")
        assert any(m["IsLatest"] for m in head.get("DeleteMarkers", []))

        # the same item again: its conflict policy (skip) leaves the existing file alone
        (dl / "a.txt").write_bytes(b"kept")
        await app.queue.retry(transfer)
        assert transfer.state == "skipped"
        assert (dl / "a.txt").read_bytes() == b"kept"
