"""F5/F6 on a folder puts the folder itself under the other pane's folder, as Midnight Commander does: local
``bigset/`` onto ``s3://b/incoming/`` gives ``incoming/bigset/h1.bin``, in every direction (local, S3, Azure).
The copy dialog's destination is an editable path, its conflict choice moves with the arrows; every action
refreshes the panes that show what it changed. Checked by the keys and bytes that land on the real servers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, RadioSet

from tests.servers import AzuriteServer
from tests.ui.conftest import SIZE, cursor_to, errors, make_app, names, settle
from tui.locations import parse_location
from tui.ui.dialogs import MessageDialog, PromptDialog, TransferDialog
from tui.ui.objects import VersionsScreen

FILES = {"h1.bin": b"\x00first" * 300, "sub/h2.bin": b"second\xff" * 200, "sub/deeper/h3.txt": b"third\n"}


def make_bigset(parent: Path, name: str = "bigset") -> Path:
    root = parent / name
    for rel, data in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def keys(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def copy_with_enter(pilot: Any, key: str = "c") -> TransferDialog:
    await pilot.press(key)
    dialog = pilot.app.screen
    assert isinstance(dialog, TransferDialog)
    await pilot.press("enter")
    await settle(pilot)
    return dialog


async def test_f5_local_folder_onto_a_prefix_puts_the_folder_itself(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("fold")
    s3.put_object(Bucket=bucket, Key="incoming/already.txt", Body=b"here before")
    make_bigset(tmp_path)

    app = make_app(tmp_path, f"s3://{bucket}/incoming/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "bigset/")
        await pilot.press("f5")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        # the destination is the other pane's location, ready to edit, and Enter accepts it
        assert isinstance(app.focused, Input) and app.focused.value == f"s3://{bucket}/incoming/"
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []

        expected = {f"incoming/bigset/{rel}": data for rel, data in FILES.items()}
        expected["incoming/already.txt"] = b"here before"
        assert keys(s3, bucket) == expected
        # the destination pane shows the new folder, and a fresh listing agrees
        assert names(app.right) == ["..", "bigset/", "already.txt"]
        await app.right.reload()
        assert names(app.right) == ["..", "bigset/", "already.txt"]


async def test_f5_folder_from_a_bucket_to_a_local_folder(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("down")
    for rel, data in FILES.items():
        s3.put_object(Bucket=bucket, Key=f"data/bigset/{rel}", Body=data)
    s3.put_object(Bucket=bucket, Key="data/other.txt", Body=b"not me")
    local = tmp_path / "dl"
    local.mkdir()

    app = make_app(local, f"s3://{bucket}/data/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "bigset/")
        await copy_with_enter(pilot)
        assert errors(app) == []
        assert tree(local) == {f"bigset/{rel}": data for rel, data in FILES.items()}
        assert names(app.left) == ["..", "bigset/"]


async def test_f5_folder_between_two_buckets(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    src, dst = new_bucket("from"), new_bucket("to")
    for rel, data in FILES.items():
        s3.put_object(Bucket=src, Key=f"bigset/{rel}", Body=data)

    app = make_app(f"s3://{src}/", f"s3://{dst}/incoming/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "bigset/")
        await copy_with_enter(pilot)
        assert errors(app) == []
        assert keys(s3, dst) == {f"incoming/bigset/{rel}": data for rel, data in FILES.items()}
        assert len(keys(s3, src)) == len(FILES)  # a copy leaves the source


async def test_marked_folders_each_go_as_themselves_beside_the_files(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("marks")
    make_bigset(tmp_path, "one")
    make_bigset(tmp_path, "two")
    (tmp_path / "loose.txt").write_bytes(b"loose")
    make_bigset(tmp_path, "unmarked")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for name in ("one/", "two/", "loose.txt"):
            await cursor_to(pilot, app.left, name)
            await pilot.press("space")
        await copy_with_enter(pilot)
        assert errors(app) == []
        expected = {f"{top}/{rel}": data for top in ("one", "two") for rel, data in FILES.items()}
        expected["loose.txt"] = b"loose"
        assert keys(s3, bucket) == expected


async def test_f6_moves_the_folder_itself_and_removes_it_locally(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("mvfold")
    make_bigset(tmp_path)

    app = make_app(tmp_path, f"s3://{bucket}/in/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "bigset/")
        await copy_with_enter(pilot, "f6")
        assert errors(app) == []
        assert keys(s3, bucket) == {f"in/bigset/{rel}": data for rel, data in FILES.items()}
        assert not (tmp_path / "bigset").exists()
        assert names(app.left) == [".."]
        assert names(app.right) == ["..", "bigset/"]


async def test_a_folder_is_not_copied_into_itself(tmp_path: Path) -> None:
    make_bigset(tmp_path)
    app = make_app(tmp_path, tmp_path / "bigset")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "bigset/")
        await pilot.press("c", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageDialog)
        assert tree(tmp_path / "bigset") == FILES  # nothing copied below itself


async def test_the_destination_can_be_edited(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("edit")
    (tmp_path / "report.txt").write_bytes(b"report")
    make_bigset(tmp_path)

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # a typed folder: the file goes inside it
        await cursor_to(pilot, app.left, "report.txt")
        await pilot.press("c")
        box = app.screen.query_one("#destination", Input)
        box.value = f"s3://{bucket}/elsewhere/deep/"
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert keys(s3, bucket) == {"elsewhere/deep/report.txt": b"report"}

        # a typed name without a trailing /: the one entry is copied as that name
        await pilot.press("c")
        app.screen.query_one("#destination", Input).value = f"s3://{bucket}/renamed.txt"
        await pilot.press("enter")
        await settle(pilot)
        assert keys(s3, bucket, "renamed") == {"renamed.txt": b"report"}

        # a relative local path is taken from the other pane's folder (here a local one)
        await pilot.press("tab")
        app.right.location = app.left.location
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.left, "bigset/")
        await pilot.press("c")
        app.screen.query_one("#destination", Input).value = "copies/"
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert tree(tmp_path / "copies") == {f"bigset/{rel}": data for rel, data in FILES.items()}


async def test_the_conflict_choice_moves_with_the_arrows(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    """The default (only if newer) keeps a newer destination; Down, Enter picks Overwrite and replaces it."""
    bucket = new_bucket("arrows")
    (tmp_path / "f.txt").write_bytes(b"older local")
    an_hour_ago = time.time() - 3600
    os.utime(tmp_path / "f.txt", (an_hour_ago, an_hour_ago))
    s3.put_object(Bucket=bucket, Key="f.txt", Body=b"newer remote")  # written after the local file

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "f.txt")
        await copy_with_enter(pilot)
        assert keys(s3, bucket) == {"f.txt": b"newer remote"}

        await pilot.press("c")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        await pilot.press("down")
        assert dialog.query_one(RadioSet).pressed_index == 1 and dialog.choice == "overwrite"
        seen = []
        for key in ("down", "down", "up", "up"):  # skip, newer (it wraps around), skip, overwrite
            await pilot.press(key)
            seen.append(dialog.choice)
        assert seen == ["skip", "newer", "skip", "overwrite"]
        assert isinstance(app.focused, Input)  # the arrows did not take the focus from the destination
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        assert keys(s3, bucket) == {"f.txt": b"older local"}


async def test_delete_and_new_folder_refresh_both_panes_on_one_folder(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").write_bytes(b"x")
    app = make_app(tmp_path, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert names(app.right) == ["..", "gone.txt"]
        await cursor_to(pilot, app.left, "gone.txt")
        await pilot.press("d", "shift+tab", "enter")
        await settle(pilot)
        assert not (tmp_path / "gone.txt").exists()
        assert names(app.left) == [".."]
        assert names(app.right) == [".."]  # the other pane showed it too

        await pilot.press("n")
        assert isinstance(app.screen, PromptDialog)
        await pilot.press(*"fresh", "enter")
        await settle(pilot)
        assert (tmp_path / "fresh").is_dir()
        assert names(app.left) == ["..", "fresh/"]
        assert names(app.right) == ["..", "fresh/"]


# -- Azure ------------------------------------------------------------------------------------------------------


@pytest.fixture
def az_container(azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """A fresh container on the suite's Azurite, reached by the app as ``az://NAME/`` (the connection string)."""
    from azure.storage.blob import BlobServiceClient

    for name, value in azurite_server.env().items():
        monkeypatch.setenv(name, value)
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string)
    name = f"ui-{uuid.uuid4().hex[:12]}"
    client = service.get_container_client(name)
    client.create_container()
    try:
        yield name, client
    finally:
        client.delete_container()
        service.close()


def blobs(client: Any) -> dict[str, bytes]:
    return {b.name: client.download_blob(b.name).readall() for b in client.list_blobs()}


async def test_f5_folder_to_azure_and_back(az_container: tuple[str, Any], tmp_path: Path) -> None:
    name, client = az_container
    up = tmp_path / "up"
    up.mkdir()
    make_bigset(up)
    down = tmp_path / "down"
    down.mkdir()

    app = make_app(up, f"az://{name}/incoming/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "bigset/")
        await copy_with_enter(pilot)
        assert errors(app) == []
        assert blobs(client) == {f"incoming/bigset/{rel}": data for rel, data in FILES.items()}
        assert names(app.right) == ["..", "bigset/"]

        app.left.location = parse_location(f"{down}/")
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "bigset/")
        await copy_with_enter(pilot)
        assert errors(app) == []
        assert tree(down) == {f"bigset/{rel}": data for rel, data in FILES.items()}


def row_of(pane: Any, name: str) -> Any:
    found = [r for r in pane.rows if r.name == name]
    assert len(found) == 1, pane.rows
    return found[0]


async def test_restore_and_undelete_refresh_the_pane(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    """After the versions screen restored an old version (or undeleted), the pane shows the object as it now is."""
    bucket = new_bucket("ver", versioned=True)
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"1")
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"22222")
    s3.put_object(Bucket=bucket, Key="gone.txt", Body=b"333")
    s3.delete_object(Bucket=bucket, Key="gone.txt")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        assert row_of(app.right, "k.txt").size == 5
        await cursor_to(pilot, app.right, "k.txt")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VersionsScreen)
        await pilot.press("down", "r")  # the older version, restored as the latest
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert s3.get_object(Bucket=bucket, Key="k.txt")["Body"].read() == b"1"
        assert row_of(app.right, "k.txt").size == 1

        await pilot.press("u")  # show deleted objects
        await settle(pilot)
        assert row_of(app.right, "gone.txt").kind == "deleted"
        await cursor_to(pilot, app.right, "gone.txt")
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("u")  # undelete
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert s3.get_object(Bucket=bucket, Key="gone.txt")["Body"].read() == b"333"
        assert row_of(app.right, "gone.txt").kind == "file"


async def test_a_folder_is_never_written_through_a_planted_symlink(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    """``dl/bigset -> elsewhere``: F5 of the bucket's bigset/ into dl is refused, elsewhere stays empty."""
    bucket = new_bucket("link")
    s3.put_object(Bucket=bucket, Key="bigset/h1.bin", Body=b"h1")
    dl, elsewhere = tmp_path / "dl", tmp_path / "elsewhere"
    dl.mkdir()
    elsewhere.mkdir()
    (dl / "bigset").symlink_to(elsewhere)

    app = make_app(dl, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "bigset/")
        await pilot.press("c", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MessageDialog)
        assert list(elsewhere.iterdir()) == []
