"""Copy with F5/c between a local folder and a bucket, both ways; marks; the transfers panel (t)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, Static

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, notifications, settle
from tui.ui.dialogs import TransferDialog
from tui.ui.transfers import TransfersScreen


async def test_copy_local_file_to_bucket(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("up")
    payload = b"hello from the left pane\n" * 100
    (tmp_path / "report.txt").write_bytes(payload)
    (tmp_path / "other.bin").write_bytes(b"not me")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.left) == ["..", "other.bin", "report.txt"]
        assert names(app.right) == [".."]

        await cursor_to(pilot, app.left, "report.txt")
        await pilot.press("c")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        assert isinstance(app.focused, Input) and app.focused.id == "destination"  # Enter accepts it
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, TransferDialog)
        assert errors(app) == []

        got = s3.get_object(Bucket=bucket, Key="report.txt")["Body"].read()
        assert got == payload
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["report.txt"]
        # the transfer reloads both panes; and an explicit refresh agrees
        assert names(app.right) == ["..", "report.txt"]
        await app.right.reload()
        assert names(app.right) == ["..", "report.txt"]


async def test_copy_object_to_local_folder(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("down")
    payload = bytes(range(256)) * 64
    s3.put_object(Bucket=bucket, Key="data/blob.bin", Body=payload)
    s3.put_object(Bucket=bucket, Key="data/keep.txt", Body=b"stay")
    local = tmp_path / "dl"
    local.mkdir()

    app = make_app(local, f"s3://{bucket}/data/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.left) == [".."]
        assert names(app.right) == ["..", "blob.bin", "keep.txt"]

        await pilot.press("tab")  # the right pane (the bucket) becomes the source
        assert app.active is app.right
        await cursor_to(pilot, app.right, "blob.bin")
        await pilot.press("c")
        assert isinstance(app.screen, TransferDialog)
        assert isinstance(app.focused, Input) and app.focused.id == "destination"
        await pilot.press("enter")
        await settle(pilot)
        # BUG (tui/ui/app.py run_transfer passes recursive=True for every row; tui/transfer/plan.py _expand then
        # takes a non-local key without "/" for a folder, lists "data/blob.bin/", finds nothing and raises
        # NotFoundError "...: nothing there"): every S3 file copied from the TUI fails.
        assert errors(app) == [], f"S3 -> local copy of one file failed: {errors(app)}"

        assert sorted(p.name for p in local.iterdir()) == ["blob.bin"]
        assert (local / "blob.bin").read_bytes() == payload
        assert names(app.left) == ["..", "blob.bin"]
        # a copy leaves the source alone
        assert s3.get_object(Bucket=bucket, Key="data/blob.bin")["Body"].read() == payload


async def test_marked_files_are_copied_together(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("marks")
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_bytes(name.encode() * 10)

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "a.txt")
        await pilot.press("space")  # marks a.txt, the cursor moves on to b.txt
        assert app.left.current_row is not None and app.left.current_row.name == "b.txt"
        await pilot.press("down", "space")  # c.txt
        assert sorted(r.name for r in app.left.rows if r.key in app.left.marks) == ["a.txt", "c.txt"]
        shown = [cell_text(app.left.table.get_row_at(i)[0]) for i in range(app.left.table.row_count)]
        assert shown == ["  ..", "* a.txt", "  b.txt", "* c.txt"]
        assert "2 marked" in cell_text(app.left.query_one(".pane-status", Static).content)

        await cursor_to(pilot, app.left, "b.txt")  # the cursor is elsewhere: the marks win
        await pilot.press("c")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        body = cell_text(dialog.query_one(".dialog-body Static", Static).content)
        assert "2 file(s)" in body and "a.txt" in body and "c.txt" in body and "b.txt" not in body
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []

        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
        assert keys == ["a.txt", "c.txt"]
        for key in keys:
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode() * 10
        assert app.left.marks == set()
        shown = [cell_text(app.left.table.get_row_at(i)[0]) for i in range(app.left.table.row_count)]
        assert not any(cell.startswith("* ") for cell in shown), shown  # the marks are gone from the screen too
        assert names(app.right) == ["..", "a.txt", "c.txt"]


async def test_transfers_panel_lists_the_finished_copy_with_its_etag(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("xfers")
    (tmp_path / "etag-me.txt").write_bytes(b"etag payload")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        panel = app.screen
        assert isinstance(panel, TransfersScreen)
        assert "nothing queued" in panel.text()
        await pilot.press("escape")
        assert not isinstance(app.screen, TransfersScreen)

        await cursor_to(pilot, app.left, "etag-me.txt")
        await pilot.press("c", "enter")
        await settle(pilot)
        assert errors(app) == []
        etag = s3.head_object(Bucket=bucket, Key="etag-me.txt")["ETag"].strip('"')

        await pilot.press("t")
        panel = app.screen
        assert isinstance(panel, TransfersScreen)
        await pilot.pause()
        items = panel.text()
        assert items.startswith("done"), items
        assert items.count("done") == 1 and items.count("etag-me.txt") == 2, items  # one item: source -> target
        # long labels are shortened from the left so the names stay visible
        source, _, rest = items.partition(" → ")
        assert source.endswith("/etag-me.txt") and (f"{tmp_path}/etag-me.txt".endswith(source.split("…")[-1]))
        assert rest.startswith(f"s3://{bucket}/etag-me.txt")
        assert f"ETag {etag}" in items
        assert "1 done" in cell_text(panel.query_one("#totals", Static).content)
        await pilot.press("t")  # t closes it again
        assert not isinstance(app.screen, TransfersScreen)


async def test_move_local_file_to_bucket(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("mv")
    (tmp_path / "moving.txt").write_bytes(b"on my way")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "moving.txt")
        await pilot.press("m")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        assert "deleted once its copy is complete" in cell_text(dialog.query_one(".dialog-body Static", Static).content)
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert s3.get_object(Bucket=bucket, Key="moving.txt")["Body"].read() == b"on my way"
        assert not (tmp_path / "moving.txt").exists()
        assert names(app.left) == [".."]
        assert names(app.right) == ["..", "moving.txt"]


async def test_a_failed_copy_says_why(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    """The summary says "t shows why": then the transfers panel (or a notification) must name the cause."""
    bucket = new_bucket("why")
    folder = tmp_path / "vanishing"
    folder.mkdir()
    (folder / "f.txt").write_bytes(b"f")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "vanishing/")
        (folder / "f.txt").unlink()
        folder.rmdir()  # gone between the listing and the copy
        await pilot.press("c", "enter")
        await settle(pilot)
        summary = [message for _, _, message in errors(app)]
        assert any("1 failed" in message for message in summary), notifications(app)
        assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0

        await pilot.press("t")
        panel = app.screen
        assert isinstance(panel, TransfersScreen)
        items = panel.text()
        said = items + "\n".join(message for _, _, message in notifications(app))
        # BUG (tui/ui/app.py run_transfer): failures raised while expanding a source (here NotFoundError
        # "<path>: nothing there") go to Outcome.failures only, never to the queue nor to a notification
        assert "vanishing" in said and "nothing there" in said, f"the cause is shown nowhere: {items!r} {summary}"
