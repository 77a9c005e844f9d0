"""F3 / o views an object: its first 256 KiB by one ranged GET (seen through a recording proxy in front of moto),
text through display_text (no markup, no control characters), binary as a hex dump, a line when it is cut.
The inspector stays on i."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static, TextArea

from tests.faults.proxy import FaultProxy
from tests.servers import S3Server
from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, settle
from tests.ui.test_folder_copy import az_container  # noqa: F401 - the fixture, shared
from tui.ui.objects import InspectorScreen
from tui.ui.pane import compact_size
from tui.ui.viewer import PREVIEW_BYTES, ViewerScreen, hex_lines


@pytest.fixture
async def proxy(moto_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FaultProxy]:
    """The app's S3 requests go through a recording proxy to moto."""
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


def shown(app: Any) -> tuple[str, str]:
    screen = app.screen
    assert isinstance(screen, ViewerScreen), screen
    return screen.query_one(TextArea).text, cell_text(screen.query_one("#viewer-summary", Static).content)


async def open_viewer(pilot: Any, key: str = "f3") -> tuple[str, str]:
    await pilot.press(key)
    await settle(pilot)
    return shown(pilot.app)


async def test_f3_reads_only_the_first_256_kib_of_a_big_object(
    proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("view")
    lines = [f"line {i:06d} of the log\n" for i in range(40_000)]  # 1 MiB of text
    body = "".join(lines).encode()
    assert len(body) > 3 * PREVIEW_BYTES
    s3.put_object(Bucket=bucket, Key="big.log", Body=body)

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "big.log")
        mark = proxy.mark()
        text, summary = await open_viewer(pilot)
        assert errors(app) == []

        gets = proxy.find("GetObject", key="big.log", since=mark)
        assert len(gets) == 1 and gets[0].range == f"bytes=0-{PREVIEW_BYTES - 1}", gets
        assert proxy.download_bytes("big.log", since=mark) == PREVIEW_BYTES
        assert text == body[:PREVIEW_BYTES].decode().rstrip("\n")
        assert text.startswith("line 000000 of the log\nline 000001")
        assert f"truncated: the first 256.0K of {compact_size(len(body))}" in summary

        # it scrolls: End goes to the last line read
        area = app.screen.query_one(TextArea)
        await pilot.press("end")
        await pilot.pause()
        assert area.cursor_location[0] == area.document.line_count - 1
        assert area.scroll_offset.y > area.document.line_count - 40
        await pilot.press("escape")
        assert not isinstance(app.screen, ViewerScreen)


async def test_untrusted_text_is_shown_escaped_never_as_markup(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("evil")
    evil = "[bold red]not markup[/] \x1b[31mred\x1b[0m \u202eevil\ttab\r\nnext line\n"
    s3.put_object(Bucket=bucket, Key="evil.txt", Body=evil.encode())

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "evil.txt")
        text, summary = await open_viewer(pilot, "o")  # the letter alias
        assert text.split("\n") == [
            "[bold red]not markup[/] \\x1b[31mred\\x1b[0m \\u202eevil   tab",  # the tab to column 56
            "next line",
        ]
        assert "\x1b" not in text and "\u202e" not in text
        assert "text" in summary and "truncated" not in summary


async def test_binary_is_a_hex_dump(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("bin")
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="blob.bin", Body=data)

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "blob.bin")
        text, summary = await open_viewer(pilot)
        rows = text.split("\n")
        assert len(rows) == len(data) // 16
        assert rows[0] == "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
        assert rows[4] == "00000040  40 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f  |@ABCDEFGHIJKLMNO|"
        assert "hex" in summary


async def test_a_local_file_and_an_empty_object(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("empty")
    s3.put_object(Bucket=bucket, Key="empty.txt", Body=b"")
    (tmp_path / "café.txt").write_text("Grüße\n", encoding="utf-8")

    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await cursor_to(pilot, app.left, "café.txt")
        text, _ = await open_viewer(pilot)
        assert text == "Grüße"
        await pilot.press("q")
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "empty.txt")
        text, summary = await open_viewer(pilot)
        assert errors(app) == []
        assert text == "" and "empty" in summary


async def test_the_inspector_stays_on_i(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("insp")
    s3.put_object(Bucket=bucket, Key="k.txt", Body=b"k")
    app = make_app(tmp_path, f"s3://{bucket}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "k.txt")
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, InspectorScreen)


def test_a_character_cut_by_the_end_of_the_preview_keeps_it_text() -> None:
    from tui.ui.viewer import Preview, render

    data = ("é" * 10).encode()[:-1]  # the last é cut in half
    assert render(Preview(data, size=100)) == ("text", "é" * 9)
    assert render(Preview(data, size=len(data)))[0] == "hex"  # the whole file: invalid UTF-8
    assert hex_lines(b"ab") == ["00000000  61 62" + " " * 45 + "|ab|"]


async def test_view_a_blob_on_azure(az_container: tuple[str, Any], tmp_path: Path) -> None:  # noqa: F811
    name, client = az_container
    client.upload_blob("big.txt", b"A" * (PREVIEW_BYTES + 10) + b"END")

    app = make_app(tmp_path, f"az://{name}/")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("tab")
        await cursor_to(pilot, app.right, "big.txt")
        text, summary = await open_viewer(pilot)
        assert errors(app) == []
        assert text == "A" * PREVIEW_BYTES and "truncated" in summary
