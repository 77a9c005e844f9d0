"""Shift+F6 / R renames in place. On S3: a server-side copy (CopyObject, seen through a recording proxy in front of
moto), then the delete of the source, never before the copy succeeded; an existing name only when confirmed; a
folder is every key under it. Locally: a rename that never replaces anything unconfirmed. Checked on the server
and on disk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input, Static

from tests.faults.proxy import FaultProxy
from tests.servers import S3Server
from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, settle
from tests.ui.test_folder_copy import az_container, blobs  # noqa: F401 - the fixture, shared
from tui.ui.dialogs import ConfirmDialog, MessageDialog
from tui.ui.rename import RenameDialog, name_problem, rename_local


@pytest.fixture
async def proxy(moto_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FaultProxy]:
    """The app's S3 requests go through a recording (and, when asked, failing) proxy to moto."""
    recorder = FaultProxy(moto_server.endpoint_url)
    await recorder.start()
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", recorder.url)
    try:
        yield recorder
    finally:
        await recorder.stop()
    assert not recorder.errors, recorder.errors


def objects(s3: Any, bucket: str) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


async def rename(pilot: Any, new: str, key: str = "R") -> RenameDialog:
    await pilot.press(key)
    dialog = pilot.app.screen
    assert isinstance(dialog, RenameDialog)
    box = dialog.query_one("#name", Input)
    box.value = new
    await pilot.press("enter")
    await settle(pilot)
    return dialog


async def test_rename_an_object_server_side(proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("ren")
    s3.put_object(Bucket=bucket, Key="dir/old name.txt", Body=b"the content", Metadata={"owner": "me"})
    s3.put_object(Bucket=bucket, Key="dir/bystander.txt", Body=b"b")

    app = make_app(tmp_path, f"s3://{bucket}/dir/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "old name.txt")
        await pilot.press("shift+f6")
        dialog = app.screen
        assert isinstance(dialog, RenameDialog)
        box = dialog.query_one("#name", Input)
        assert box.value == "old name.txt" and app.focused is box  # the name, ready to edit
        await pilot.press("escape")
        assert not isinstance(app.screen, RenameDialog)

        mark = proxy.mark()
        await rename(pilot, "new name.txt")
        assert errors(app) == []
        assert objects(s3, bucket) == {"dir/new name.txt": b"the content", "dir/bystander.txt": b"b"}
        assert s3.head_object(Bucket=bucket, Key="dir/new name.txt")["Metadata"]["owner"] == "me"
        ops = proxy.ops(mark)
        assert "CopyObject" in ops and "PutObject" not in ops and "UploadPart" not in ops, ops
        assert ops.index("CopyObject") < ops.index("DeleteObject"), ops
        assert names(app.right) == ["..", "bystander.txt", "new name.txt"]


async def test_a_failed_copy_never_deletes_the_source(
    proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("renfail")
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"precious")
    proxy.add_rule("CopyObject", times=None, status=403, code="AccessDenied", message="no copies for you")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "keep.txt")
        mark = proxy.mark()
        await rename(pilot, "moved.txt")
        said = [message for _, _, message in errors(app)]
        assert any("Not renamed" in m and "sources kept" in m for m in said), said
        assert "DeleteObject" not in proxy.ops(mark)
        assert objects(s3, bucket) == {"keep.txt": b"precious"}
        assert names(app.right) == ["..", "keep.txt"]


async def test_an_existing_name_is_overwritten_only_when_confirmed(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("renover")
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"A")
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"B")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "a.txt")
        await rename(pilot, "b.txt")
        assert isinstance(app.screen, ConfirmDialog)
        body = cell_text(app.screen.query_one(".dialog-body Static", Static).content)
        assert "b.txt exists" in body
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"  # the safe default
        await pilot.press("enter")
        await settle(pilot)
        assert objects(s3, bucket) == {"a.txt": b"A", "b.txt": b"B"}

        await rename(pilot, "b.txt")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("shift+tab", "enter")  # Overwrite
        await settle(pilot)
        assert errors(app) == []
        assert objects(s3, bucket) == {"b.txt": b"A"}


async def test_rename_a_folder_moves_every_key(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("renfold")
    content = {f"old/{i}.txt": f"file {i}".encode() for i in range(5)} | {"old/sub/deep.bin": b"\x00deep"}
    for key, data in content.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    s3.put_object(Bucket=bucket, Key="oldish.txt", Body=b"not under old/")
    s3.put_object(Bucket=bucket, Key="taken/x.txt", Body=b"x")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "old/")
        # onto an existing folder: refused in one line, nothing moves
        await rename(pilot, "taken")
        assert isinstance(app.screen, MessageDialog)
        assert "exists" in cell_text(app.screen.query_one(".dialog-body Static", Static).content)
        await pilot.press("escape")
        before = objects(s3, bucket)
        assert len(before) == len(content) + 2

        await rename(pilot, "new")
        assert errors(app) == []
        after = objects(s3, bucket)
        expected = {"new/" + key.removeprefix("old/"): data for key, data in content.items()}
        expected |= {"oldish.txt": b"not under old/", "taken/x.txt": b"x"}
        assert after == expected
        assert names(app.right) == ["..", "new/", "taken/", "oldish.txt"]
        # the keys went through the transfers queue: visible there
        assert len([t for t in app.queue.items if t.state == "done"]) == len(content)


async def test_rename_locally(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"A")
    (tmp_path / "b.txt").write_bytes(b"B")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "in.txt").write_bytes(b"in")
    (tmp_path / "other").mkdir()

    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "a.txt")
        await rename(pilot, "c.txt")
        assert errors(app) == []
        assert (tmp_path / "c.txt").read_bytes() == b"A" and not (tmp_path / "a.txt").exists()
        assert names(app.left) == ["..", "folder/", "other/", "b.txt", "c.txt"]
        assert names(app.right) == names(app.left)  # the other pane shows the same folder: refreshed too

        # onto an existing file: asked first; Cancel keeps both
        await cursor_to(pilot, app.left, "c.txt")
        await rename(pilot, "b.txt")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert (tmp_path / "b.txt").read_bytes() == b"B" and (tmp_path / "c.txt").read_bytes() == b"A"

        # a folder onto an existing folder: refused, never merged nor replaced
        await cursor_to(pilot, app.left, "folder/")
        await rename(pilot, "other")
        assert isinstance(app.screen, MessageDialog)
        await pilot.press("escape")
        assert (tmp_path / "folder" / "in.txt").exists() and list((tmp_path / "other").iterdir()) == []

        await rename(pilot, "renamed")
        assert (tmp_path / "renamed" / "in.txt").read_bytes() == b"in" and not (tmp_path / "folder").exists()


async def test_the_dialog_refuses_bad_names(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"A")
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "a.txt")
        await pilot.press("R")
        dialog = app.screen
        assert isinstance(dialog, RenameDialog)
        for bad in ("x/y", "..", ""):
            dialog.query_one("#name", Input).value = bad
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog
            assert dialog.query_one("#ok", Button).disabled
        assert (tmp_path / "a.txt").exists()


def test_rename_local_never_replaces(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"A")
    (tmp_path / "b").write_bytes(b"B")
    from tui.errors import ConflictError

    with pytest.raises(ConflictError):
        rename_local(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == b"A" and (tmp_path / "b").read_bytes() == b"B"
    rename_local(tmp_path / "a", tmp_path / "b", overwrite=True)
    assert (tmp_path / "b").read_bytes() == b"A" and not (tmp_path / "a").exists()
    assert name_problem("x" * 256, "a", local=True) is not None
    assert name_problem("x" * 256, "a", local=False) is None


# -- rclone serve s3 (keys are file paths) and Azure ------------------------------------------------------------


@pytest.fixture
def rclone_bucket(rclone_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in rclone_server.env().items():
        monkeypatch.setenv(name, value)
    assert rclone_server.storage_dir is not None
    name = f"ren-{uuid.uuid4().hex[:10]}"
    # through the server, not mkdir: rclone's VFS caches a directory listing for 5 minutes, so a bucket made behind
    # its back may be missing from a listing when another test on this server listed the root before
    client = rclone_server.boto3_client()
    client.create_bucket(Bucket=name)
    client.close()
    return name, rclone_server.storage_dir / name


async def test_rename_a_folder_on_rclone(
    rclone_bucket: tuple[str, Path], rclone_server: S3Server, tmp_path: Path
) -> None:
    name, disk = rclone_bucket
    client = rclone_server.boto3_client()
    for rel in ("old/a.txt", "old/sub/b.txt"):
        client.put_object(Bucket=name, Key=rel, Body=rel.encode())
    client.close()

    app = make_app(tmp_path, f"s3://{name}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "old/")
        await rename(pilot, "new")
        assert errors(app) == []
        files = sorted(p.relative_to(disk).as_posix() for p in disk.rglob("*") if p.is_file())
        assert files == ["new/a.txt", "new/sub/b.txt"]
        assert (disk / "new/sub/b.txt").read_bytes() == b"old/sub/b.txt"
        assert "old/" not in names(app.right), names(app.right)


async def test_rename_a_blob_on_azure(az_container: tuple[str, Any], tmp_path: Path) -> None:  # noqa: F811
    name, client = az_container
    client.upload_blob("dir/before.txt", b"azure bytes")
    client.upload_blob("dir/x/y.txt", b"y")

    app = make_app(tmp_path, f"az://{name}/dir/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "before.txt")
        await rename(pilot, "after.txt")
        await cursor_to(pilot, app.right, "x/")
        await rename(pilot, "z")
        assert errors(app) == []
        assert blobs(client) == {"dir/after.txt": b"azure bytes", "dir/z/y.txt": b"y"}
