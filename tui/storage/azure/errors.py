"""One place where Azure failures become the ``tui.errors`` tree (rclone's fserrors idea, as in ``s3.py``).

Messages are one line: what we were doing, the HTTP status and Azure's error code, and the first line of Azure's
message. The SDK's own ``str(exc)`` is never used whole (it carries the XML body, request ids and, for some
transport errors, the request URL with its SAS signature); every secret of the account is scrubbed as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import aiohttp
from azure.core import exceptions as aze

from tui.errors import (
    AuthError,
    CloudpaneError,
    ConflictError,
    NetworkError,
    NotFoundError,
    PreconditionFailed,
    StoreError,
    TransientError,
    UnsupportedError,
    UsageError,
    network_error,
)

#: 400 answers that are about what was asked (names, metadata, ranges), not about the server
_USAGE_CODES = {
    "InvalidResourceName",
    "OutOfRangeInput",
    "InvalidMetadata",
    "InvalidQueryParameterValue",
    "InvalidHeaderValue",
    "InvalidBlobOrBlock",
    "InvalidBlockId",
    "InvalidBlockList",
    "InvalidUri",
    "MetadataTooLarge",
    "RequestBodyTooLarge",
}
_TRANSIENT_CODES = {"ServerBusy", "OperationTimedOut", "InternalError", "ServiceUnavailable"}
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


def scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    # a SAS signature we were not told about (e.g. in a connection string's token): hide any sig= value
    out: list[str] = []
    rest = text
    while True:
        index = rest.lower().find("sig=")
        if index < 0:
            out.append(rest)
            break
        out.append(rest[: index + 4] + "***")
        rest = rest[index + 4 :]
        end = min((i for i in (rest.find(c) for c in "& ;'\"") if i >= 0), default=len(rest))
        rest = rest[end:]
    return "".join(out)


def _code(exc: aze.HttpResponseError) -> str:
    code: object = exc.__dict__.get("error_code")  # set by the storage SDK's error processing
    text = str(getattr(code, "value", code) or "")
    response: Any = exc.response
    if not text and response is not None:
        text = str(response.headers.get("x-ms-error-code", ""))
    return text


def _reason(exc: aze.HttpResponseError) -> str:
    raw = exc.reason or ""
    message = exc.message or ""
    first = message.splitlines()[0] if message else ""
    # HEAD answers have no body: the SDK says "Operation returned an invalid status 'The specified blob ...'"
    prefix = "Operation returned an invalid status "
    if first.startswith(prefix):
        first = first[len(prefix) :].strip("'")
    return first or raw


def translate_error(exc: BaseException, what: str, secrets: Sequence[str] = ()) -> CloudpaneError:
    """Classify an azure-core / aiohttp failure; the message is one line without secrets."""
    if isinstance(exc, CloudpaneError):
        return exc
    if isinstance(exc, aze.HttpResponseError):
        status = int(exc.status_code or 0)
        code = _code(exc)
        reason = _reason(exc)
        label = f"{status} {code}".strip() if code else str(status or "error")
        text = scrub(f"{what}: {reason} ({label})" if reason else f"{what}: {label}", secrets)
        if status == 404:
            return NotFoundError(text)
        if status in (401, 403):
            return AuthError(text)
        if status == 412 or code == "ConditionNotMet":
            return PreconditionFailed(text)
        if status == 409:
            return ConflictError(text)
        if status in _TRANSIENT_STATUS or code in _TRANSIENT_CODES:
            return TransientError(text)
        if status == 501 or code == "APINotImplemented":
            return UnsupportedError(text)
        if status == 400 and code in _USAGE_CODES:
            return UsageError(text)
        return StoreError(text)
    if isinstance(exc, aze.ClientAuthenticationError):
        return AuthError(scrub(f"{what}: authentication failed", secrets))
    network = network_error(exc, what)
    if network is not None:
        # host:port only (never the path or query, where a SAS lives); scrubbed all the same
        scrubbed = NetworkError(scrub(str(network), secrets))
        return scrubbed
    if isinstance(exc, aze.ServiceRequestError | aze.ServiceResponseError | aze.IncompleteReadError):
        # connection refused, DNS, resets, a body cut short: the inner error says which, without the URL
        inner = exc.inner_exception if isinstance(exc, aze.AzureError) else None
        kind = type(inner).__name__ if inner is not None else type(exc).__name__
        return TransientError(scrub(f"{what}: cannot reach the blob endpoint ({kind})", secrets))
    if isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        return TransientError(scrub(f"{what}: {type(exc).__name__}", secrets))
    if isinstance(exc, aze.AzureError):
        first = (exc.message or "").splitlines()[0] if exc.message else type(exc).__name__
        return StoreError(scrub(f"{what}: {first}", secrets))
    if isinstance(exc, ValueError):
        # the SDK's own argument checks (a block id, a bad URL)
        return UsageError(scrub(f"{what}: {exc}", secrets).splitlines()[0])
    return StoreError(scrub(f"{what}: {type(exc).__name__}", secrets))


@contextlib.contextmanager
def azure_errors(what: str, secrets: Sequence[str] = ()) -> Iterator[None]:
    try:
        yield
    except CloudpaneError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated; `from None`: the SDK's exception may hold a SAS URL
        raise translate_error(exc, what, secrets) from None
