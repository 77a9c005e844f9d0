"""The versions browser (v): list every version, restore an old one as the latest (r), undelete (u)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Static

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, settle
from tui.locations import parse_location
from tui.ui.objects import VersionsScreen


def version_ids(screen: VersionsScreen) -> list[str]:
    """The VersionId column as shown, top to bottom."""
    table = screen.query_one("#versions", DataTable)
    return [cell_text(table.get_row_at(i)[3]) for i in range(table.row_count)]


def server_versions(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    reply = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in reply.get("Versions", []) if v["Key"] == key]


async def test_restore_the_oldest_version(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any) -> None:
    bucket = new_bucket("ver", versioned=True)
    contents = [b"first draft", b"second draft, longer", b"third and final"]
    ids = [s3.put_object(Bucket=bucket, Key="doc.txt", Body=body)["VersionId"] for body in contents]
    assert len(set(ids)) == 3

    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.left) == ["..", "doc.txt"]
        await cursor_to(pilot, app.left, "doc.txt")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        assert sorted(version_ids(screen)) == sorted(ids)
        assert version_ids(screen)[0] == ids[-1]  # newest first, flagged latest
        table = screen.query_one("#versions", DataTable)
        assert cell_text(table.get_row_at(0)[0]) == "latest"
        assert table.has_focus

        # move to the oldest version with the arrow keys, wherever the listing put it
        target = version_ids(screen).index(ids[0])
        for _ in range(target):
            await pilot.press("down")
        assert screen.current is not None and screen.current.version_id == ids[0]

        await pilot.press("r")
        await settle(pilot)
        assert app.screen is screen
        assert errors(app) == []

        assert s3.get_object(Bucket=bucket, Key="doc.txt")["Body"].read() == contents[0]
        versions = server_versions(s3, bucket, "doc.txt")
        assert len(versions) == 4
        # the other versions are untouched
        for vid, body in zip(ids, contents, strict=True):
            assert s3.get_object(Bucket=bucket, Key="doc.txt", VersionId=vid)["Body"].read() == body
        # the screen reloaded: 4 rows, the new one on top and latest
        shown = version_ids(screen)
        assert len(shown) == 4 and set(ids) < set(shown)
        latest = next(v["VersionId"] for v in versions if v["IsLatest"])
        assert shown[0] == latest and latest not in ids

        await pilot.press("escape")
        assert not isinstance(app.screen, VersionsScreen)


async def test_undelete_removes_the_delete_marker(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any) -> None:
    bucket = new_bucket("undel", versioned=True)
    s3.put_object(Bucket=bucket, Key="gone.txt", Body=b"bring me back")
    s3.put_object(Bucket=bucket, Key="stays.txt", Body=b"here")
    marker = s3.delete_object(Bucket=bucket, Key="gone.txt")
    assert marker.get("DeleteMarker")

    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.left) == ["..", "stays.txt"]  # deleted keys are not listed

        loc = parse_location(f"s3://{bucket}/gone.txt")
        store = await app.hub.store(loc)
        await app.push_screen(VersionsScreen(store, "gone.txt", str(loc), can_download=True))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        table = screen.query_one("#versions", DataTable)
        assert table.row_count == 2
        assert cell_text(table.get_row_at(0)[0]) == "latest"
        assert cell_text(table.get_row_at(0)[2]) == "DEL MARKER"
        assert version_ids(screen)[0] == marker["VersionId"]

        await pilot.press("u")
        await settle(pilot)
        assert errors(app) == []
        head = s3.head_object(Bucket=bucket, Key="gone.txt")
        assert s3.get_object(Bucket=bucket, Key="gone.txt")["Body"].read() == b"bring me back"
        assert table.row_count == 1
        assert version_ids(screen) == [head["VersionId"]]

        # u again: nothing to undelete, nothing changes
        await pilot.press("u")
        await settle(pilot)
        assert errors(app) == []
        assert len(server_versions(s3, bucket, "gone.txt")) == 1

        await pilot.press("escape", "r")  # close, refresh the pane: the key is back
        await settle(pilot)
        assert names(app.left) == ["..", "gone.txt", "stays.txt"]


async def test_deleted_objects_shown_with_u_and_undeleted_from_the_pane(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any
) -> None:
    bucket = new_bucket("undel2", versioned=True)
    s3.put_object(Bucket=bucket, Key="gone.txt", Body=b"bring me back")
    s3.put_object(Bucket=bucket, Key="stays.txt", Body=b"here")
    s3.delete_object(Bucket=bucket, Key="gone.txt")

    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.left) == ["..", "stays.txt"]
        await pilot.press("u")  # the pane's "show deleted"
        await settle(pilot)
        assert names(app.left) == ["..", "gone.txt", "stays.txt"]
        await cursor_to(pilot, app.left, "gone.txt")
        assert app.left.current_row is not None and app.left.current_row.kind == "deleted"

        # a deleted row cannot be deleted again, nor copied: d asks nothing
        await pilot.press("d")
        assert not isinstance(app.screen, VersionsScreen) and app.screen is app.screen_stack[0]

        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        assert screen.key == "gone.txt"
        await pilot.press("u")
        await settle(pilot)
        assert errors(app) == []
        assert s3.get_object(Bucket=bucket, Key="gone.txt")["Body"].read() == b"bring me back"
        await pilot.press("escape", "r")
        await settle(pilot)
        row = next(r for r in app.left.rows if r.name == "gone.txt")
        assert row.kind == "file"


@pytest.mark.parametrize("width", [120, 100, 80])
async def test_version_ids_whole_from_100_columns_elided_below_and_the_etag_shown(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any, width: int
) -> None:
    bucket = new_bucket("vw", versioned=True)
    ids = [s3.put_object(Bucket=bucket, Key="doc.txt", Body=body)["VersionId"] for body in (b"one", b"two, longer")]
    etags = {v["VersionId"]: v["ETag"].strip('"') for v in server_versions(s3, bucket, "doc.txt")}

    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "doc.txt")
        await pilot.press("v")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        table = screen.query_one("#versions", DataTable)
        shown = version_ids(screen)
        assert len(shown) == 2
        for cell, vid in zip(shown, reversed(ids), strict=True):  # newest first
            if width >= 100:
                assert cell == vid, (width, cell, vid)
            else:
                # the middle elided: both ends of the id stay, the cell fits its column
                head, _, tail = cell.partition("…")
                assert tail and vid.startswith(head) and vid.endswith(tail) and len(cell) < len(vid), (cell, vid)
        for row, vid in enumerate(reversed(ids)):
            etag_cell = cell_text(table.get_row_at(row)[4])
            etag = etags[vid]
            head, _, tail = etag_cell.partition("…")
            assert etag_cell == etag or (tail and etag.startswith(head) and etag.endswith(tail)), (etag_cell, etag)
            assert len(head) >= 3, etag_cell  # enough of the ETag to tell versions apart
        # the selected version's whole VersionId and ETag are under the table
        detail = cell_text(screen.query_one("#versions-detail", Static).content)
        assert ids[-1] in detail and etags[ids[-1]] in detail
        await pilot.press("down")
        detail = cell_text(screen.query_one("#versions-detail", Static).content)
        assert ids[0] in detail and etags[ids[0]] in detail
        # nothing is wider than the screen
        assert sum(column.get_render_width(table) for column in table.columns.values()) <= width
