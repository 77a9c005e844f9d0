"""The ``Remote`` face of an S3 endpoint: what the protocol declares beyond ``tui.storage.s3.S3Remote``.

A subclass, so that ``S3Account.connect`` (the inherited classmethod) opens one with the same client and probe.
Kept apart from s3.py while its data plane is rewritten; the two can be folded together later.
"""

from __future__ import annotations

from datetime import datetime

from tui.locations import validate_bucket_name
from tui.storage.base import BucketReport
from tui.storage.options import S3Options
from tui.storage.s3 import S3Remote


class S3Account(S3Remote):
    """One S3 endpoint and credential set (see S3Remote), as a ``tui.storage.base.Remote``."""

    @classmethod
    async def connect(cls, options: S3Options) -> S3Account:
        remote = await super().connect(options)  # S3Remote.connect builds ``cls``: an S3Account
        assert isinstance(remote, S3Account)
        return remote

    def container_name_problem(self, name: str) -> str | None:
        return validate_bucket_name(name)

    async def inspect_bucket(self, name: str) -> BucketReport:
        """``tui.storage.base.BucketInspector``: see tui/storage/s3_buckets.py (loaded with the SDK, when asked)."""
        from tui.storage.s3_buckets import inspect_s3_bucket

        return await inspect_s3_bucket(await self.sdk(), name, self.features)

    async def credentials_expire(self) -> datetime | None:
        # botocore keeps refreshable credentials (SSO, assumed roles) behind the request signer; there is no
        # public accessor, so look, and say "unknown" when the shape is not the one expected
        signer = getattr(self._client, "_request_signer", None)  # None until the SDK is opened (static keys)
        creds = getattr(signer, "_credentials", None)
        expiry = getattr(creds, "_expiry_time", None)
        return expiry if isinstance(expiry, datetime) else None
