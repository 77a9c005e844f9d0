"""U: upload from a URL into the bucket pane, through the transfers panel, against a real HTTP server.

The server is Python's own, on 127.0.0.1: plain http:// is what the CLI's rule allows there (and only there), so the
test goes through the same parse as a user's https URL. The bytes on the S3 server are checked.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, Input

from tests.ui.conftest import SIZE, cell_text, errors, make_app, names, notifications, settle
from tui.ui.transfers import TransfersScreen
from tui.ui.urlupload import UrlDialog

BODY = os.urandom(300 * 1024)
#: the slow URL announces this many bytes, sends the first chunk and then waits
SLOW_SIZE = 4 * 1024 * 1024


class _Handler(SimpleHTTPRequestHandler):
    release: threading.Event

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _slow_head(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(SLOW_SIZE))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()

    def do_HEAD(self) -> None:
        if self.path == "/slow.bin":
            self._slow_head()
            return
        super().do_HEAD()

    def do_GET(self) -> None:
        if self.path == "/slow.bin":
            self._slow_head()
            self.wfile.write(b"x" * 65536)
            self.wfile.flush()
            self.release.wait(60)
            return
        super().do_GET()


@pytest.fixture
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, threading.Event]]:
    root = tmp_path_factory.mktemp("web")
    (root / "photo one.bin").write_bytes(BODY)
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def _dialog(app: Any) -> UrlDialog:
    assert isinstance(app.screen, UrlDialog), app.screen
    return app.screen


async def test_a_url_lands_in_the_bucket_with_its_name(
    s3_env: Any, s3: Any, new_bucket: Any, web: tuple[str, threading.Event], tmp_path: Path
) -> None:
    bucket = new_bucket("url")
    s3.put_object(Bucket=bucket, Key="in/keep.txt", Body=b"already here")
    base, _ = web
    app = make_app(f"s3://{bucket}/in/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        dialog = _dialog(app)
        await pilot.press(*f"{base}/photo%20one.bin")
        assert dialog.query_one("#name", Input).value == "photo one.bin"  # the URL's last segment, decoded
        await pilot.press("enter")  # to the name
        assert dialog.query_one("#name", Input).has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert errors(app) == []
        body = s3.get_object(Bucket=bucket, Key="in/photo one.bin")["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(BODY).digest()
        (transfer,) = app.queue.items
        assert transfer.state == "done" and transfer.done == len(BODY)
        assert "photo one.bin" in names(app.left)  # the pane was listed again

        # the name is editable: the same URL under another name
        await pilot.press("U")
        await settle(pilot)
        dialog = _dialog(app)
        await pilot.press(*f"{base}/photo%20one.bin", "tab")
        name = dialog.query_one("#name", Input)
        name.value = "renamed.bin"
        await pilot.press("enter")
        await settle(pilot)
    assert s3.get_object(Bucket=bucket, Key="in/renamed.bin")["Body"].read() == BODY


async def test_bad_urls_are_one_line_and_upload_nothing(
    s3_env: Any, s3: Any, new_bucket: Any, web: tuple[str, threading.Event], tmp_path: Path
) -> None:
    bucket = new_bucket("url")
    base, _ = web
    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        dialog = _dialog(app)
        for typed, says in (
            ("http://example.com/x.bin", "http://"),
            ("ftp://example.com/x", "https://"),
            ("https://", "no host"),
        ):
            dialog.query_one("#url", Input).value = typed
            await pilot.pause()
            line = cell_text(dialog.query_one("#url-error").render())
            assert says in line and "\n" not in line, (typed, line)
            assert dialog.query_one("#ok", Button).disabled, typed
            await pilot.press("enter")
            assert app.screen is dialog, typed  # refused: the dialog stays
        # a name with a slash is refused too
        dialog.query_one("#url", Input).value = f"{base}/photo%20one.bin"
        await pilot.pause()
        dialog.query_one("#name", Input).value = "a/b"
        await pilot.pause()
        assert dialog.query_one("#ok", Button).disabled

        # a URL that answers 404: the transfer fails with one line, nothing is written
        dialog.query_one("#name", Input).value = "missing.bin"
        dialog.query_one("#url", Input).value = f"{base}/missing.bin"
        await pilot.pause()
        await pilot.click("#ok")
        await settle(pilot)
        (transfer,) = app.queue.items
        assert transfer.state == "failed" and "404" in transfer.error and "\n" not in transfer.error
        assert any("1 failed" in n[2] for n in notifications(app)), notifications(app)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


async def test_cancel_a_url_upload_leaves_nothing(
    s3_env: Any, s3: Any, new_bucket: Any, web: tuple[str, threading.Event], tmp_path: Path
) -> None:
    bucket = new_bucket("url")
    base, release = web
    app = make_app(f"s3://{bucket}/", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        _dialog(app).query_one("#url", Input).value = f"{base}/slow.bin"
        await pilot.pause()
        await pilot.click("#ok")
        for _ in range(400):
            await pilot.pause(0.05)
            items = app.queue.items
            if items and items[0].state == "running" and items[0].done > 0:
                break
        (transfer,) = app.queue.items
        assert transfer.state == "running" and 0 < transfer.done < SLOW_SIZE  # progress while it streams
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TransfersScreen)
        await pilot.press("x")
        await settle(pilot)
        assert transfer.state == "cancelled"
        release.set()
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


async def test_only_a_bucket_pane_takes_a_url(s3_env: Any, new_bucket: Any, tmp_path: Path) -> None:
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in ("local", "bucket list"):
            app._notifications.clear()
            await pilot.press("U")
            await settle(pilot)
            assert app.screen is app.screen_stack[0]
            assert [n[2] for n in notifications(app)] == [
                "Uploads from a URL go into a bucket: open one in this pane first"
            ]
            await pilot.press("tab")
