"""S3 -> Azure server-side (Put Block From URL, as azcopy does), and its fallback: Azurite answers 501, so the copy
streams, says so once per remote pair, and never asks again. The fault proxy before Azurite counts the requests.

Azurite (the only Azure this suite has) cannot pull, so the pulling path itself is exercised up to the service's
answer: the request goes out (a Put Block with an empty body and the presigned source), the 501 comes back."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.azure.conftest import key_options, new_container_name
from tests.azure.test_blocks import moto_remote_for_azure  # noqa: F401 - a fixture
from tests.faults.proxy import FaultProxy, RequestRecord
from tests.servers import AzuriteServer
from tui.storage.azure.remote import AzureRemote
from tui.storage.azure.store import AzureStore
from tui.transfer import pull
from tui.transfer.copy import CopyOptions, copy_object

MiB = 1024 * 1024
PART = 5 * MiB


def from_url(rec: RequestRecord) -> bool:
    """Put Block From URL: a Put Block without a body (the service reads the source)."""
    return rec.method == "PUT" and rec.query.get("comp") == "block" and rec.content_length in (0, None)


def with_body(rec: RequestRecord) -> bool:
    return rec.method == "PUT" and rec.query.get("comp") == "block" and (rec.content_length or 0) > 0


@pytest.fixture
async def proxied(azurite_server: AzuriteServer) -> AsyncIterator[tuple[FaultProxy, AzureStore]]:
    proxy = FaultProxy(azurite_server.endpoint_url)
    await proxy.start()
    remote = await AzureRemote.connect(
        key_options(azurite_server, account_url=f"{proxy.url}/{azurite_server.access_key}")
    )
    name = new_container_name()
    await remote.create_bucket(name)
    pull._CANNOT.clear()  # a fresh process as far as the per-pair memory goes
    try:
        yield proxy, remote.store(name)
    finally:
        pull._CANNOT.clear()
        await remote.client.get_container_client(name).delete_container()
        await remote.close()
        await proxy.stop()
    assert not proxy.errors, f"the fault proxy itself failed: {proxy.errors!r}"


async def test_s3_to_azurite_tries_put_block_from_url_once_then_streams_and_says_so_once(
    proxied: tuple[FaultProxy, AzureStore],
    moto_remote_for_azure: Any,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, store = proxied
    s3 = moto_remote_for_azure
    one, two = os.urandom(2 * PART + 3), os.urandom(PART + 9)
    await s3.put("one.bin", one, metadata={"mtime": "1650000000.5"})
    await s3.put("two.bin", two)
    options = CopyOptions(part_size=PART, concurrency=2)
    with caplog.at_level(logging.WARNING, logger="cloudpane"):
        await copy_object(s3, "one.bin", store, "one.bin", options=options)
        await copy_object(s3, "two.bin", store, "two.bin", options=options)
    tried = [r for r in proxy.records if from_url(r)]
    assert [(r.key.rsplit("/", 1)[-1], r.status) for r in tried] == [("one.bin", 501)]  # once per pair
    assert sum(1 for r in proxy.records if with_body(r)) == 3 + 2  # then streamed, block by block
    notes = [r.getMessage() for r in caplog.records if r.name.startswith("cloudpane")]
    assert len(notes) == 1, notes
    assert "az cannot pull from moto server-side (501" in notes[0] and "streaming" in notes[0]
    assert "Signature" not in notes[0] and "X-Amz" not in notes[0]
    for key, data in (("one.bin", one), ("two.bin", two)):
        got = b"".join([c async for c in store.read(key)])
        assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    assert (await store.stat("one.bin")).metadata["mtime"] == "1650000000.5"


async def test_a_refused_pull_leaves_the_old_blob_and_the_streamed_copy_replaces_it(
    proxied: tuple[FaultProxy, AzureStore],
    moto_remote_for_azure: Any,  # noqa: F811
) -> None:
    proxy, store = proxied
    s3 = moto_remote_for_azure
    await store.put("k.bin", b"old")
    data = os.urandom(PART + 1)
    await s3.put("k.bin", data)
    await copy_object(s3, "k.bin", store, "k.bin", options=CopyOptions(part_size=PART))
    assert sum(1 for r in proxy.records if from_url(r)) == 1
    assert b"".join([c async for c in store.read("k.bin")]) == data


async def test_empty_objects_and_same_account_copies_never_pull(
    proxied: tuple[FaultProxy, AzureStore],
    moto_remote_for_azure: Any,  # noqa: F811
) -> None:
    proxy, store = proxied
    s3 = moto_remote_for_azure
    await s3.put("empty", b"")
    await copy_object(s3, "empty", store, "empty")
    await store.put("a", b"x" * 10)
    await copy_object(store, "a", store, "b", same_remote=True)
    assert not [r for r in proxy.records if from_url(r)]
    assert not pull._CANNOT
    assert b"".join([c async for c in store.read("b")]) == b"x" * 10
