"""i on a bucket row: the bucket's settings as the server reports them, versioning toggled through a confirmation,
and a du (object count and size) streamed from the listing, with a count that grows and a key that stops it.

Against moto (every setting), rclone serve s3 (most are not available there) and Azurite (a container's
settings), checked with boto3 / the server. A missing configuration shows "not set", never an error.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.faults.proxy import FaultProxy, RequestRecord
from tests.servers import AzuriteServer, S3Server
from tests.ui.conftest import SIZE, cell_text, cursor_to, errors, make_app, settle
from tui.ui.app import CloudpaneApp
from tui.ui.buckets import BucketInspectorScreen
from tui.ui.dialogs import ConfirmDialog


async def open_inspector(pilot: Pilot[Any], app: CloudpaneApp, bucket: str) -> BucketInspectorScreen:
    """Tab to the right pane (the bucket list), the cursor onto ``bucket``, press i."""
    await settle(pilot)
    await pilot.press("tab")
    await cursor_to(pilot, app.right, bucket)
    await pilot.press("i")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, BucketInspectorScreen), screen
    return screen


def facts(screen: BucketInspectorScreen) -> dict[str, tuple[str, str]]:
    assert screen.report is not None
    return {f.label: (f.status, f.value) for f in screen.report.facts}


def body(screen: BucketInspectorScreen) -> str:
    return cell_text(screen.query_one("#bucket-facts", Static).content)


def du_text(screen: BucketInspectorScreen) -> str:
    return cell_text(screen.query_one("#bucket-du", Static).content)


async def test_the_settings_of_a_configured_bucket(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("cfg", create=False)
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        ObjectLockEnabledForBucket=True,  # turns versioning on as well
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 3}},
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )

    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        got = facts(screen)
        assert got["Region"] == ("set", "eu-west-1")
        assert got["Versioning"] == ("set", s3.get_bucket_versioning(Bucket=bucket)["Status"]) == ("set", "Enabled")
        assert got["Block Public Access"] == ("set", "all public access blocked (4 of 4 settings on)")
        assert got["Object ownership"] == ("set", "BucketOwnerEnforced (ACLs disabled)")
        assert got["Object Lock"] == ("set", "Enabled · default retention GOVERNANCE 3 day(s)")
        assert got["Default encryption"] == ("set", "AES256")
        text = body(screen)
        assert "eu-west-1" in text and "BucketOwnerEnforced" in text and "GOVERNANCE" in text
        assert "error" not in text
        assert errors(app) == []
        await pilot.press("escape")
        assert not isinstance(app.screen, BucketInspectorScreen)


async def test_missing_configurations_show_not_set(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("bare")
    # moto answers NoSuchPublicAccessBlockConfiguration, OwnershipControlsNotFoundError, ...: not errors
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        got = facts(screen)
        assert got["Region"] == ("set", "us-east-1")
        assert got["Versioning"] == ("not set", "never enabled")
        for label in ("Block Public Access", "Object ownership", "Object Lock"):
            assert got[label][0] == "not set", (label, got[label])
        text = body(screen)
        assert "error" not in text and text.count("not set") >= 4, text
        assert errors(app) == []


async def test_versioning_is_toggled_through_a_confirmation(
    s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("tog")
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        assert facts(screen)["Versioning"][0] == "not set"

        # v asks; Escape changes nothing
        await pilot.press("v")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "Enable versioning" in cell_text(dialog.query_one(".dialog-body Static", Static).content)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)

        # v, Enter (Enable has the focus): enabled on the server, shown
        await pilot.press("v")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        assert facts(screen)["Versioning"] == ("set", "Enabled")
        remote = await app.hub.remote(app.right.location)  # type: ignore[arg-type]
        assert await remote.get_versioning(bucket) == "Enabled"

        # v again: suspending is the dangerous way (Cancel has the focus): Enter cancels, the button suspends
        await pilot.press("v")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert "Suspend versioning" in cell_text(dialog.query_one(".dialog-body Static", Static).content)
        await pilot.press("enter")
        await settle(pilot)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        await pilot.press("v")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#ok")
        await settle(pilot)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
        assert facts(screen)["Versioning"] == ("set", "Suspended")
        assert errors(app) == []


class Gate:
    """A request held by the proxy until the test opens the gate."""

    def __init__(self, match: Callable[[RequestRecord], bool]) -> None:
        self.match = match
        self.reached = asyncio.Event()
        self.open = asyncio.Event()

    async def __call__(self, record: RequestRecord) -> None:
        if not self.match(record):
            return
        self.reached.set()
        await self.open.wait()


@pytest.fixture
async def proxy(moto_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FaultProxy]:
    """A fault proxy in front of moto, and the default S3 remote pointed at it."""
    fault_proxy = FaultProxy(moto_server.endpoint_url)
    await fault_proxy.start()
    for name, value in moto_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", fault_proxy.url)
    try:
        yield fault_proxy
    finally:
        await fault_proxy.stop()
    assert not fault_proxy.errors, f"the fault proxy itself failed: {fault_proxy.errors!r}"


async def wait_until(pilot: Pilot[Any], what: str, predicate: Callable[[], bool], rounds: int = 3000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


#: objects in the du bucket: two pages of a flat listing
DU_COUNT = 1234


@pytest.fixture(scope="module")
def du_bucket(s3: Any) -> tuple[str, int]:
    """One bucket of DU_COUNT objects of different sizes (some in folders), shared by the du tests (moto takes its
    time per PUT); returns (name, total size)."""
    name = f"ui-du-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)

    def put(n: int) -> int:
        body = b"z" * (n % 7)
        s3.put_object(Bucket=name, Key=f"d{n % 3}/k{n:05d}", Body=body)
        return len(body)

    with ThreadPoolExecutor(8) as pool:
        total = sum(pool.map(put, range(DU_COUNT)))
    return name, total


async def test_du_counts_objects_and_bytes_page_by_page(
    proxy: FaultProxy, du_bucket: tuple[str, int], tmp_path: Path
) -> None:
    bucket, total = du_bucket
    count = DU_COUNT
    second_page = Gate(lambda r: r.op == "ListObjectsV2" and "continuation-token" in r.query)
    proxy.add_rule("ListObjectsV2", "hook", times=None, hook=second_page)

    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        assert "press s" in du_text(screen)
        await pilot.press("s")
        await wait_until(pilot, "the second page is asked for", second_page.reached.is_set)
        # the first page is counted and shown while the second is on its way
        await wait_until(pilot, "1,000 objects shown", lambda: "1,000" in du_text(screen))
        assert screen.counted[0] == 1000 and not screen.du_done
        assert "counting" in du_text(screen)
        second_page.open.set()
        await wait_until(pilot, "the count is complete", lambda: screen.du_done)
        assert screen.counted == (count, total)
        text = du_text(screen)
        assert f"{count:,}" in text and f"({total:,} bytes)" in text and "complete" in text
        assert errors(app) == []


async def test_du_stops_on_s(proxy: FaultProxy, du_bucket: tuple[str, int], tmp_path: Path) -> None:
    bucket, _ = du_bucket
    second_page = Gate(lambda r: r.op == "ListObjectsV2" and "continuation-token" in r.query)
    proxy.add_rule("ListObjectsV2", "hook", times=None, hook=second_page)

    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        await pilot.press("s")
        await wait_until(pilot, "the second page is asked for", second_page.reached.is_set)
        await wait_until(pilot, "1,000 objects shown", lambda: "1,000" in du_text(screen))
        await pilot.press("s")  # stop
        await wait_until(pilot, "stopped", lambda: "stopped before the end" in du_text(screen))
        second_page.open.set()
        await settle(pilot)
        assert screen.counted[0] == 1000 and not screen.du_done
        assert "stopped before the end" in du_text(screen)  # the late page did not count
        assert app.screen is screen
        assert errors(app) == []


async def test_rclone_shows_what_is_not_available(
    rclone_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in rclone_server.env().items():
        monkeypatch.setenv(name, value)
    client = rclone_server.boto3_client()
    bucket = "ui-inspect-rclone"
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="a/one.txt", Body=b"12345")
    client.put_object(Bucket=bucket, Key="two.txt", Body=b"123")
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        got = facts(screen)
        assert got["Versioning"] == ("not available", "")
        # rclone answers these subresources with a plain listing (200): that says nothing, it is not "off"
        for label in ("Block Public Access", "Object ownership", "Object Lock", "Default encryption"):
            assert got[label] == ("not available", ""), (label, got[label])
        assert "error" not in body(screen)
        # versioning cannot be toggled on a server without it
        await pilot.press("v")
        assert app.screen is screen
        await pilot.press("s")
        await wait_until(pilot, "the count is complete", lambda: screen.du_done)
        assert screen.counted == (2, 8)
        assert errors(app) == []


async def test_an_azure_container(
    azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from azure.storage.blob import BlobServiceClient

    for name in list(os.environ):
        if name.startswith("AZURE_"):
            monkeypatch.delenv(name)
    for name, value in azurite_server.env().items():
        monkeypatch.setenv(name, value)
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string)
    container = "ui-inspect-az"
    service.create_container(container)
    service.get_blob_client(container, "x/y.txt").upload_blob(b"abcdef")
    try:
        app = make_app(tmp_path, "az://")
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_inspector(pilot, app, container)
            got = facts(screen)
            assert got["Public access"] == ("set", "private (no anonymous access)")
            assert got["Versioning"][0] == "not available"
            assert got["Region"][0] == "not available"
            assert all(status != "error" for status, _ in got.values()), got
            await pilot.press("s")
            await wait_until(pilot, "the count is complete", lambda: screen.du_done)
            assert screen.counted == (1, 6)
            assert errors(app) == []
    finally:
        service.delete_container(container)
        service.close()


async def test_a_setting_that_cannot_be_read_is_an_error_in_its_line_only(
    proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("denied")
    s3.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    proxy.add_rule("GetPublicAccessBlock", "status", status=403, code="AccessDenied", times=None)
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        got = facts(screen)
        status, value = got["Block Public Access"]
        assert status == "error" and "AccessDenied" in value, got
        assert got["Object ownership"] == ("set", "BucketOwnerEnforced (ACLs disabled)")
        assert got["Region"] == ("set", "us-east-1")
        assert "error: " in body(screen) and "AccessDenied" in body(screen)


async def test_a_bucket_gone_since_the_listing_says_so(s3_env: Any, s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("gone")
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        s3.delete_bucket(Bucket=bucket)  # after the pane listed it
        screen = await open_inspector(pilot, app, bucket)
        assert screen.report is None
        assert "NoSuchBucket" in body(screen), body(screen)
        await pilot.press("v")  # nothing to toggle
        assert app.screen is screen
        assert errors(app) == []


async def test_a_refused_versioning_change_says_why_and_changes_nothing(
    proxy: FaultProxy, s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("refuse")
    proxy.add_rule("PutBucketVersioning", "status", status=403, code="AccessDenied", times=None)
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        await pilot.press("v")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert any("AccessDenied" in message for _, _, message in errors(app)), errors(app)
        assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
        assert facts(screen)["Versioning"] == ("not set", "never enabled")


async def test_du_that_fails_midway_says_so_with_the_count_so_far(
    proxy: FaultProxy, du_bucket: tuple[str, int], tmp_path: Path
) -> None:
    bucket, _ = du_bucket
    proxy.add_rule(
        "ListObjectsV2",
        "status",
        status=403,
        code="AccessDenied",
        times=None,
        match=lambda r: "continuation-token" in r.query,
    )
    app = make_app(tmp_path, "s3://")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_inspector(pilot, app, bucket)
        await pilot.press("s")
        await wait_until(pilot, "the count failed", lambda: "counting failed" in du_text(screen))
        assert not screen.du_done and screen.counted[0] == 1000
        text = du_text(screen)
        assert "after 1,000 objects" in text and "AccessDenied" in text, text
