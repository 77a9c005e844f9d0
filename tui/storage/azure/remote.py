"""One Azure storage account: one BlobServiceClient on one shared aiohttp transport; the container operations.

The transport's connection pool is sized to the transfer concurrency (``AzureOptions.max_connections``) and reads
1 MiB at a time (the SDK's default of 4 KiB costs a Python call per 4 KiB of every download). The SDK's own retries
are cut to one quick one (its default sleeps 15 s and more before each of three): our retry loop
(tui/transfer/retry.py) is the one that retries, per block.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import aiohttp
from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
from azure.core.pipeline.transport import AioHttpTransport
from azure.storage.blob.aio import BlobServiceClient, LinearRetry

from tui.errors import ConflictError, UnsupportedError, UsageError
from tui.safety import display_text
from tui.storage.azure.errors import azure_errors
from tui.storage.azure.options import AzureOptions
from tui.storage.base import BucketInfo, Features

if TYPE_CHECKING:
    from tui.storage.azure.store import AzureStore

MiB = 1024 * 1024
#: 1 MiB reads from the socket instead of the SDK's 4 KiB
DATA_BLOCK_SIZE = 1 * MiB

#: what Azure Blob (and Azurite) can do. No versions this round (Azurite keeps none: measured, see
#: shared/bench/results/azurite.md; version listing on Azure itself is not written yet). No part copy: Put Block From
#: URL answers 501 on Azurite. Blocks of any size, up to 50,000 per blob.
AZURE = Features(
    versions=False,
    server_side_copy=True,
    part_copy=False,
    conditional_writes=True,
    checks_md5=True,
    buckets=True,
    presign=True,
    multipart=True,
    max_parts=50_000,
    min_part_size=1,
    part_size_cap=4 * 1024 * 1024,
    folder_markers=True,
    user_metadata=True,
    key_is_path=False,
    copy_replaces_metadata=True,
    #: Azure keeps no start time for uncommitted blocks
    upload_times=False,
    #: uncommitted blocks cannot be deleted: `transfers --abort` says so instead of "aborted"
    aborts_uploads=False,
)


class AzureRemote:
    """One account. Use ``await AzureRemote.connect(options)``; ``close()`` closes the client and the transport."""

    def __init__(self, options: AzureOptions, client: BlobServiceClient, session: aiohttp.ClientSession) -> None:
        self.options = options
        self.client = client
        self._session = session
        self.features = AZURE if options.account_key else replace(AZURE, presign=False)
        #: for the engine's journal and messages: where the account is (never with a SAS token)
        self.endpoint_url = options.account_url
        #: a container has no region of its own (the account has one): the new-bucket dialog offers none
        self.region = ""

    def __repr__(self) -> str:
        return f"AzureRemote({self.options!r})"

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.options.secrets()

    @classmethod
    async def connect(cls, options: AzureOptions) -> AzureRemote:
        connector = aiohttp.TCPConnector(limit=options.max_connections, limit_per_host=options.max_connections)
        session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=True,
        )
        transport = AioHttpTransport(
            session=session,
            session_owner=False,
            connection_data_block_size=DATA_BLOCK_SIZE,
            connection_timeout=10,
            read_timeout=60,
        )
        credential: Any
        if options.account_key:
            credential = AzureNamedKeyCredential(options.account_name or "", options.account_key)
        elif options.sas_token:
            credential = AzureSasCredential(options.sas_token)
        else:  # pragma: no cover - azure_options refuses this
            credential = None
        try:
            client = BlobServiceClient(
                options.account_url,
                credential=credential,
                transport=transport,
                api_version=options.api_version,
                # one quick retry in the SDK (its default waits 15 s and more before each of 3); ours does the rest
                retry_policy=LinearRetry(backoff=1, retry_total=1, random_jitter_range=1),
                # single requests up to a part: `put` of a part-sized object and every ranged read are one request
                max_single_put_size=256 * MiB,
                max_single_get_size=32 * MiB,
                max_chunk_get_size=8 * MiB,
                logging_enable=False,
            )
        except BaseException:
            await session.close()
            raise
        return cls(options, client, session)

    def store(self, bucket: str) -> AzureStore:
        from tui.storage.azure.store import AzureStore

        return AzureStore(self, bucket)

    def describe(self, container: str) -> str:
        scheme = "az://" if self.name == "az" else f"{self.name}:"
        return display_text(f"{scheme}{container}")

    async def list_buckets(self) -> list[BucketInfo]:
        found: list[BucketInfo] = []
        with azure_errors(f"list containers of {display_text(self.endpoint_url)}", self.secrets):
            async for c in self.client.list_containers():
                found.append(BucketInfo(str(c.name), c.last_modified))
        return sorted(found, key=lambda b: b.name)

    async def create_bucket(self, name: str, *, region: str | None = None, versioning: bool = False) -> list[str]:
        """A private container (no public access); an existing one is a ConflictError."""
        what = f"create container {self.describe(name)}"
        if versioning:
            raise UnsupportedError(f"{what}: versioning is an account setting on Azure (not set from here)")
        if region:
            raise UsageError(f"{what}: a container has no region of its own (the account has one)")
        with azure_errors(what, self.secrets):
            container = self.client.get_container_client(name)
            await container.create_container(public_access=None)
        return []

    async def delete_bucket(self, name: str) -> None:
        """Delete an empty container. Azure deletes a container with everything in it: check it is empty first."""
        what = f"delete container {self.describe(name)}"
        container = self.client.get_container_client(name)
        with azure_errors(what, self.secrets):
            async for _blob in container.list_blobs(results_per_page=1):
                raise ConflictError(f"{what}: the container is not empty")
            await container.delete_container()

    async def get_versioning(self, bucket: str) -> str | None:
        return None

    async def set_versioning(self, bucket: str, enabled: bool) -> None:
        raise UnsupportedError(f"versioning of {self.describe(bucket)}: versioning is an account setting on Azure")

    async def close(self) -> None:
        await self.client.close()
        await self._session.close()
