"""The S3 data plane on obstore (Rust object_store): whole-object and ranged GETs, recursive listings.

The control plane (versions, delete markers, buckets, policies, presign, the journaled multipart upload) and every
PUT stay on aiobotocore (``tui.storage.s3``): object_store cannot send ``Content-MD5``, and every body we write
carries one. Both planes use one credential chain: botocore's (environment, profiles, SSO, ``endpoint_url``); the
native client gets a credential provider that asks botocore's credentials object, so refreshable credentials
refresh.

Where the native path would be wrong, the caller uses aiobotocore instead (each case measured on the test servers,
see ``tests/contract/test_native_contract.py``):

* keys object_store cannot express (a trailing ``/``, an empty segment, ``.`` or ``..`` segments, control
  characters): ``native_key`` says no;
* ranged reads on a server that answers a Range GET with 200 (``rclone serve s3``; ``Features.partial_content``);
* listings on servers that can hold folder markers: object_store lists ``dir/`` as ``dir``, so a marker and a file
  could not be told apart; a listing that meets a key object_store refuses falls back from the last key it yielded;
* version ids (object_store would send them, but the control plane owns versions).

This module imports obstore only when a native client is built, so importing it costs nothing.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tui.errors import (
    AuthError,
    CloudpaneError,
    NotFoundError,
    PreconditionFailed,
    StoreError,
    TransientError,
    UnsupportedError,
    UsageError,
)
from tui.safety import display_text
from tui.storage.base import Entry, ObjectInfo, Page

if TYPE_CHECKING:
    from obstore.store import S3Store as NativeStore

#: how long ``settle`` parks the event loop (5 ms was enough at load 15 on 2 cores; twice that for margin)
SETTLE_S = 0.01
#: credentials a refreshable botocore source hands out are asked for again after this long
REFRESH_TTL = timedelta(minutes=5)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def native_key(key: str) -> bool:
    """Whether object_store addresses exactly this key (its paths have no empty, ``.`` or ``..`` segments)."""
    if not key or key.endswith("/") or key.startswith("/") or "//" in key or _CONTROL.search(key):
        return False
    return all(part not in (".", "..") for part in key.split("/"))


def native_prefix(prefix: str) -> bool:
    """A listing prefix object_store lists exactly: the whole bucket, or a "folder" (it lists ``p`` as ``p/``)."""
    return prefix == "" or (prefix.endswith("/") and native_key(prefix[:-1]))


def translate_native(exc: BaseException, what: str) -> CloudpaneError:
    """Classify an obstore failure into the error tree. Messages keep the first line only (no request dump)."""
    if isinstance(exc, CloudpaneError):
        return exc
    from obstore import exceptions as oex

    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    # object_store's message names the request URL (no query string is signed: no secret in it); keep it short
    detail = display_text(first[:300])
    status = _status(str(exc))
    said = _server_says(str(exc))
    if isinstance(exc, FileNotFoundError | oex.NotFoundError):
        return NotFoundError(f"{what}: {said or 'not found'}")
    if isinstance(exc, oex.PermissionDeniedError | oex.UnauthenticatedError):
        return AuthError(f"{what}: permission denied or bad credentials ({detail})")
    if isinstance(exc, oex.PreconditionError | oex.AlreadyExistsError):
        return PreconditionFailed(f"{what}: precondition failed")
    if isinstance(exc, oex.NotSupportedError):
        return UnsupportedError(f"{what}: {detail}")
    if isinstance(exc, ValueError | oex.InvalidPathError):
        return UsageError(f"{what}: {detail}")
    if status == 404:
        return NotFoundError(f"{what}: {said or 'not found'}")
    if status in (401, 403):
        return AuthError(f"{what}: permission denied or bad credentials ({detail})")
    if status is not None and (status >= 500 or status in (408, 429)):
        return TransientError(f"{what}: {detail}")
    if status == 416:
        return UsageError(f"{what}: InvalidRange: {detail}")
    if status is not None and 400 <= status < 500:
        return StoreError(f"{what}: {detail}")
    # resets, timeouts, truncated bodies: reqwest errors without a status
    from tui.errors import network_error

    return network_error(exc, what) or TransientError(f"{what}: {detail}")


_STATUS = re.compile(r"status(?: code)?:? (\d{3})")
_XML_CODE = re.compile(r"<Code>([^<]{1,100})</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]{1,300})</Message>")


def _server_says(text: str) -> str:
    """``Code: Message`` of the S3 error document object_store quotes in its message (as the SDK reports it)."""
    code, message = _XML_CODE.search(text), _XML_MESSAGE.search(text)
    if code is None:
        return ""
    said = code.group(1) + (f": {message.group(1)}" if message else "")
    return display_text(said)


def _status(text: str) -> int | None:
    found = _STATUS.search(text)
    return int(found.group(1)) if found else None


class Credentials(Protocol):
    """botocore's (or aiobotocore's) credentials object: what the native client asks for keys."""

    def get_frozen_credentials(self) -> Any: ...


class _Frozen:
    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token


class StaticCredentials:
    """Keys that botocore's chain would answer with unchanged (explicit keys, or its first link: the environment),
    held without importing botocore (``S3Remote.connect``'s fast path)."""

    def __init__(self, access_key: str, secret_key: str, token: str | None) -> None:
        self._frozen = _Frozen(access_key, secret_key, token)

    def get_frozen_credentials(self) -> Any:
        return self._frozen

    def __repr__(self) -> str:
        return "StaticCredentials(...)"


class CredentialProvider:
    """obstore's credential callback over botocore's credentials: static keys never expire; refreshable ones
    (SSO, assumed roles, instance metadata) are asked again every few minutes, and botocore refreshes them."""

    def __init__(self, credentials: Credentials, *, refreshable: bool) -> None:
        self._credentials = credentials
        self._refreshable = refreshable

    async def __call__(self) -> dict[str, Any]:
        frozen = self._credentials.get_frozen_credentials()
        if isinstance(frozen, Awaitable):
            frozen = await frozen
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": datetime.now(UTC) + REFRESH_TTL if self._refreshable else None,
        }

    def __repr__(self) -> str:
        return "CredentialProvider(...)"


class NativeS3:
    """One endpoint's native client: one obstore store per bucket, all sharing the credential provider."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        region: str,
        provider: CredentialProvider | StaticCredentials,
        virtual_hosted: bool,
        pool: int,
        signed_payload: bool,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._provider = provider
        self._virtual_hosted = virtual_hosted
        self._pool = pool
        self._signed_payload = signed_payload
        self._stores: dict[str, NativeStore] = {}
        #: whether a request went out (``settle`` then has work to do)
        self.used = False

    def bucket(self, bucket: str) -> NativeStore:
        found = self._stores.get(bucket)
        if found is None:
            from obstore.store import S3Store as _NativeStore

            keys: dict[str, Any] = {}
            if isinstance(self._provider, StaticCredentials):
                # keys that never change go in as configuration: no Python callback from the native runtime
                frozen = self._provider.get_frozen_credentials()
                keys = {"access_key_id": frozen.access_key, "secret_access_key": frozen.secret_key}
                if frozen.token:
                    keys["token"] = frozen.token
            else:
                keys = {"credential_provider": self._provider}
            found = _NativeStore(
                bucket,
                endpoint=self.endpoint_url,
                region=self.region,
                virtual_hosted_style_request=self._virtual_hosted,
                unsigned_payload=not self._signed_payload,
                **keys,
                client_options={
                    "allow_http": self.endpoint_url.startswith("http://"),
                    "pool_max_idle_per_host": str(self._pool),
                    "connect_timeout": timedelta(seconds=10),
                    "read_timeout": timedelta(seconds=60),
                },
                # our own retry loop lives in the transfer engine: object_store retries nothing (it would resume a
                # cut body on its own, so a truncated answer would never reach the engine's accounting)
                retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=60)},
            )
            self._stores[bucket] = found
        self.used = True
        return found

    async def settle(self) -> None:
        """Let the native runtime's threads finish handing their last answers to the event loop.

        A tokio thread that completes a request calls ``loop.call_soon_threadsafe`` and then waits for the GIL; a
        process that exits at once (a one-key ``ls``) finalizes the interpreter under it, and Python 3.11 ends
        such a thread with ``pthread_exit``, which aborts through Rust frames (SIGABRT, exit 134: measured, 5-15 %
        of quick runs). Parking the event loop for a moment releases the GIL to it (0 aborts in 120 runs)."""
        if self.used:
            await asyncio.sleep(SETTLE_S)

    async def open_read(
        self,
        bucket: str,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        if_match: str | None = None,
        what: str,
        chunk_size: int = 1024 * 1024,
    ) -> tuple[ObjectInfo, AsyncGenerator[bytes, None]]:
        """GET ``[start, end)`` (``end`` None: to the end). Returns the response's info and its chunks."""
        import obstore

        options: dict[str, Any] = {}
        if start or end is not None:
            options["range"] = {"offset": start} if end is None else (start, end)
        if if_match:
            options["if_match"] = f'"{if_match}"'
        try:
            result = await obstore.get_async(self.bucket(bucket), key, options=options)  # type: ignore[arg-type]
        except Exception as exc:
            raise translate_native(exc, what) from exc
        meta = result.meta
        attributes = result.attributes
        metadata = {
            str(k).lower(): str(v)
            for k, v in attributes.items()
            if k not in ("Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control")
        }
        content_type = attributes.get("Content-Type")
        info = ObjectInfo(
            key=key,
            size=int(meta["size"]),
            last_modified=meta.get("last_modified"),
            etag=_etag(meta.get("e_tag")),
            version_id=meta.get("version"),
            storage_class=None,
            content_type=str(content_type) if content_type else None,
            metadata=metadata,
        )

        async def chunks() -> AsyncGenerator[bytes, None]:
            stream = result.stream(min_chunk_size=chunk_size)
            while True:
                try:
                    chunk = await stream.__anext__()
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    raise translate_native(exc, what) from exc
                yield bytes(chunk)

        return info, chunks()

    async def list(
        self, bucket: str, prefix: str, *, page_size: int, what: str, storage_class: str | None = None
    ) -> AsyncIterator[Page]:
        """A recursive listing, page by page, sorted. Raises ``ListFallback`` (with the last key yielded) when
        object_store meets a key it cannot express: the caller goes on from there with aiobotocore."""
        import obstore
        from obstore import exceptions as oex

        last = ""
        stream = obstore.list(self.bucket(bucket), prefix or None, chunk_size=page_size)
        while True:
            try:
                metas = await stream.__anext__()
            except StopAsyncIteration:
                return
            except oex.InvalidPathError as exc:
                raise ListFallback(last) from exc
            except Exception as exc:
                raise translate_native(exc, what) from exc
            page = [
                Entry(
                    key=m["path"],
                    size=m["size"],
                    last_modified=m["last_modified"],
                    etag=_etag(m.get("e_tag")),
                    # object_store does not report it; the caller knows when a server has only one
                    storage_class=storage_class,
                )
                for m in metas
            ]
            if page:
                last = page[-1].key
                yield page

    async def list_delimited(
        self, bucket: str, prefix: str, *, what: str, storage_class: str | None = None
    ) -> builtins.list[Entry]:
        """One level of a "folder" (delimiter ``/``): its files and its sub-folders (``is_prefix``), in any order.
        object_store gathers every page before it answers. Raises ``ListFallback("")`` when it meets a key it
        cannot express (nothing was yielded: the caller lists from the start with aiobotocore)."""
        import obstore
        from obstore import exceptions as oex

        try:
            found = await obstore.list_with_delimiter_async(self.bucket(bucket), prefix or None)
        except oex.InvalidPathError as exc:
            raise ListFallback("") from exc
        except Exception as exc:
            raise translate_native(exc, what) from exc
        entries = [Entry(key=f"{p}/", is_prefix=True) for p in found["common_prefixes"]]
        entries.extend(
            Entry(
                key=m["path"],
                size=m["size"],
                last_modified=m["last_modified"],
                etag=_etag(m.get("e_tag")),
                storage_class=storage_class,
            )
            for m in found["objects"]
        )
        return entries


class ListFallback(Exception):
    """The native listing stopped at a key object_store cannot express; go on after ``start_after``."""

    def __init__(self, start_after: str) -> None:
        super().__init__(start_after)
        self.start_after = start_after


def _etag(raw: object) -> str | None:
    return str(raw).strip('"') if raw else None
