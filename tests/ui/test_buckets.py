"""F7/n in a bucket list: the NewBucketDialog checks the name as you type and creates a private bucket."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from textual.widgets import Button, Checkbox, Input, Static

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, notifications, settle
from tui.ui.dialogs import NewBucketDialog


async def test_new_bucket_with_versioning(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any) -> None:
    existing = new_bucket("there")
    name = new_bucket("nb", create=False)

    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert existing in names(app.right)
        assert name not in names(app.right)

        await pilot.press("tab", "n")
        await settle(pilot)  # the dialog opens once the remote is connected (a worker)
        dialog = app.screen
        assert isinstance(dialog, NewBucketDialog)
        create = dialog.query_one("#ok", Button)
        assert create.disabled  # nothing typed yet
        assert isinstance(app.focused, Input) and app.focused.id == "name"

        # invalid names keep Create disabled, say why, and Enter does not submit them
        for bad in ("ab", "Ab_c", "-abc", "a..b"):
            await pilot.press(*bad)
            assert create.disabled, bad
            assert cell_text(dialog.query_one("#name-error", Static).content).strip(), bad
            await pilot.press("enter")
            assert app.screen is dialog, bad
            await pilot.press("ctrl+u")
        assert dialog.query_one("#name", Input).value == ""

        await pilot.press(*name)
        assert not create.disabled
        assert cell_text(dialog.query_one("#name-error", Static).content) == ""

        versioning = dialog.query_one("#versioning", Checkbox)
        assert not versioning.value
        await pilot.press("tab", "tab")  # name -> region -> versioning
        assert app.focused is versioning
        await pilot.press("space")
        assert versioning.value
        await pilot.press("tab")
        assert app.focused is create
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, NewBucketDialog)
        assert errors(app) == []
        assert any(name in message for _, _, message in notifications(app))

        s3.head_bucket(Bucket=name)
        assert s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"
        assert s3.list_objects_v2(Bucket=name).get("KeyCount") == 0
        assert name in names(app.right)
        await cursor_to(pilot, app.right, name)


async def test_cancelled_new_bucket_creates_nothing(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any) -> None:
    name = new_bucket("nx", create=False)
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab", "n")
        await settle(pilot)
        assert isinstance(app.screen, NewBucketDialog)
        await pilot.press(*name, "escape")
        await settle(pilot)
        assert not isinstance(app.screen, NewBucketDialog)
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("404", "NoSuchBucket")
    else:
        raise AssertionError(f"bucket {name} was created")
