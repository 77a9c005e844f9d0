"""How to reach an S3 endpoint: a plain record, importable without loading aiobotocore."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _native_default() -> bool:
    return os.environ.get("CLOUDPANE_S3_NATIVE", "1") != "0"


@dataclass(frozen=True, slots=True)
class S3Options:
    """How to reach one S3 endpoint. Secrets live only here and in botocore; never logged or shown."""

    name: str = "s3"
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    addressing_style: str | None = None
    #: connection pool size: parts in flight x files in flight, plus headroom for listings
    max_pool_connections: int = 64
    #: None = probe the server once; True/False = trust the config
    full_s3: bool | None = None
    #: the native data plane (obstore) for GETs and recursive listings; ``CLOUDPANE_S3_NATIVE=0`` turns it off
    native: bool = field(default_factory=_native_default)
    #: one folder's listing is shown page by page (the TUI): the SDK lists it, since object_store gathers every
    #: page of a delimited listing before it answers
    streamed_listings: bool = False

    def __repr__(self) -> str:
        return f"S3Options(name={self.name!r}, profile={self.profile!r}, endpoint_url={self.endpoint_url!r})"
