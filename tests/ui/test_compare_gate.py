"""Compare panes (``=``) goes through the one delete gate: its plan is made with ``force`` (to show every key that
is only at the destination), so the screen must say what the gate refuses without it and offer no deletes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Checkbox

from tests.ui.conftest import SIZE, make_app, settle
from tui.ui.compare import CompareScreen

FILES = {f"{n}.txt": n.encode() * 10 for n in "abcd"}


async def test_compare_from_an_empty_folder_offers_no_deletes(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    b = new_bucket("cmp")
    for rel, data in FILES.items():
        s3.put_object(Bucket=b, Key=rel, Body=data)
    empty = tmp_path / "empty"  # a folder whose disk is not mounted looks like this
    empty.mkdir()
    app = make_app(empty, f"s3://{b}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("equals_sign")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen), screen
        assert screen.report.deleted == 4  # the plan shows what is only at the destination
        assert len(screen.blocked) == 1 and "the source is empty" in screen.blocked[0], screen.blocked
        box = screen.query_one("#delete", Checkbox)
        assert box.disabled
        box.value = True  # even if it were ticked, the backup it runs deletes nothing
        await pilot.click("#ok")
        await settle(pilot)
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])) == sorted(FILES)


async def test_compare_with_a_few_deletes_offers_them(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    b = new_bucket("cmp")
    for rel, data in FILES.items():
        s3.put_object(Bucket=b, Key=rel, Body=data)
    src = tmp_path / "src"
    src.mkdir()
    for rel in ("a.txt", "b.txt", "c.txt"):
        (src / rel).write_bytes(FILES[rel])
    app = make_app(src, f"s3://{b}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("equals_sign")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen), screen
        assert screen.blocked == [] and screen.report.deleted == 1
        assert not screen.query_one("#delete", Checkbox).disabled
