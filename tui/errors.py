"""The error tree and exit codes.

One mapping from exception to exit code (``exit_code_for``) and to the one line a user sees (``one_line``). The
exit codes are an API: scripts depend on them (see README, "Exit codes").
"""

from __future__ import annotations

import errno
import re
import sys
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

from tui.text import display_text


class ExitCode(IntEnum):
    OK = 0
    PARTIAL = 1  # some items failed, the rest done
    USAGE = 2  # usage or bad input
    AUTH = 3  # credentials or permission
    NOT_FOUND = 4
    CONFLICT = 5  # precondition failed, destination newer, bucket not empty
    NETWORK = 6  # the server could not be reached: connection refused, DNS, TLS, timeout
    INTERRUPTED = 130


class CloudpaneError(Exception):
    """Base of every error cloudpane reports to a user. ``str(err)`` is one line, untrusted parts included."""

    exit_code: ExitCode = ExitCode.PARTIAL
    #: whether retrying the same request may succeed (throttling, 5xx, resets)
    retryable: bool = False


class UsageError(CloudpaneError):
    exit_code = ExitCode.USAGE


class LocationError(UsageError):
    """What the user typed is not a location we understand."""


class UnsafePathError(UsageError):
    """A key that would write outside a download root, or is otherwise not a safe local path."""


class AuthError(CloudpaneError):
    exit_code = ExitCode.AUTH


class NotFoundError(CloudpaneError):
    exit_code = ExitCode.NOT_FOUND


class ConflictError(CloudpaneError):
    exit_code = ExitCode.CONFLICT


class PreconditionFailed(ConflictError):
    pass


class SourceChangedError(ConflictError):
    pass


class UnsupportedError(CloudpaneError):
    """The store cannot do this (e.g. versions on a server without versioning)."""

    exit_code = ExitCode.USAGE


class TransientError(CloudpaneError):
    """Throttling, a 5xx, a reset or a truncated body: worth another try."""

    retryable = True
    #: seconds the server asked us to wait (its ``Retry-After`` header), when it said
    retry_after: float | None = None


class StoreError(CloudpaneError):
    """Any other failure a store reports."""


class NetworkError(TransientError):
    """The server could not be reached, or the connection to it failed: refused, no such host, a TLS handshake
    that failed, a timeout, a reset. Retryable (the engine retries it as any transient error); exit 6 when a
    command fails on it."""

    exit_code = ExitCode.NETWORK


def exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, CloudpaneError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.PARTIAL


def one_line(exc: BaseException) -> str:
    """The message for a user: one line, control characters escaped, never a traceback."""
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, CloudpaneError):
        text = f"{type(exc).__name__}: {text}"
    return display_text(" ".join(text.split()))


#: what a failed local write says, by errno (the rest say the system's own words)
_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "the file is too large for this file system (or the process's file size limit)",
    errno.ENAMETOOLONG: "the name is too long for the local file system",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
}


def os_error(what: str, exc: OSError) -> CloudpaneError:
    """One error of the tree for a failed local operation, with a message a person can act on."""
    reason = _WRITE_ERRORS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    err: CloudpaneError
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        err = NotFoundError(f"{what}: {reason}")
    elif exc.errno in (errno.EACCES, errno.EPERM):
        err = AuthError(f"{what}: {reason}")
    else:
        err = StoreError(f"{what}: {reason}")
    err.__cause__ = exc
    return err


# --- network failures ------------------------------------------------------------------------------------------
#: OpenSSL's words for "the other side did not speak TLS" (an https:// URL on a plain-HTTP port)
_PLAIN_HTTP = (
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "HTTP_REQUEST",
    "UNKNOWN_PROTOCOL",
)
#: rustls' and reqwest's (obstore) words, lower case
_NATIVE = (
    ("invalidcontenttype", "plain"),
    ("corrupt message", "plain"),
    ("connection refused", "refused"),
    ("dns error", "dns"),
    ("failed to lookup address", "dns"),
    ("name or service not known", "dns"),
    ("invalid peer certificate", "cert"),
    ("certificate", "cert"),
    ("timed out", "timeout"),
    ("connection reset", "reset"),
)
#: the request's URL in a reqwest / object_store message ("Error performing GET http://host:port/b/k in 3ms")
_NATIVE_URL = re.compile(r"(https?://[^\s),]+)")


def _where(url: str | None, host: str | None = None, port: int | None = None) -> str:
    """``host:port`` of a request (the URL's default port when it names none)."""
    if host is None and url:
        parts = urlsplit(url)
        host = parts.hostname
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = None
    if not host:
        return "the server"
    shown = f"[{host}]" if ":" in host else host
    return display_text(f"{shown}:{port}" if port else shown)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (``__cause__``, ``__context__``, an aiohttp connector's ``os_error``, botocore's
    ``error`` keyword), outermost first, each once."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 16:
        cur = todo.pop(0)
        if any(cur is s for s in seen):
            continue
        seen.append(cur)
        inner: list[object] = [cur.__cause__, cur.__context__]
        kwargs = vars(cur).get("kwargs")  # botocore keeps the aiohttp error in its exception's kwargs
        if isinstance(kwargs, dict):
            inner.append(kwargs.get("error"))
        inner.append(vars(cur).get("inner_exception"))  # azure-core's wrapped error
        connector = _aiohttp_connector(cur)
        if connector is not None:
            inner.append(connector.os_error)
        inner.extend(a for a in cur.args if isinstance(a, BaseException))
        todo.extend(e for e in inner if isinstance(e, BaseException))
    return seen


def network_error(exc: BaseException, what: str, url: str | None = None) -> NetworkError | None:
    """The one line a person can act on for a failed connection, or None when ``exc`` is not one: "cannot connect
    to 127.0.0.1:18777: connection refused", "127.0.0.1:9000 answered plain HTTP to an https:// endpoint", "cannot
    connect to s3.example.invalid:443: the host name does not resolve (DNS)", "...: timed out", an untrusted
    certificate. Only host and port are shown (never a path or query, where a signature or SAS may be). Reads
    aiohttp's, botocore's, azure-core's and obstore's (reqwest's) errors without importing any of them. ``url``:
    the endpoint asked, when the exception does not say it."""
    chain = _chain(exc)
    host: str | None = None
    port: int | None = None
    for e in chain:
        connector = _aiohttp_connector(e)
        if connector is not None:  # aiohttp's ClientConnectorError names host and port
            host, port = connector.host, connector.port
            break
    for e in chain:
        kwargs = vars(e).get("kwargs")
        if isinstance(kwargs, dict) and isinstance(kwargs.get("endpoint_url"), str):
            url = url or kwargs["endpoint_url"]
    native_url = next((m.group(1) for e in chain if (m := _NATIVE_URL.search(str(e)))), None)
    where = _where(url or native_url, host, port) if host is None else _where(None, host, port)
    kind = _kind(chain)
    if kind is None:
        return None
    https = (url or native_url or "").startswith("https://")
    text = {
        "plain": f"{where} answered plain HTTP to an https:// endpoint (use http:// for this server)",
        "refused": f"cannot connect to {where}: connection refused",
        "dns": f"cannot connect to {where}: the host name does not resolve (DNS)",
        "unreachable": f"cannot connect to {where}: no route to the host (network unreachable)",
        "timeout": f"cannot connect to {where}: timed out",
        "read_timeout": f"{where} did not answer in time (read timeout)",
        "reset": f"the connection to {where} was reset",
        "cert": f"{where}: the server's TLS certificate is not trusted ({_ssl_reason(chain)})",
        "tls": f"{where}: the TLS handshake failed ({_ssl_reason(chain)})",
    }[kind]
    if kind == "tls" and not https:
        text = f"{where}: TLS failed ({_ssl_reason(chain)})"
    err = NetworkError(f"{what}: {text}")
    err.__cause__ = exc
    return err


def _aiohttp_connector(exc: BaseException) -> Any:
    """``exc`` as an aiohttp ClientConnectorError (host, port, os_error), when aiohttp is loaded and it is one."""
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None and isinstance(exc, aiohttp.ClientConnectorError):
        return exc
    return None


def _ssl_reason(chain: list[BaseException]) -> str:
    import ssl

    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError) and "verify_message" in vars(e):
            return display_text(str(e.verify_message or "certificate verify failed"))
    for e in chain:
        if isinstance(e, ssl.SSLError) and vars(e).get("reason"):
            return display_text(str(vars(e)["reason"]))
    return "TLS error"


def _kind(chain: list[BaseException]) -> str | None:
    import socket
    import ssl

    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return "cert"
        if isinstance(e, ssl.SSLError):
            reason = f"{vars(e).get('reason') or ''} {e}"  # aiohttp's SSL errors have no reason of their own
            return "plain" if any(w in reason.upper() for w in _PLAIN_HTTP) else "tls"
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return "refused"
        if isinstance(e, socket.gaierror):
            return "dns"
        if isinstance(e, ConnectionResetError):
            return "reset"
        if isinstance(e, OSError) and e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "unreachable"
        if isinstance(e, OSError) and e.errno == errno.ECONNREFUSED:
            return "refused"
    names = {type(e).__name__ for e in chain}
    if names & {"ConnectTimeoutError", "ConnectionTimeoutError"}:
        return "timeout"
    if names & {"ReadTimeoutError", "ServerTimeoutError", "SocketTimeoutError"}:
        return "read_timeout"
    for e in chain:
        text = str(e).lower()
        if "error sending request" in text or "client error (connect)" in text or "tcp connect error" in text:
            for word, kind in _NATIVE:
                if word in text:
                    return kind
    if any(isinstance(e, TimeoutError) for e in chain) and names & {"ClientConnectorError", "EndpointConnectionError"}:
        return "timeout"
    return None
