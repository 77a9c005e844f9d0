"""S3 and S3-compatible stores on aiobotocore.

One client per remote, opened once and kept for the remote's life; its connection pool is sized to the transfer
concurrency. Flexible checksums are ``when_required`` on endpoints that are not AWS (B2, rclone and others reject
or mangle them: see shared/bench/RESULTS.md).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import io
import os
import sys
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlsplit

from tui.errors import (
    AuthError,
    CloudpaneError,
    ConflictError,
    NotFoundError,
    PreconditionFailed,
    SourceChangedError,
    StoreError,
    TransientError,
    UnsupportedError,
    UsageError,
)
from tui.safety import display_text
from tui.storage.base import (
    MAX_PRESIGN,
    BucketInfo,
    ChecksumMismatchError,
    Entry,
    Features,
    ObjectInfo,
    Page,
    PartResult,
    PutResult,
    ReadStream,
    StreamOf,
    UploadInfo,
    utf8_key,
)
from tui.storage.meta import md5_b64_to_hex
from tui.storage.options import S3Options
from tui.storage.s3_data import (
    CredentialProvider,
    ListFallback,
    NativeS3,
    StaticCredentials,
    native_key,
    native_prefix,
)

if TYPE_CHECKING:
    # loaded when the SDK is first needed (``S3Remote.sdk``): a one-key ``ls`` on a server the native plane
    # serves never imports aiobotocore, botocore or aiohttp (tests/unit/test_imports.py)
    from aiobotocore.session import AioSession
    from types_aiobotocore_s3.client import S3Client
    from types_aiobotocore_s3.type_defs import CopySourceTypeDef
else:
    S3Client = Any
    CopySourceTypeDef = dict

#: what a full S3 implementation (AWS, moto, MinIO) can do
FULL_S3 = Features(
    versions=True,
    server_side_copy=True,
    part_copy=True,
    conditional_writes=True,
    checks_md5=True,
    buckets=True,
    presign=True,
    multipart=True,
    folder_markers=True,
    etag_is_md5=True,
)
#: gofakes3-based servers (``rclone serve s3``): measured in shared/bench/results/features.md. No versions; an
#: UploadPartCopy that answers 200 and writes an empty part; If-None-Match / If-Match ignored; a ``dir/`` marker
#: becomes a file that blocks ``dir/x``.
LIMITED_S3 = replace(
    FULL_S3,
    versions=False,
    part_copy=False,
    conditional_writes=False,
    folder_markers=False,
    key_is_path=True,
    copy_replaces_metadata=False,
    partial_content=False,
)
#: moto's server (tests, the demo) is a full S3 that does not check Content-MD5 and reports every multipart upload
#: as initiated on 2010-11-10 (measured)
MOTO_S3 = replace(FULL_S3, checks_md5=False, upload_times=False)

_NOT_FOUND = {"NoSuchBucket", "NoSuchKey", "NoSuchVersion", "NoSuchUpload", "NotFound", "404"}
_AUTH = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "AllAccessDisabled",
    "AccountProblem",
    "403",
    "401",
}
_TRANSIENT = {
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TooManyRequests",
    "500",
    "502",
    "503",
    "504",
    "429",
}
_CONFLICT = {
    "BucketNotEmpty",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "OperationAborted",
    "409",
}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_USAGE = {
    "InvalidBucketName",
    "InvalidArgument",
    "InvalidRequest",
    "KeyTooLongError",
    "InvalidRange",
    "400",
}
_UNSUPPORTED = {"NotImplemented", "501", "MethodNotAllowed", "405"}


def _bex() -> Any:
    """botocore's exceptions module, imported on the first SDK call or error (never for native-only work)."""
    from botocore import exceptions

    return exceptions


def _client_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a botocore ClientError (without importing botocore when nothing loaded it)."""
    loaded = sys.modules.get("botocore.exceptions")
    return loaded is not None and isinstance(exc, loaded.ClientError)


def _is_aws(endpoint: str | None) -> bool:
    host = urlsplit(endpoint or "").hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def _retry_after(response: Any) -> float | None:
    """The server's ``Retry-After`` (seconds, or an HTTP date) from a botocore error response, if any."""
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) if isinstance(response, dict) else {}
    raw = str(headers.get("retry-after") or "").strip()
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def translate_error(exc: BaseException, what: str) -> CloudpaneError:
    """Classify a botocore/aiohttp failure into the error tree (rclone's fserrors idea: one place decides)."""
    if isinstance(exc, CloudpaneError):
        return exc
    if _client_error(exc):
        translated = _translate_client_error(exc, what)
        if isinstance(translated, TransientError):
            translated.retry_after = _retry_after(getattr(exc, "response", None))
        return translated
    return _translate_other(exc, what)


def _translate_client_error(exc: Any, what: str) -> CloudpaneError:
    err = exc.response.get("Error", {})
    code = str(err.get("Code") or "")
    status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
    message = str(err.get("Message") or "") or code or status
    text = f"{what}: {code or status}: {message}" if code and code != message else f"{what}: {message}"
    if code == "BadDigest":
        # the server computed another MD5 than the Content-MD5 sent: bytes damaged on the way (worth another
        # try), or a local file that changed since it was hashed (the engine tells the two apart)
        return ChecksumMismatchError(text)
    for group, cls in (
        (_PRECONDITION, PreconditionFailed),
        (_NOT_FOUND, NotFoundError),
        (_AUTH, AuthError),
        (_TRANSIENT, TransientError),
        (_CONFLICT, ConflictError),
        (_UNSUPPORTED, UnsupportedError),
        (_USAGE, UsageError),
    ):
        if code in group or (not code and status in group):
            return cls(text)
    if status in _TRANSIENT:
        return TransientError(text)
    return StoreError(text)


def _translate_other(exc: BaseException, what: str) -> CloudpaneError:
    from tui.errors import network_error

    network = network_error(exc, what)
    if network is not None:
        return network  # refused, DNS, TLS, timeout, reset: what failed and where
    bex = sys.modules.get("botocore.exceptions")
    if bex is None:  # nothing loaded the SDK: not one of its errors
        if isinstance(exc, OSError | TimeoutError):
            return TransientError(f"{what}: {type(exc).__name__}: {exc}")
        return StoreError(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return AuthError(
            f"{what}: no credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        )
    if isinstance(exc, bex.ProfileNotFound):
        return UsageError(f"{what}: {exc}")
    if isinstance(exc, bex.ParamValidationError):
        return UsageError(f"{what}: {exc}")
    if isinstance(exc, bex.EndpointConnectionError):
        return TransientError(f"{what}: cannot connect to {exc.kwargs.get('endpoint_url', 'the endpoint')}")
    if isinstance(exc, bex.BotoCoreError | OSError | TimeoutError):
        # resets, read timeouts, truncated bodies (ResponseStreamingError, IncompleteReadError, ...)
        return TransientError(f"{what}: {type(exc).__name__}: {exc}")
    aiohttp = sys.modules.get("aiohttp")  # loaded with aiobotocore
    if aiohttp is not None and isinstance(exc, aiohttp.ClientError):
        return TransientError(f"{what}: {type(exc).__name__}: {exc}")
    return StoreError(f"{what}: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def _errors(what: str) -> Iterator[None]:
    try:
        yield
    except CloudpaneError:
        raise
    except Exception as exc:
        raise translate_error(exc, what) from exc


def _version_order(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """Keep the server's order of versions and delete markers (newest first per key): botocore parses them into
    two lists, and LastModified has only whole seconds, so the order cannot be rebuilt from timestamps."""
    from xml.etree import ElementTree

    body = response_dict.get("body")
    if not body or int(response_dict.get("status_code", 200)) >= 300:
        return
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return
    encoded = any(el.tag.rsplit("}", 1)[-1] == "EncodingType" and el.text == "url" for el in root)
    order: list[tuple[str, str]] = []
    for el in root:
        if el.tag.rsplit("}", 1)[-1] not in ("Version", "DeleteMarker"):
            continue
        key = el.findtext("{*}Key") or ""
        order.append((unquote_plus(key) if encoded else key, el.findtext("{*}VersionId") or ""))
    customized_response_dict["CloudpaneOrder"] = order


def _parse_timestamp(value: str) -> datetime:
    """ISO 8601 as S3 sends it, fast; anything else goes to botocore's own (dateutil) parser."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        from botocore.utils import parse_timestamp

        return parse_timestamp(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _drop_expect(params: dict[str, Any], **_: Any) -> None:
    params.get("headers", {}).pop("Expect", None)


#: HEAD/GET response fields ObjectInfo has a place for (or that say nothing of the object): the rest go to ``headers``
_INFO_FIELDS = frozenset(
    {"ResponseMetadata", "Body", "ContentLength", "ContentRange", "LastModified", "ETag", "VersionId",
     "StorageClass", "ContentType", "Metadata", "AcceptRanges"}
)  # fmt: skip


def _etag(raw: str | None) -> str | None:
    return raw.strip('"') if raw else None


def _md5_etag_mismatch(features: Features, resp: Any, content_md5: str | None) -> tuple[str, str] | None:
    """(ETag, MD5 sent) when the ETag of a PUT or UploadPart answer should be the MD5 sent and is not."""
    if not content_md5 or not features.etag_is_md5:
        return None
    if resp.get("ServerSideEncryption") == "aws:kms" or resp.get("SSECustomerAlgorithm"):
        return None  # the ETag of an SSE-KMS or SSE-C object is not its MD5
    sent = md5_b64_to_hex(content_md5)
    got = (_etag(resp.get("ETag")) or "").lower()
    if sent is None or got == sent:
        return None
    return got, sent


#: bodies above this go to aiohttp as a BytesIO, written in slices, each drained before the next
_STREAMED_BODY = 256 * 1024
#: the slice size aiohttp asks a BytesIO body for (aiohttp.helpers.DEFAULT_CHUNK_SIZE)
_AIOHTTP_SLICE = 256 * 1024


#: aiohttp reads a BytesIO body in 256 KiB slices and waits for the socket to drain after each; 1 MiB slices
#: are four times fewer event-loop round trips per part (measured: the 256 KiB slices cost 1 GiB uploads wall time
#: on a loaded machine)
_SLICE = 1024 * 1024


class _SharedBytesIO(io.BytesIO):
    """A BytesIO that never copies its ``bytes``: aiohttp asks ``getbuffer()`` for the size, and a plain BytesIO
    then unshares (copies) the whole part; a read-only view of the same bytes answers that. aiohttp's slices are
    views of the part too (``read`` with aiohttp's slice size), so nothing is copied until the socket's buffer."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self._shared = data
        self._view = memoryview(data)

    def getbuffer(self) -> memoryview:
        return memoryview(self._shared)

    def read(self, size: int | None = -1, /) -> Any:
        if size != _AIOHTTP_SLICE:
            return super().read(size)
        pos = self.tell()
        end = min(len(self._shared), pos + _SLICE)
        self.seek(end)
        return self._view[pos:end]


def _body(data: bytes | bytearray) -> Any:
    """What botocore gets as a Body. aiohttp (on Python 3.11) joins the request headers and a bytes body into one
    new buffer, and the socket transport copies what it cannot send at once; a bytearray is not even made a
    BytesIO by botocore. A BytesIO over ``bytes`` shares the buffer (no copy) and aiohttp sends it in 256 KiB
    slices, each drained before the next: one buffer per part in flight."""
    if isinstance(data, bytes) and len(data) > _STREAMED_BODY:
        return _SharedBytesIO(data)
    return data


def _sort_page(entries: Page) -> Page:
    return sorted(entries, key=lambda e: utf8_key(e.key))


async def _no_chunks() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _nothing() -> None:
    return None


def _config_mentions(word: str) -> bool:
    """Whether the AWS config file botocore would read mentions ``word`` (a cheap, conservative test)."""
    path = os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return word in f.read()
    except OSError:
        return False


def static_setup(options: S3Options) -> tuple[str, str, StaticCredentials] | None:
    """(endpoint URL, region, keys) when botocore would resolve exactly these without looking further: keys given
    in the options, or (no profile chosen) its first link, the environment's static keys; an endpoint from the
    options or the environment (which beat the config file), not AWS itself; a region from the options or
    ``AWS_DEFAULT_REGION``. None: let botocore's chain decide (profiles, SSO, assumed roles, the config file)."""
    env = os.environ
    if options.access_key_id and options.secret_access_key:
        keys = StaticCredentials(options.access_key_id, options.secret_access_key, options.session_token)
    elif options.profile is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        if env.get("AWS_CREDENTIAL_EXPIRATION"):
            return None  # refreshable environment credentials: botocore's
        # botocore's EnvProvider takes the first of these that is set
        token = next((env[name] for name in ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN") if name in env), None)
        keys = StaticCredentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], token or None)
    else:
        return None
    endpoint = options.endpoint_url
    if not endpoint:
        if "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" in env:
            return None
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if endpoint and _config_mentions("ignore_configured_endpoint_urls"):
            return None
    region = options.region or env.get("AWS_DEFAULT_REGION")
    if not endpoint or not region or _is_aws(endpoint) or options.addressing_style == "virtual":
        return None
    return endpoint, region, keys


def _session(options: S3Options) -> AioSession:
    from aiobotocore.session import AioSession

    session = AioSession(profile=options.profile)
    # dateutil parses every LastModified of a listing otherwise: 40 % of a listing's CPU (bench/RESULTS.md)
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_parse_timestamp)
    return session


class S3Remote:
    """One S3 endpoint and credential set. Use ``await S3Remote.connect(...)``.

    The aiobotocore client (the control plane) is opened once, on first use (``sdk``), and kept for the remote's
    life: where the configuration is static (``static_setup``), a remote whose work the native plane serves (a
    one-key ``ls``) never loads the SDK."""

    def __init__(
        self,
        options: S3Options,
        client: S3Client | None,
        stack: AsyncExitStack,
        features: Features,
        native: NativeS3 | None = None,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        session: AioSession | None = None,
    ) -> None:
        self.options = options
        self._client = client
        self._session = session
        self._opening = asyncio.Lock()
        self._stack = stack
        self.features = features
        self.endpoint_url: str = client.meta.endpoint_url if client is not None else str(endpoint_url)
        self.region: str = (client.meta.region_name if client is not None else region) or "us-east-1"
        #: the native data plane (obstore), when the options allow it and credentials were found
        self.native = native

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def client(self) -> S3Client:
        """The open aiobotocore client (``await sdk()`` opens it)."""
        if self._client is None:
            raise RuntimeError("the S3 client is not open yet (await S3Remote.sdk())")
        return self._client

    async def sdk(self) -> S3Client:
        """The aiobotocore client, opened on first use."""
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    with _errors("connect"):
                        session = self._session or _session(self.options)
                        self._client = await self._open(self._stack, session, self.options, self.region, aws=False)
        return self._client

    @classmethod
    async def connect(cls, options: S3Options) -> S3Remote:
        static = static_setup(options)
        if static is not None:
            return await cls._connect_static(options, *static)
        with _errors("connect"):
            session = _session(options)
            region = options.region or session.get_config_variable("region") or "us-east-1"
            stack = AsyncExitStack()
            client = await cls._open(stack, session, options, region, aws=False)
            if _is_aws(client.meta.endpoint_url):
                # real AWS: keep the SDK's flexible checksums
                await stack.aclose()
                stack = AsyncExitStack()
                client = await cls._open(stack, session, options, region, aws=True)
        try:
            if options.full_s3 is None:
                features = await cls._probe(client)
            else:
                features = FULL_S3 if options.full_s3 else LIMITED_S3
            native = await cls._native(session, client, options) if options.native else None
        except BaseException:
            await stack.aclose()
            raise
        return cls(options, client, stack, features, native, session=session)

    @classmethod
    async def _connect_static(cls, options: S3Options, endpoint: str, region: str, keys: StaticCredentials) -> S3Remote:
        """No SDK until a control-plane call needs it: the probe is one signed request (``tui.storage.s3_probe``)
        and the native client gets the keys botocore would have found."""
        native = None
        if options.native:
            native = NativeS3(
                endpoint_url=endpoint,
                region=region,
                provider=CredentialProvider(keys, refreshable=False),
                virtual_hosted=False,
                pool=options.max_pool_connections,
                signed_payload=False,
            )
        remote = cls(options, None, AsyncExitStack(), FULL_S3, native, endpoint_url=endpoint, region=region)
        try:
            if options.full_s3 is not None:
                remote.features = FULL_S3 if options.full_s3 else LIMITED_S3
                return remote
            from tui.storage.s3_probe import probe_features

            frozen = keys.get_frozen_credentials()
            features = await probe_features(
                endpoint,
                region=region,
                access_key=frozen.access_key,
                secret_key=frozen.secret_key,
                token=frozen.token,
                full=FULL_S3,
                limited=LIMITED_S3,
                moto=MOTO_S3,
            )
            # not a definite answer: the SDK's probe decides (and reports a failure as it always has)
            remote.features = features if features is not None else await cls._probe(await remote.sdk())
        except BaseException:
            await remote.close()
            raise
        return remote

    @staticmethod
    async def _native(session: AioSession, client: S3Client, options: S3Options) -> NativeS3 | None:
        """The obstore client on the same endpoint, region and credential chain as ``client``."""
        from botocore.credentials import Credentials, RefreshableCredentials

        creds: Any
        if options.access_key_id and options.secret_access_key:
            creds = Credentials(options.access_key_id, options.secret_access_key, options.session_token)
        else:
            with _errors("connect"):
                creds = await session.get_credentials()
        if creds is None:
            return None  # no credentials: the SDK path reports that (exit 3) on the first request
        endpoint = str(client.meta.endpoint_url)
        return NativeS3(
            endpoint_url=endpoint,
            region=client.meta.region_name or "us-east-1",
            provider=CredentialProvider(creds, refreshable=isinstance(creds, RefreshableCredentials)),
            virtual_hosted=options.addressing_style == "virtual",
            pool=options.max_pool_connections,
            signed_payload=_is_aws(endpoint),
        )

    @staticmethod
    async def _open(
        stack: AsyncExitStack, session: AioSession, options: S3Options, region: str, *, aws: bool
    ) -> S3Client:
        from aiobotocore.config import AioConfig

        checksums = "when_supported" if aws else "when_required"
        s3_cfg: dict[str, Any] = {}
        if not aws:
            # UNSIGNED-PAYLOAD, as rclone sends: every body we write carries Content-MD5, which the server checks,
            # so botocore's SHA-256 of each 8 MiB part (on the event loop, 15 % of an upload's CPU) buys nothing
            s3_cfg["payload_signing_enabled"] = False
        if options.addressing_style:
            s3_cfg["addressing_style"] = options.addressing_style
        elif not aws:
            s3_cfg["addressing_style"] = "path"
        config = AioConfig(
            max_pool_connections=options.max_pool_connections,
            signature_version="s3v4",
            s3=s3_cfg,
            request_checksum_calculation=checksums,
            response_checksum_validation=checksums,
            # our own retry loop lives in the transfer engine; keep botocore's short
            retries={"total_max_attempts": 2, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        )
        kwargs: dict[str, Any] = {"region_name": region, "config": config}
        if options.endpoint_url:
            kwargs["endpoint_url"] = options.endpoint_url
        if options.access_key_id and options.secret_access_key:
            kwargs["aws_access_key_id"] = options.access_key_id
            kwargs["aws_secret_access_key"] = options.secret_access_key
            if options.session_token:
                kwargs["aws_session_token"] = options.session_token
        client: S3Client = await stack.enter_async_context(session.create_client("s3", **kwargs))
        client.meta.events.register("before-parse.s3.ListObjectVersions", _version_order)
        # no `Expect: 100-continue`: aiohttp waits for the 100 without a timeout, and a server that refuses a PUT
        # before reading its body (rclone's, for `f/x` under a file `f`) then hangs the request forever
        client.meta.events.register_last("before-call.s3", _drop_expect)
        return client

    @staticmethod
    async def _probe(client: S3Client) -> Features:
        """One request tells a full S3 from a gofakes3-style server: ListObjectVersions answers 501 there."""
        if _is_aws(client.meta.endpoint_url):
            return FULL_S3
        try:
            await client.list_object_versions(Bucket=f"cloudpane-probe-{uuid.uuid4().hex[:16]}", MaxKeys=1)
        except _bex().ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NotImplemented" or status == 501:
                return LIMITED_S3
            server = str(exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("server", ""))
            if "werkzeug" in server.lower() or server == "amazon.com":  # moto (AWS itself says "AmazonS3")
                return MOTO_S3
            return FULL_S3  # NoSuchBucket (and AccessDenied) are what a real S3 says
        except Exception as exc:
            raise translate_error(exc, "connect") from exc
        return FULL_S3

    def store(self, bucket: str) -> S3Store:
        return S3Store(self, bucket)

    async def list_buckets(self) -> list[BucketInfo]:
        with _errors("list buckets"):
            resp = await (await self.sdk()).list_buckets()
        return sorted(
            (BucketInfo(b["Name"], b.get("CreationDate")) for b in resp.get("Buckets", [])),
            key=lambda b: b.name,
        )

    async def create_bucket(self, name: str, *, region: str | None = None, versioning: bool = False) -> list[str]:
        """Create a private bucket: no public ACL, Block Public Access and BucketOwnerEnforced where supported."""
        if versioning and not self.features.versions:
            raise UnsupportedError(f"create bucket {name}: this server does not support versioning")
        region = region or self.region
        kwargs: dict[str, Any] = {"Bucket": name}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with _errors(f"create bucket {name}"):
            try:
                await (await self.sdk()).head_bucket(Bucket=name)
            except _bex().ClientError:
                pass  # not there (or not ours): create it
            else:
                raise ConflictError(f"create bucket {name}: the bucket already exists and is yours")
            await (await self.sdk()).create_bucket(**kwargs)
        warnings: list[str] = []
        unsupported: list[str] = []
        try:
            await (await self.sdk()).put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        except _bex().ClientError:
            unsupported.append("Block Public Access")
        try:
            await (await self.sdk()).put_bucket_ownership_controls(
                Bucket=name,
                OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            )
        except _bex().ClientError:
            unsupported.append("BucketOwnerEnforced")
        if unsupported:
            warnings.append(
                f"the server does not support {' or '.join(unsupported)}; the bucket was created without a "
                "public ACL (private by default)"
            )
        if versioning:
            await self.set_versioning(name, True)
        return warnings

    async def delete_bucket(self, name: str) -> None:
        with _errors(f"delete bucket {name}"):
            await (await self.sdk()).delete_bucket(Bucket=name)

    async def get_versioning(self, bucket: str) -> str | None:
        if not self.features.versions:
            return None
        with _errors(f"get versioning of {bucket}"):
            resp = await (await self.sdk()).get_bucket_versioning(Bucket=bucket)
        status = resp.get("Status")
        return str(status) if status else None

    async def set_versioning(self, bucket: str, enabled: bool) -> None:
        if not self.features.versions:
            raise UnsupportedError(f"set versioning of {bucket}: this server does not support versioning")
        with _errors(f"set versioning of {bucket}"):
            await (await self.sdk()).put_bucket_versioning(
                Bucket=bucket,
                VersioningConfiguration={"Status": "Enabled" if enabled else "Suspended"},
            )

    async def close(self) -> None:
        try:
            await self._stack.aclose()
        finally:
            if self.native is not None:
                await self.native.settle()


class S3Writer:
    """A multipart upload. ``abort`` is idempotent; the engine calls it on any failure not kept for resume."""

    def __init__(self, store: S3Store, key: str, upload_id: str) -> None:
        self._store = store
        self._key = key
        self._upload_id = upload_id
        self._done = False

    @property
    def upload_id(self) -> str | None:
        return self._upload_id

    async def write_part(self, number: int, data: bytes | bytearray, *, content_md5: str | None = None) -> PartResult:
        kwargs: dict[str, Any] = {
            "Bucket": self._store.bucket,
            "Key": self._key,
            "UploadId": self._upload_id,
            "PartNumber": number,
            "Body": _body(data),
        }
        if content_md5:
            kwargs["ContentMD5"] = content_md5
        what = f"upload part {number} of {self._store.describe(self._key)}"
        with _errors(what):
            resp = await (await self._store.sdk()).upload_part(**kwargs)
        bad = _md5_etag_mismatch(self._store.features, resp, content_md5)
        if bad is not None:
            # sending the part again replaces it on the server
            raise ChecksumMismatchError(
                f"{what}: the server stored other bytes than were sent (ETag {bad[0]}, MD5 sent {bad[1]})"
            )
        return PartResult(number, _etag(resp.get("ETag")) or "", len(data))

    async def copy_part(
        self,
        number: int,
        src_key: str,
        start: int,
        end: int,
        *,
        src_version_id: str | None = None,
        src_bucket: str | None = None,
    ) -> PartResult:
        """UploadPartCopy: bytes ``[start, end)`` of another key on this remote become part ``number``."""
        if not self._store.features.part_copy:
            raise UnsupportedError("this server does not really copy parts (UploadPartCopy)")
        self._store._no_versions("copy part of", src_key, src_version_id)
        source: CopySourceTypeDef = {"Bucket": src_bucket or self._store.bucket, "Key": src_key}
        if src_version_id:
            source["VersionId"] = src_version_id
        with _errors(f"copy part {number} of {self._store.describe(src_key)}"):
            resp = await (await self._store.sdk()).upload_part_copy(
                Bucket=self._store.bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                CopySource=source,
                CopySourceRange=f"bytes={start}-{end - 1}",
            )
        etag = _etag(resp.get("CopyPartResult", {}).get("ETag"))
        if not etag:
            raise StoreError(f"copy part {number} of {self._store.describe(src_key)}: the server sent no ETag")
        return PartResult(number, etag, end - start)

    async def complete(self, parts: list[PartResult]) -> PutResult:
        return await self._complete(parts, if_absent=False)

    async def complete_if_absent(self, parts: list[PartResult]) -> PutResult:
        """CompleteMultipartUpload with ``If-None-Match: *``: a 412 (someone else wrote the key meanwhile) raises
        PreconditionFailed and leaves the upload open (the engine aborts it)."""
        if not self._store.features.conditional_writes:
            raise UnsupportedError(
                f"complete {self._store.describe(self._key)}: this server ignores conditional writes"
            )
        return await self._complete(parts, if_absent=True)

    async def _complete(self, parts: list[PartResult], *, if_absent: bool) -> PutResult:
        ordered = sorted(parts, key=lambda p: p.number)
        kwargs: dict[str, Any] = {
            "Bucket": self._store.bucket,
            "Key": self._key,
            "UploadId": self._upload_id,
            "MultipartUpload": {"Parts": [{"PartNumber": p.number, "ETag": f'"{p.etag}"'} for p in ordered]},
        }
        if if_absent:
            kwargs["IfNoneMatch"] = "*"
        with _errors(f"complete upload of {self._store.describe(self._key)}"):
            resp = await (await self._store.sdk()).complete_multipart_upload(**kwargs)
        self._done = True
        etag = _etag(resp.get("ETag"))
        if not self._store.features.versions:
            # gofakes3 servers answer Complete with a multipart ETag but report the MD5 later: use what HEAD says
            with contextlib.suppress(CloudpaneError):
                etag = (await self._store.stat(self._key)).etag or etag
        return PutResult(etag, resp.get("VersionId"))

    async def abort(self) -> None:
        if self._done:
            return
        with _errors(f"abort upload of {self._store.describe(self._key)}"):
            try:
                await (await self._store.sdk()).abort_multipart_upload(
                    Bucket=self._store.bucket, Key=self._key, UploadId=self._upload_id
                )
            except _bex().ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
                    raise
        self._done = True


class S3Store:
    """One bucket of an S3Remote."""

    def __init__(self, remote: S3Remote, bucket: str) -> None:
        self.remote = remote
        self.bucket = bucket
        self.features = remote.features
        self.native = remote.native
        #: the storage class of every object this store writes (``with_storage_class``; None: the bucket's default)
        self.storage_class: str | None = None

    def with_storage_class(self, name: str) -> S3Store:
        """This bucket, writing new objects (PUT, multipart uploads, copies) in storage class ``name``."""
        store = S3Store(self.remote, self.bucket)
        store.storage_class = name
        return store

    @property
    def client(self) -> S3Client:
        """The remote's open aiobotocore client (``await sdk()`` opens it)."""
        return self.remote.client

    async def sdk(self) -> S3Client:
        return await self.remote.sdk()

    @property
    def url(self) -> str:
        scheme = "s3://" if self.remote.name == "s3" else f"{self.remote.name}:"
        return f"{scheme}{self.bucket}"

    def describe(self, key: str) -> str:
        return display_text(f"{self.url}/{key}")

    def _no_versions(self, verb: str, key: str, version_id: str | None) -> None:
        if version_id and not self.features.versions:
            raise UnsupportedError(f"{verb} {self.describe(key)}: this server keeps no versions")

    def _no_marker(self, verb: str, key: str) -> None:
        if key.endswith("/") and not self.features.folder_markers:
            raise UnsupportedError(
                f"{verb} {self.describe(key)}: this server cannot keep empty folders (a folder appears with its files)"
            )

    async def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": page_size}
        native_ok = self.native is not None and not self.features.folder_markers and native_prefix(prefix)
        if not recursive:
            kwargs["Delimiter"] = "/"
            if native_ok and not self.remote.options.streamed_listings:
                assert self.native is not None
                # one level natively where keys are paths (no folder markers: see ``list`` below); object_store
                # gathers every page first, so the pages are cut here
                try:
                    entries = await self.native.list_delimited(
                        self.bucket, prefix, what=f"list {self.describe(prefix)}", storage_class="STANDARD"
                    )
                except ListFallback:
                    pass  # nothing was yielded: the SDK lists from the start
                else:
                    ordered = _sort_page(entries)
                    for i in range(0, len(ordered), page_size):
                        yield ordered[i : i + page_size]
                    return
        elif native_ok:
            assert self.native is not None
            # object_store lists a folder marker `dir/` as `dir`: only where markers cannot exist (keys are paths)
            try:
                async for page in self.native.list(
                    self.bucket,
                    prefix,
                    page_size=page_size,
                    what=f"list {self.describe(prefix)}",
                    # file-backed servers (the only ones listed natively) keep one class: what their listing says
                    storage_class="STANDARD",
                ):
                    yield _sort_page(page)
                return
            except ListFallback as stop:
                # a key object_store cannot express: the SDK goes on after the last key yielded
                if stop.start_after:
                    kwargs["StartAfter"] = stop.start_after
        while True:
            with _errors(f"list {self.describe(prefix)}"):
                resp = await (await self.sdk()).list_objects_v2(**kwargs)
            page = [
                Entry(
                    key=o["Key"],
                    size=o.get("Size"),
                    last_modified=o.get("LastModified"),
                    etag=_etag(o.get("ETag")),
                    storage_class=o.get("StorageClass"),
                )
                for o in resp.get("Contents", [])
            ]
            page.extend(Entry(key=p["Prefix"], is_prefix=True) for p in resp.get("CommonPrefixes", []))
            if page:
                yield _sort_page(page)
            token = resp.get("NextContinuationToken")
            if not resp.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        self._no_versions("stat", key, version_id)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        if self.features.versions:
            kwargs["ChecksumMode"] = "ENABLED"
        with _errors(f"stat {self.describe(key)}"):
            try:
                resp = await (await self.sdk()).head_object(**kwargs)
            except _bex().ClientError as exc:
                headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                if headers.get("x-amz-delete-marker") == "true":
                    raise NotFoundError(f"stat {self.describe(key)}: the latest version is a delete marker") from exc
                raise
        return self._info_of(key, resp)

    def _native_read(self, key: str, ranged: bool, version_id: str | None) -> bool:
        if self.native is None or version_id or not native_key(key):
            return False
        return self.features.partial_content or not ranged

    async def read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        stream = await self._open_read(
            key, start=start, end=end, version_id=version_id, if_match=if_match, chunk_size=chunk_size, info=False
        )
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()

    async def open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> ReadStream:
        """One GET; its response headers describe the object (``InfoReader``): a download needs no HEAD first."""
        # chunks below glibc's mmap threshold (1 MiB, see tui.transfer.copy): each one a heap block, reused, not a
        # fresh mapping whose pages fault in (a whole-object download is 4,096 of them per GiB)
        return await self._open_read(
            key, start=start, end=end, version_id=version_id, if_match=if_match, info=True, chunk_size=256 * 1024
        )

    async def _open_read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
        info: bool,
    ) -> ReadStream:
        self._no_versions("read", key, version_id)
        what = f"read {self.describe(key)}"
        ranged = bool(start) or end is not None
        empty = end is not None and end <= start
        # the native GET cannot see SSE headers, and an SSE-KMS/SSE-C object's ETag is not its MD5: where a bucket
        # can hold such objects (a full S3), the info a caller verifies against comes from the SDK's GET
        native_ok = not (info and self.features.versions) and not empty
        if native_ok and self._native_read(key, ranged, version_id):
            assert self.native is not None
            try:
                got, native_chunks = await self.native.open_read(
                    self.bucket, key, start=start, end=end, if_match=if_match, what=what, chunk_size=chunk_size
                )
            except PreconditionFailed as exc:
                raise SourceChangedError(f"{what}: source changed (ETag is no longer {if_match})") from exc
            except UsageError as exc:
                if start and "InvalidRange" in str(exc):
                    there = await self.stat(key)
                    if there.size <= start:
                        return StreamOf(there, _no_chunks(), _nothing)
                raise
            # some servers ignore If-Match (rclone, measured): check the ETag ourselves
            if if_match and got.etag and got.etag != if_match:
                await native_chunks.aclose()
                raise SourceChangedError(f"{what}: source changed (ETag {got.etag}, expected {if_match})")
            return StreamOf(got, native_chunks, native_chunks.aclose)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if ranged and not empty:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        if version_id:
            kwargs["VersionId"] = version_id
        if if_match:
            kwargs["IfMatch"] = f'"{if_match}"'
        try:
            with _errors(what):
                resp = await (await self.sdk()).get_object(**kwargs)
        except PreconditionFailed as exc:
            raise SourceChangedError(f"{what}: source changed (ETag is no longer {if_match})") from exc
        except UsageError as exc:
            # a range that starts at the end (InvalidRange): nothing to read, if the object really ends there
            if start and "InvalidRange" in str(exc):
                there = await self.stat(key, version_id=version_id)
                if there.size <= start:
                    return StreamOf(there, _no_chunks(), _nothing)
            raise
        body = resp["Body"]
        got = self._info_of(key, resp)
        # some servers ignore If-Match (rclone, measured): check the ETag ourselves
        if if_match and got.etag and got.etag != if_match:
            body.close()
            raise SourceChangedError(f"{what}: source changed (ETag {got.etag}, expected {if_match})")

        async def chunks() -> AsyncGenerator[bytes, None]:
            try:
                if empty:
                    return
                while True:
                    with _errors(what):
                        chunk = await body.read(chunk_size)
                    if not chunk:
                        break
                    yield chunk
            finally:
                body.close()

        stream = chunks()
        return StreamOf(got, stream, stream.aclose)

    @staticmethod
    def _info_of(key: str, resp: Any) -> ObjectInfo:
        """ObjectInfo from a HEAD or GET response (a ranged GET's Content-Range carries the whole size)."""
        size = int(resp.get("ContentLength", 0))
        content_range = str(resp.get("ContentRange") or "")
        total = content_range.rpartition("/")[2]
        if total.isdigit():
            size = int(total)
        checksums = {
            name[len("Checksum") :].lower(): str(value)
            for name, value in resp.items()
            if name.startswith("Checksum") and name != "ChecksumType" and isinstance(value, str)
        }
        return ObjectInfo(
            key=key,
            size=size,
            last_modified=resp.get("LastModified"),
            etag=_etag(resp.get("ETag")),
            version_id=resp.get("VersionId"),
            storage_class=resp.get("StorageClass") or "STANDARD",
            content_type=resp.get("ContentType"),
            # rclone's server changes the case of metadata keys: normalise to lower case
            metadata={str(k).lower(): str(v) for k, v in resp.get("Metadata", {}).items()},
            checksums=checksums,
            encrypted_etag=resp.get("ServerSideEncryption") == "aws:kms" or bool(resp.get("SSECustomerAlgorithm")),
            headers={
                name: value.isoformat() if isinstance(value, datetime) else str(value)
                for name, value in resp.items()
                if name not in _INFO_FIELDS
                and not name.startswith("Checksum")
                and isinstance(value, str | int | datetime)
            },
        )

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_md5: str | None = None,
        if_none_match: bool = False,
    ) -> PutResult:
        self._no_marker("put", key)
        if if_none_match and not self.features.conditional_writes:
            raise UnsupportedError(f"put {self.describe(key)}: this server ignores conditional writes")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": _body(data)}
        if self.storage_class:
            kwargs["StorageClass"] = self.storage_class
        if metadata:
            kwargs["Metadata"] = metadata
        if content_type:
            kwargs["ContentType"] = content_type
        if content_md5:
            kwargs["ContentMD5"] = content_md5
        if if_none_match:
            kwargs["IfNoneMatch"] = "*"
        what = f"put {self.describe(key)}"
        with _errors(what):
            resp = await (await self.sdk()).put_object(**kwargs)
        bad = _md5_etag_mismatch(self.features, resp, content_md5)
        if bad is not None:
            # a server that does not check Content-MD5 stored damaged bytes: take back exactly what was written
            # (its version, where the bucket keeps versions: the previous one is the latest again)
            version = resp.get("VersionId")
            with contextlib.suppress(CloudpaneError), _errors(f"delete damaged {self.describe(key)}"):
                if version and version != "null":
                    await (await self.sdk()).delete_object(Bucket=self.bucket, Key=key, VersionId=version)
                else:
                    await (await self.sdk()).delete_object(Bucket=self.bucket, Key=key)
            raise ChecksumMismatchError(
                f"{what}: the server stored other bytes than were sent (ETag {bad[0]}, MD5 sent {bad[1]})"
            )
        return PutResult(_etag(resp.get("ETag")), resp.get("VersionId"))

    async def open_writer(
        self,
        key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        part_size: int = 8 * 1024 * 1024,
    ) -> S3Writer:
        self._no_marker("write", key)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if self.storage_class:
            kwargs["StorageClass"] = self.storage_class
        if metadata:
            kwargs["Metadata"] = metadata
        if content_type:
            kwargs["ContentType"] = content_type
        with _errors(f"start upload of {self.describe(key)}"):
            resp = await (await self.sdk()).create_multipart_upload(**kwargs)
        return S3Writer(self, key, resp["UploadId"])

    def resume_writer(self, key: str, upload_id: str) -> S3Writer:
        return S3Writer(self, key, upload_id)

    def journal_target(self) -> tuple[str, str, str]:
        """(remote name, endpoint URL, bucket) for the resume journal; never credentials."""
        return self.remote.name, str(self.remote.endpoint_url or ""), self.bucket

    async def list_parts(self, key: str, upload_id: str) -> dict[int, tuple[str, int]]:
        """The parts the server holds for an unfinished upload: number -> (etag, size)."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "UploadId": upload_id}
        found: dict[int, tuple[str, int]] = {}
        while True:
            with _errors(f"list parts of {self.describe(key)}"):
                resp = await (await self.sdk()).list_parts(**kwargs)
            for p in resp.get("Parts", []):
                found[int(p["PartNumber"])] = (_etag(p.get("ETag")) or "", int(p.get("Size", 0)))
            if not resp.get("IsTruncated"):
                return found
            kwargs["PartNumberMarker"] = resp.get("NextPartNumberMarker")

    async def delete(self, key: str, *, version_id: str | None = None) -> None:
        self._no_versions("delete", key, version_id)
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        with _errors(f"delete {self.describe(key)}"):
            await (await self.sdk()).delete_object(**kwargs)

    async def copy(
        self,
        src_key: str,
        dst_key: str,
        *,
        src_version_id: str | None = None,
        metadata: dict[str, str] | None = None,
        src_container: str | None = None,
    ) -> PutResult:
        self._no_versions("copy", src_key, src_version_id)
        source: CopySourceTypeDef = {"Bucket": src_container or self.bucket, "Key": src_key}
        if src_version_id:
            source["VersionId"] = src_version_id
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": dst_key, "CopySource": source}
        if self.storage_class:
            kwargs["StorageClass"] = self.storage_class
        if metadata is not None:
            kwargs["Metadata"] = metadata
            kwargs["MetadataDirective"] = "REPLACE"
        with _errors(f"copy {self.describe(src_key)} to {display_text(dst_key)}"):
            resp = await (await self.sdk()).copy_object(**kwargs)
        result = resp.get("CopyObjectResult", {})
        return PutResult(_etag(result.get("ETag")), resp.get("VersionId"))

    async def list_versions(
        self, prefix: str = "", *, exact: bool = False, page_size: int = 1000
    ) -> AsyncIterator[Page]:
        if not self.features.versions:
            raise UnsupportedError(f"versions of {self.describe(prefix)}: this server does not keep versions")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": page_size}
        while True:
            with _errors(f"list versions of {self.describe(prefix)}"):
                resp = await (await self.sdk()).list_object_versions(**kwargs)
            page = [
                Entry(
                    key=v["Key"],
                    size=v.get("Size"),
                    last_modified=v.get("LastModified"),
                    etag=_etag(v.get("ETag")),
                    storage_class=v.get("StorageClass"),
                    version_id=v.get("VersionId"),
                    is_latest=v.get("IsLatest"),
                )
                for v in resp.get("Versions", [])
            ]
            page.extend(
                Entry(
                    key=m["Key"],
                    last_modified=m.get("LastModified"),
                    version_id=m.get("VersionId"),
                    is_latest=m.get("IsLatest"),
                    is_delete_marker=True,
                )
                for m in resp.get("DeleteMarkers", [])
            )
            # S3 sends versions and markers interleaved, newest first per key; botocore splits them. Merge back by
            # latest flag and time; LastModified has whole seconds, so ties keep the server's order (recorded by
            # _version_order; AWS interleaves, moto lists versions before markers)
            recorded: list[tuple[str, str]] = resp.get("CloudpaneOrder", [])  # type: ignore[assignment]
            position = {pair: i for i, pair in enumerate(recorded)}
            page.sort(
                key=lambda e: (
                    utf8_key(e.key),
                    not e.is_latest,
                    -(e.last_modified.timestamp() if e.last_modified else 0),
                    position.get((e.key, e.version_id or ""), len(position)),
                )
            )
            if exact:
                mine = [e for e in page if e.key == prefix]
                if mine:
                    yield mine
                if len(mine) < len(page):
                    return  # keys that merely start with the key sort after it: we are past it
            elif page:
                yield page
            if not resp.get("IsTruncated"):
                return
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker")

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        self._no_versions("presign", key, version_id)
        if expires > MAX_PRESIGN or expires.total_seconds() < 1:
            raise UsageError("presign: the expiry must be between 1 second and 7 days")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        with _errors(f"presign {self.describe(key)}"):
            url: str = await (await self.sdk()).generate_presigned_url(
                "get_object", Params=params, ExpiresIn=int(expires.total_seconds())
            )
        return url

    async def list_multipart_uploads(self, prefix: str = "") -> builtins.list[tuple[str, str]]:
        """(key, upload id) of the unfinished multipart uploads under ``prefix``."""
        return [(u.key, u.upload_id) for u in await self.list_uploads(prefix)]

    async def abort_upload(self, key: str, upload_id: str) -> None:
        await S3Writer(self, key, upload_id).abort()

    async def list_uploads(self, prefix: str = "") -> builtins.list[UploadInfo]:
        """The unfinished multipart uploads under ``prefix`` (ListMultipartUploads), with when each started."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        found: builtins.list[UploadInfo] = []
        while True:
            with _errors(f"list uploads in {self.describe(prefix)}"):
                try:
                    resp = await (await self.sdk()).list_multipart_uploads(**kwargs)
                except _bex().ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                        return found  # rclone's answer when there never was one
                    raise
            found.extend(UploadInfo(u["Key"], u["UploadId"], u.get("Initiated")) for u in resp.get("Uploads", []))
            if not resp.get("IsTruncated"):
                return found
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = resp.get("NextUploadIdMarker")

    async def close(self) -> None:
        """The client belongs to the remote; closing a store does nothing."""
