"""F8/d asks first; the dialog's default button is Cancel, Escape cancels, only an explicit Delete deletes."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from textual.widgets import Button, Static

from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, names, settle
from tui.ui.dialogs import ConfirmDialog


def exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise
    return True


async def test_delete_asks_and_cancel_keeps_the_object(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Any) -> None:
    bucket = new_bucket("del")
    s3.put_object(Bucket=bucket, Key="victim.txt", Body=b"v")
    s3.put_object(Bucket=bucket, Key="bystander.txt", Body=b"b")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "victim.txt")

        # Escape cancels
        await pilot.press("d")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        body = cell_text(dialog.query_one(".dialog-body Static", Static).content)
        assert "victim.txt" in body and "bystander.txt" not in body and bucket in body
        assert isinstance(app.focused, Button) and app.focused.id == "cancel"  # the safe default
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert exists(s3, bucket, "victim.txt")
        assert names(app.right) == ["..", "bystander.txt", "victim.txt"]

        # Enter on the default button cancels too
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert exists(s3, bucket, "victim.txt")

        # an explicit Delete deletes exactly that object
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, Button) and app.focused.id == "ok"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert errors(app) == []
        assert not exists(s3, bucket, "victim.txt")
        assert exists(s3, bucket, "bystander.txt")
        assert names(app.right) == ["..", "bystander.txt"]
