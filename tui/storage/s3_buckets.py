"""A bucket's settings on S3, for the TUI's bucket inspector (``tui.storage.base.BucketInspector``).

Control plane only (aiobotocore): GetBucketLocation, GetBucketVersioning, GetPublicAccessBlock,
GetBucketOwnershipControls, GetObjectLockConfiguration and GetBucketEncryption, asked at once. A configuration that
was never made is an answer, not a failure: S3 says NoSuchPublicAccessBlockConfiguration,
OwnershipControlsNotFoundError and the like, shown as "not set". A server without the operation (rclone's answers
501 NotImplemented) shows "not available"; any other failure is that fact's error, and the other facts still show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from botocore import exceptions as bex

from tui.errors import NotFoundError, one_line
from tui.storage.base import BucketFact, BucketReport, Features
from tui.storage.s3 import translate_error

if TYPE_CHECKING:
    from types_aiobotocore_s3.client import S3Client
else:
    S3Client = Any

#: the answers that mean "this bucket has no such configuration"
NOT_SET_CODES = frozenset(
    {
        "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError",
        "ObjectLockConfigurationNotFoundError",
        "ServerSideEncryptionConfigurationNotFoundError",
    }
)
#: the answers that mean "this server has no such operation"
NOT_AVAILABLE_CODES = frozenset({"NotImplemented", "MethodNotAllowed", "XNotImplemented"})
NOT_AVAILABLE_STATUS = frozenset({501, 405})
#: GetBucketLocation's old names for two regions
_LEGACY_REGIONS = {"": "us-east-1", "EU": "eu-west-1"}

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _code(exc: bex.ClientError) -> tuple[str, int]:
    err = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return str(err.get("Code") or ""), int(status)


async def _fact(
    label: str, call: Callable[[], Awaitable[Any]], describe: Callable[[Any], str], answer: str, what: str
) -> BucketFact:
    """Ask one thing; a missing configuration is ``not set``, a missing operation ``not available``. ``answer`` is
    the element the reply must hold: ``rclone serve s3`` answers an unknown bucket subresource with a plain listing
    (200), which says nothing about the setting: "not available", never "off"."""
    try:
        resp = await call()
    except bex.ClientError as exc:
        code, status = _code(exc)
        if code in NOT_SET_CODES:
            return BucketFact(label, "", "not set")
        if code in NOT_AVAILABLE_CODES or status in NOT_AVAILABLE_STATUS:
            return BucketFact(label, "", "not available")
        return BucketFact(label, one_line(translate_error(exc, what)), "error")
    except Exception as exc:  # noqa: BLE001 - one fact's failure (a reset, a timeout) is shown in its line
        return BucketFact(label, one_line(translate_error(exc, what)), "error")
    if not resp.get(answer):  # absent, or empty: botocore parsed another document (a listing) into that shape
        return BucketFact(label, "", "not available")
    value = describe(resp)
    return BucketFact(label, value, "set") if value else BucketFact(label, "", "not set")


def _region(resp: Any) -> str:
    raw = str(resp.get("LocationConstraint") or "")
    return _LEGACY_REGIONS.get(raw, raw)


def _public_access(resp: Any) -> str:
    config = resp.get("PublicAccessBlockConfiguration") or {}
    flags = {name: bool(config.get(name)) for name in PUBLIC_ACCESS_FLAGS}
    if all(flags.values()):
        return "all public access blocked (4 of 4 settings on)"
    on = [name for name, value in flags.items() if value]
    if not on:
        return "off (0 of 4 settings on): public ACLs and policies are allowed"
    return f"{len(on)} of 4 on: " + ", ".join(f"{name} {'on' if value else 'off'}" for name, value in flags.items())


def _ownership(resp: Any) -> str:
    rules = (resp.get("OwnershipControls") or {}).get("Rules") or []
    names = [str(r.get("ObjectOwnership") or "") for r in rules]
    names = [n for n in names if n]
    if not names:
        return ""
    if names == ["BucketOwnerEnforced"]:
        return "BucketOwnerEnforced (ACLs disabled)"
    return ", ".join(names)


def _object_lock(resp: Any) -> str:
    config = resp.get("ObjectLockConfiguration") or {}
    enabled = str(config.get("ObjectLockEnabled") or "")
    if not enabled:
        return ""
    retention = (config.get("Rule") or {}).get("DefaultRetention") or {}
    if retention:
        days, years = retention.get("Days"), retention.get("Years")
        span = f"{days} day(s)" if days else f"{years} year(s)" if years else ""
        return f"{enabled} · default retention {retention.get('Mode', '')} {span}".rstrip()
    return f"{enabled} · no default retention"


def _encryption(resp: Any) -> str:
    rules = (resp.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    out: list[str] = []
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        algorithm = str(default.get("SSEAlgorithm") or "")
        if not algorithm:
            continue
        key = default.get("KMSMasterKeyID")
        out.append(f"{algorithm} (key {key})" if key else algorithm)
        if rule.get("BucketKeyEnabled"):
            out[-1] += " · bucket key"
    return ", ".join(out)


async def inspect_s3_bucket(client: S3Client, name: str, features: Features) -> BucketReport:
    """The settings of bucket ``name``; raises NotFoundError when there is no such bucket (or it is not ours to
    read: that error says so)."""
    try:
        location = await client.get_bucket_location(Bucket=name)
    except bex.ClientError as exc:
        code, status = _code(exc)
        if code in NOT_AVAILABLE_CODES or status in NOT_AVAILABLE_STATUS:
            location = None
        else:
            raise translate_error(exc, f"inspect bucket {name}") from exc
    except Exception as exc:
        raise translate_error(exc, f"inspect bucket {name}") from exc
    region = (
        BucketFact("Region", _region(location) or "us-east-1")
        if location is not None
        else BucketFact("Region", "", "not available")
    )

    versioning_status: str | None = None
    if features.versions:
        try:
            resp = await client.get_bucket_versioning(Bucket=name)
        except Exception as exc:  # noqa: BLE001 - shown in its line
            versioning = BucketFact("Versioning", one_line(translate_error(exc, "get versioning")), "error")
        else:
            versioning_status = str(resp.get("Status") or "")
            mfa = " · MFA delete on" if resp.get("MFADelete") == "Enabled" else ""
            versioning = (
                BucketFact("Versioning", versioning_status + mfa)
                if versioning_status
                else BucketFact("Versioning", "never enabled", "not set")
            )
    else:
        versioning = BucketFact("Versioning", "", "not available")

    rest = await asyncio.gather(
        _fact(
            "Block Public Access",
            lambda: client.get_public_access_block(Bucket=name),
            _public_access,
            "PublicAccessBlockConfiguration",
            "get public access block",
        ),
        _fact(
            "Object ownership",
            lambda: client.get_bucket_ownership_controls(Bucket=name),
            _ownership,
            "OwnershipControls",
            "get ownership controls",
        ),
        _fact(
            "Object Lock",
            lambda: client.get_object_lock_configuration(Bucket=name),
            _object_lock,
            "ObjectLockConfiguration",
            "get object lock configuration",
        ),
        _fact(
            "Default encryption",
            lambda: client.get_bucket_encryption(Bucket=name),
            _encryption,
            "ServerSideEncryptionConfiguration",
            "get bucket encryption",
        ),
    )
    if location is None and all(f.status == "not available" for f in rest) and not features.versions:
        # a server that answers none of it: make sure the bucket is there at all
        try:
            await client.head_bucket(Bucket=name)
        except Exception as exc:
            error = translate_error(exc, f"inspect bucket {name}")
            raise (NotFoundError(one_line(error)) if isinstance(error, NotFoundError) else error) from exc
    return BucketReport(name, (region, versioning, *rest), versioning_status)
