"""A container's settings on Azure Blob, for the TUI's bucket inspector (``tui.storage.base.BucketInspector``).

What applies to a container: its anonymous (public) access level, immutability policy and legal hold, and the
account's blob soft delete (the Blob service properties). Regions and blob versioning are settings of the storage
account made through Azure Resource Manager, not the Blob API: shown as "not available" here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.errors import CloudpaneError, one_line
from tui.storage.azure.errors import azure_errors
from tui.storage.base import BucketFact, BucketReport

if TYPE_CHECKING:
    from tui.storage.azure.remote import AzureRemote

_PUBLIC_ACCESS = {
    "container": "container: anyone can list and read the blobs",
    "blob": "blob: anyone can read a blob whose name they know",
}


def _soft_delete(properties: dict[str, Any]) -> BucketFact:
    policy = properties.get("delete_retention_policy")
    if policy is None:
        return BucketFact("Soft delete (account)", "", "not available")
    if not getattr(policy, "enabled", False):
        return BucketFact("Soft delete (account)", "off", "not set")
    days = getattr(policy, "days", None)
    return BucketFact("Soft delete (account)", f"on · deleted blobs kept {days} day(s)" if days else "on")


async def inspect_container(remote: AzureRemote, name: str) -> BucketReport:
    """The settings of container ``name``; raises NotFoundError when there is none."""
    what = f"inspect container {remote.describe(name)}"
    container = remote.client.get_container_client(name)
    with azure_errors(what, remote.secrets):
        props = await container.get_container_properties()
    access = str(props.public_access or "")
    facts = [
        BucketFact("Region", "the storage account's (not readable through the Blob API)", "not available"),
        BucketFact(
            "Public access",
            _PUBLIC_ACCESS.get(access, access) if access else "private (no anonymous access)",
        ),
        BucketFact("Versioning", "an account setting (Azure Resource Manager)", "not available"),
    ]
    try:
        with azure_errors(f"get the Blob service properties of {remote.endpoint_url}", remote.secrets):
            service = await remote.client.get_service_properties()
    except CloudpaneError as exc:
        facts.append(BucketFact("Soft delete (account)", one_line(exc), "error"))
    else:
        facts.append(_soft_delete(service))
    immutable = "has an immutability policy" if props.has_immutability_policy else ""
    hold = "legal hold" if props.has_legal_hold else ""
    lock = " · ".join(x for x in (immutable, hold) if x)
    facts.append(BucketFact("Immutability", lock) if lock else BucketFact("Immutability", "", "not set"))
    return BucketReport(name, tuple(facts), None)
