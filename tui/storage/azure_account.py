"""The ``Remote`` face of an Azure storage account: what the protocol declares beyond
``tui.storage.azure.remote.AzureRemote`` (container name rules, when a SAS token expires).

A subclass, so that ``AzureAccount.connect`` (the inherited classmethod) opens one exactly as AzureRemote does.
Kept outside the azure package while it is owned elsewhere; the two can be folded together later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

from tui.locations import validate_container_name
from tui.storage.azure.options import AzureOptions
from tui.storage.azure.remote import AzureRemote
from tui.storage.azure_buckets import inspect_container
from tui.storage.base import BucketReport


class AzureAccount(AzureRemote):
    """One Azure storage account (see AzureRemote), as a ``tui.storage.base.Remote``."""

    @classmethod
    async def connect(cls, options: AzureOptions) -> AzureAccount:
        remote = await super().connect(options)  # AzureRemote.connect builds ``cls``: an AzureAccount
        assert isinstance(remote, AzureAccount)
        return remote

    def container_name_problem(self, name: str) -> str | None:
        return validate_container_name(name)

    async def inspect_bucket(self, name: str) -> BucketReport:
        """``tui.storage.base.BucketInspector``: see tui/storage/azure_buckets.py."""
        return await inspect_container(self, name)

    async def credentials_expire(self) -> datetime | None:
        """A SAS token's ``se`` (signed expiry); None for a shared key (it does not expire)."""
        return sas_expiry(self.options.sas_token)


def sas_expiry(token: str | None) -> datetime | None:
    if not token:
        return None
    raw = parse_qs(token.lstrip("?")).get("se", [""])[0]
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
