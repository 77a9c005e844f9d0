"""Fixtures of the Azure tests: a session AzureRemote on the suite's Azurite, and a fresh container per test.

Nothing is mocked: every call is HTTP to the Azurite started by ``tests/conftest.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.faults.proxy import FaultProxy
from tests.servers import AzuriteServer
from tui.storage.azure.options import AzureOptions
from tui.storage.azure.remote import AzureRemote
from tui.storage.azure.store import AzureStore


def key_options(server: AzuriteServer, **changes: object) -> AzureOptions:
    fields: dict[str, object] = {
        "name": "az",
        "account_url": server.blob_endpoint,
        "account_name": server.access_key,
        "account_key": server.secret_key,
    }
    fields.update(changes)
    return AzureOptions(**fields)  # type: ignore[arg-type]


def new_container_name() -> str:
    return f"az-{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
async def az_remote(azurite_server: AzuriteServer) -> AsyncIterator[AzureRemote]:
    remote = await AzureRemote.connect(key_options(azurite_server))
    try:
        yield remote
    finally:
        await remote.close()


@pytest.fixture
async def container(az_remote: AzureRemote) -> AsyncIterator[AzureStore]:
    """A fresh container, deleted with everything in it afterwards."""
    name = new_container_name()
    client = az_remote.client.get_container_client(name)
    await client.create_container()
    store = az_remote.store(name)
    assert isinstance(store, AzureStore)
    try:
        yield store
    finally:
        await client.delete_container()


@pytest.fixture
async def proxied(azurite_server: AzuriteServer) -> AsyncIterator[tuple[FaultProxy, AzureStore]]:
    """A fresh container reached through the fault proxy in front of Azurite."""
    proxy = FaultProxy(azurite_server.endpoint_url)
    await proxy.start()
    remote = await AzureRemote.connect(
        key_options(azurite_server, account_url=f"{proxy.url}/{azurite_server.access_key}")
    )
    name = new_container_name()
    await remote.create_bucket(name)
    try:
        yield proxy, remote.store(name)
    finally:
        proxy.clear_rules()
        await remote.client.get_container_client(name).delete_container()
        await remote.close()
        await proxy.stop()
    assert not proxy.errors, f"the fault proxy itself failed: {proxy.errors!r}"
