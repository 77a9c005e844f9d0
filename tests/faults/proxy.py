"""A fault-injecting HTTP reverse proxy in front of an S3 server (moto), for the transfer engine's failure tests.

The proxy listens on 127.0.0.1 (a random port) and forwards every request to the upstream endpoint, streaming
bodies both ways in 64 KiB chunks: a 30 MB part is never held in memory. Each request is classified into an S3
operation (``CreateMultipartUpload``, ``UploadPart``, ``GetObject``, ...: see :func:`classify`) and recorded
(:class:`RequestRecord`: operation, part number, range, bytes received from the client, bytes forwarded upstream,
bytes sent back, status, the fault injected), so that a test can count what was sent again.

Faults are rules added by the test (:meth:`FaultProxy.add_rule`); the first rule that matches a request and has
``times`` left fires:

* ``status``: read the request body, then answer ``status`` with an S3 XML error (``code``, ``message``);
* ``reset``: read ``after_bytes`` of the request body (default: half of it), then reset the connection (RST);
* ``truncate``: forward, send the response headers with the full Content-Length but only ``after_bytes`` of the
  body (default: half), then close the connection;
* ``kill_after_bytes``: once ``after_bytes`` bytes of upload bodies (UploadPart, PutObject) have come in, every
  request, those in flight included, is reset (a process killed mid-upload) until :meth:`FaultProxy.clear_rules`;
* ``hook``: call ``hook(record)`` (sync or async) before forwarding, e.g. to replace the object under a download;
* ``corrupt``: forward, flipping one bit of the request body at byte ``after_bytes`` (default: the middle), as a
  bad NIC or a buggy middlebox would: a server that ignores Content-MD5 (moto) stores the damaged bytes;
* ``hold``: forward, then call ``hook(record)`` (sync or async) once the server has answered and before the answer
  goes back to the client, e.g. to kill the client right after CreateMultipartUpload took effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import ipaddress
import itertools
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict
from yarl import URL

HOST = "127.0.0.1"
CHUNK = 64 * 1024
#: operations whose request body is object data: what ``upload_bytes`` and ``kill_after_bytes`` count
UPLOAD_OPS = frozenset({"UploadPart", "PutObject"})

Action = Literal["status", "reset", "truncate", "kill_after_bytes", "hook", "corrupt", "hold"]
Hook = Callable[["RequestRecord"], "Awaitable[None] | None"]

_ACTIONS = ("status", "reset", "truncate", "kill_after_bytes", "hook", "corrupt", "hold")
#: the actions that forward the request (changing it or its answer)
_FORWARDING = ("truncate", "corrupt", "hold")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",  # the proxy answers 100-continue itself; upstream gets the body straight away
    }
)
#: headers aiohttp would add on its own: the upstream request carries the client's headers only
_SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
#: what reading from / writing to the client raises when the client has gone away
_CLIENT_GONE = (ConnectionError, aiohttp.ClientError, HttpProcessingError, EOFError)

_DEFAULT_CODES = {
    400: "BadRequest",
    403: "AccessDenied",
    404: "NoSuchKey",
    409: "OperationAborted",
    412: "PreconditionFailed",
    429: "TooManyRequests",
    500: "InternalError",
    501: "NotImplemented",
    502: "BadGateway",
    503: "SlowDown",
    504: "GatewayTimeout",
}
_DEFAULT_MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Service is unable to handle request.",
}

_BUCKET_SUBRESOURCES = {
    "accelerate": "BucketAccelerateConfiguration",
    "acl": "BucketAcl",
    "analytics": "BucketAnalyticsConfiguration",
    "cors": "BucketCors",
    "encryption": "BucketEncryption",
    "intelligent-tiering": "BucketIntelligentTieringConfiguration",
    "inventory": "BucketInventoryConfiguration",
    "lifecycle": "BucketLifecycleConfiguration",
    "location": "BucketLocation",
    "logging": "BucketLogging",
    "metrics": "BucketMetricsConfiguration",
    "notification": "BucketNotificationConfiguration",
    "object-lock": "ObjectLockConfiguration",
    "ownershipControls": "BucketOwnershipControls",
    "policy": "BucketPolicy",
    "policyStatus": "BucketPolicyStatus",
    "publicAccessBlock": "PublicAccessBlock",
    "replication": "BucketReplication",
    "requestPayment": "BucketRequestPayment",
    "tagging": "BucketTagging",
    "versioning": "BucketVersioning",
    "website": "BucketWebsite",
}
_OBJECT_SUBRESOURCES = {
    "acl": "ObjectAcl",
    "attributes": "ObjectAttributes",
    "legal-hold": "ObjectLegalHold",
    "retention": "ObjectRetention",
    "tagging": "ObjectTagging",
    "torrent": "ObjectTorrent",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}


def classify(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str] | None = None) -> str:
    """The S3 operation of a path-style request, from its method, query and (for copies) headers."""
    method = method.upper()
    copy = any(name.lower() == "x-amz-copy-source" for name in (headers or {}))
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return "ListBuckets" if method == "GET" else f"{method} /"
    if not key:
        return _bucket_op(method, query)
    return _object_op(method, query, copy)


def _bucket_op(method: str, query: Mapping[str, str]) -> str:
    if method == "HEAD":
        return "HeadBucket"
    if method == "POST":
        return "DeleteObjects" if "delete" in query else "POST bucket"
    if method == "GET":
        if "uploads" in query:
            return "ListMultipartUploads"
        if "versions" in query:
            return "ListObjectVersions"
        if query.get("list-type") == "2":
            return "ListObjectsV2"
    sub = next((q for q in query if q in _BUCKET_SUBRESOURCES), None)
    if sub is not None and method in _VERBS:
        return f"{_VERBS[method]}{_BUCKET_SUBRESOURCES[sub]}"
    return {"GET": "ListObjects", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, f"{method} bucket")


def _object_op(method: str, query: Mapping[str, str], copy: bool) -> str:
    upload = "uploadId" in query
    sub = next((q for q in query if q in _OBJECT_SUBRESOURCES), None)
    if method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if upload:
            return "CompleteMultipartUpload"
        if "restore" in query:
            return "RestoreObject"
        if "select" in query:
            return "SelectObjectContent"
        return "POST object"
    if method == "HEAD":
        return "HeadObject"
    if method not in _VERBS:
        return f"{method} object"
    if sub is not None:
        return f"{_VERBS[method]}{_OBJECT_SUBRESOURCES[sub]}"
    if method == "PUT":
        if upload and "partNumber" in query:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if upload else "DeleteObject"
    return "ListParts" if upload else "GetObject"


@dataclass(eq=False)
class RequestRecord:
    """One request the proxy received, and what became of it."""

    seq: int
    op: str
    method: str
    #: the decoded path: ``/bucket/key``
    path: str
    query: dict[str, str]
    bucket: str
    key: str
    part_number: int | None
    upload_id: str | None
    #: the Range header, if any
    range: str | None
    #: the request's declared Content-Length
    content_length: int | None
    #: request body bytes received from the client
    bytes_in: int = 0
    #: request body bytes forwarded to the upstream server
    bytes_up: int = 0
    #: response body bytes sent to the client
    bytes_down: int = 0
    #: the status sent to the client (None: the connection was reset before any answer)
    status: int | None = None
    upstream_status: int | None = None
    #: the fault injected: "status", "reset", "truncate", "killed", or "client-gone" (the client hung up)
    fault: str | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    #: set once the proxy is done with the request (answered, reset or failed)
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def ranged(self) -> bool:
        return self.range is not None

    @property
    def range_start(self) -> int | None:
        if not self.range or not self.range.startswith("bytes="):
            return None
        first = self.range[len("bytes=") :].split("-", 1)[0]
        return int(first) if first.isdigit() else None


@dataclass(eq=False)
class Rule:
    """A fault to inject; see :meth:`FaultProxy.add_rule`. ``fired`` counts the requests it hit."""

    action: Action
    op: str | tuple[str, ...] | None = None
    times: int | None = 1
    status: int = 503
    code: str | None = None
    message: str | None = None
    part: int | None = None
    key: str | None = None
    ranged: bool | None = None
    match: Callable[[RequestRecord], bool] | None = None
    after_bytes: int | None = None
    hook: Hook | None = None
    fired: int = 0
    #: kill_after_bytes: upload bytes counted so far
    seen: int = 0

    @property
    def armed(self) -> bool:
        return self.times is None or self.fired < self.times

    def matches(self, rec: RequestRecord) -> bool:
        if self.op is not None and rec.op not in ((self.op,) if isinstance(self.op, str) else self.op):
            return False
        if self.part is not None and rec.part_number != self.part:
            return False
        if self.key is not None and rec.key != self.key:
            return False
        if self.ranged is not None and rec.ranged != self.ranged:
            return False
        return self.match is None or self.match(rec)


class _Dropped(Exception):
    """The client connection was reset or closed: there is nothing left to answer."""


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


class FaultProxy:
    """The proxy. ``await proxy.start()`` (or ``async with``), then point a client at ``proxy.url``."""

    def __init__(self, upstream: str, *, host: str = HOST) -> None:
        if not _is_loopback(URL(upstream).host) or not _is_loopback(host):
            raise ValueError("the fault proxy only talks to 127.0.0.1")
        self.upstream = upstream.rstrip("/")
        self.host = host
        self.port = 0
        self.rules: list[Rule] = []
        self.records: list[RequestRecord] = []
        #: unexpected failures of the proxy itself (a bug, or the upstream server failing): tests assert none
        self.errors: list[BaseException] = []
        #: set when a kill_after_bytes rule fires
        self.killed = asyncio.Event()
        self.upload_total = 0
        self._watchers: list[tuple[int, asyncio.Future[None]]] = []
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60),
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        for _, fut in self._watchers:
            fut.cancel()
        self._watchers.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- rules -------------------------------------------------------------------------------------------------
    def add_rule(
        self,
        op: str | Iterable[str] | None = None,
        action: Action = "status",
        *,
        times: int | None = 1,
        status: int = 503,
        code: str | None = None,
        message: str | None = None,
        part: int | None = None,
        key: str | None = None,
        ranged: bool | None = None,
        match: Callable[[RequestRecord], bool] | None = None,
        after_bytes: int | None = None,
        hook: Hook | None = None,
    ) -> Rule:
        """Add a fault. ``op`` (one name or several), ``part``, ``key``, ``ranged`` and ``match`` select requests;
        ``times`` is how many requests it hits (None: all of them). See the module docstring for the actions."""
        if action not in _ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        if action == "kill_after_bytes" and after_bytes is None:
            raise ValueError("kill_after_bytes needs after_bytes")
        if action in ("hook", "hold") and hook is None:
            raise ValueError(f"a {action} rule needs hook=")
        ops = op if op is None or isinstance(op, str) else tuple(op)
        rule = Rule(
            action=action,
            op=ops,
            times=times,
            status=status,
            code=code,
            message=message,
            part=part,
            key=key,
            ranged=ranged,
            match=match,
            after_bytes=after_bytes,
            hook=hook,
        )
        self.rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        """Remove every rule and bring a killed proxy back to life."""
        self.rules.clear()
        self.killed.clear()

    # -- what happened -----------------------------------------------------------------------------------------
    def mark(self) -> int:
        """An index into ``records``: pass it as ``since`` to look at what came after."""
        return len(self.records)

    def find(
        self,
        op: str | None = None,
        *,
        key: str | None = None,
        part: int | None = None,
        fault: str | None = None,
        status: int | None = None,
        since: int = 0,
    ) -> list[RequestRecord]:
        return [
            r
            for r in self.records[since:]
            if (op is None or r.op == op)
            and (key is None or r.key == key)
            and (part is None or r.part_number == part)
            and (fault is None or r.fault == fault)
            and (status is None or r.status == status)
        ]

    def ops(self, since: int = 0) -> list[str]:
        return [r.op for r in self.records[since:]]

    def upload_bytes(self, key: str | None = None, *, since: int = 0) -> int:
        """Object data the client sent (UploadPart and PutObject bodies, failed attempts included)."""
        return sum(r.bytes_in for r in self.records[since:] if r.op in UPLOAD_OPS and key in (None, r.key))

    def upstream_upload_bytes(self, key: str | None = None, *, since: int = 0) -> int:
        """Object data forwarded to the server."""
        return sum(r.bytes_up for r in self.records[since:] if r.op in UPLOAD_OPS and key in (None, r.key))

    def download_bytes(self, key: str | None = None, *, since: int = 0) -> int:
        """GetObject body bytes sent to the client (truncated answers included)."""
        return sum(r.bytes_down for r in self.records[since:] if r.op == "GetObject" and key in (None, r.key))

    async def wait_for_upload_bytes(self, count: int) -> None:
        """Return once the client has sent ``count`` bytes of object data (since the proxy started).

        Bound it with ``asyncio.timeout``."""
        if self.upload_total >= count:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._watchers.append((count, fut))
        try:
            await fut
        finally:
            with contextlib.suppress(ValueError):
                self._watchers.remove((count, fut))

    # -- the server --------------------------------------------------------------------------------------------
    def _record(self, request: web.Request) -> RequestRecord:
        query = {k: v for k, v in request.query.items()}
        bucket, _, key = request.path.lstrip("/").partition("/")
        part = request.query.get("partNumber", "")
        rec = RequestRecord(
            seq=next(self._seq),
            op=classify(request.method, request.path, request.query, request.headers),
            method=request.method,
            path=request.path,
            query=query,
            bucket=bucket,
            key=key,
            part_number=int(part) if part.isdigit() else None,
            upload_id=request.query.get("uploadId"),
            range=request.headers.get("Range"),
            content_length=request.content_length,
        )
        self.records.append(rec)
        return rec

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rec = self._record(request)
        try:
            return await self._serve(request, rec)
        except _Dropped:
            # the connection is gone: aiohttp's attempt to write this fails quietly
            return web.Response(status=599)
        except Exception as exc:  # noqa: BLE001 - any other failure is the proxy's own: record it, answer 502
            self.errors.append(exc)
            rec.error = repr(exc)
            if request.writer.output_size > 0:
                _reset(request)
                return web.Response(status=599)
            rec.status = 502
            return _s3_error(request, rec, 502, "ProxyError", f"fault proxy: {type(exc).__name__}: {exc}")
        finally:
            rec.ended = time.monotonic()
            rec.finished.set()

    async def _serve(self, request: web.Request, rec: RequestRecord) -> web.StreamResponse:
        if self.killed.is_set():
            rec.fault = "killed"
            _reset(request)
            raise _Dropped
        for rule in [r for r in self.rules if r.action == "hook" and r.armed and r.matches(rec)]:
            rule.fired += 1
            assert rule.hook is not None
            result = rule.hook(rec)
            if inspect.isawaitable(result):
                await result
        rule = self._pick(rec)
        if rule is None:
            return await self._forward(request, rec, None)
        if rule.action == "status":
            rec.fault = "status"
            await self._drain(request, rec, None)
            code = rule.code or _DEFAULT_CODES.get(rule.status, "InternalError")
            message = rule.message or _DEFAULT_MESSAGES.get(code, f"injected {rule.status} {code}")
            rec.status = rule.status
            return _s3_error(request, rec, rule.status, code, message)
        if rule.action == "reset":
            rec.fault = "reset"
            limit = rule.after_bytes if rule.after_bytes is not None else (rec.content_length or 0) // 2
            await self._drain(request, rec, limit)
            _reset(request)
            raise _Dropped
        return await self._forward(request, rec, rule)  # truncate, corrupt, hold

    def _pick(self, rec: RequestRecord) -> Rule | None:
        for rule in self.rules:
            if rule.action in ("status", "reset", *_FORWARDING) and rule.armed and rule.matches(rec):
                rule.fired += 1  # reserved now: concurrent requests cannot both take the last one
                return rule
        return None

    def _note_upload(self, rec: RequestRecord, count: int) -> int:
        """Count ``count`` bytes of request body; return how many of them may go upstream."""
        if rec.op not in UPLOAD_OPS:
            return count
        self.upload_total += count
        for wanted, fut in [w for w in self._watchers if w[0] <= self.upload_total]:
            self._watchers.remove((wanted, fut))
            if not fut.done():
                fut.set_result(None)
        if self.killed.is_set():
            return 0
        allowed = count
        for rule in self.rules:
            if rule.action != "kill_after_bytes" or rule.fired:
                continue
            assert rule.after_bytes is not None
            room = rule.after_bytes - rule.seen
            if count >= room:
                rule.seen = rule.after_bytes
                rule.fired = 1
                allowed = min(allowed, max(room, 0))
                self.killed.set()
            else:
                rule.seen += count
        return allowed

    async def _drain(self, request: web.Request, rec: RequestRecord, limit: int | None) -> None:
        """Read (and drop) the request body, up to ``limit`` bytes."""
        with contextlib.suppress(*_CLIENT_GONE):
            while limit is None or rec.bytes_in < limit:
                chunk = await request.content.read(CHUNK if limit is None else min(CHUNK, limit - rec.bytes_in))
                if not chunk:
                    return
                rec.bytes_in += len(chunk)
                self._note_upload(rec, len(chunk))

    async def _body(
        self, request: web.Request, rec: RequestRecord, abort: asyncio.Future[str], flip_at: int | None = None
    ) -> AsyncIterator[bytes]:
        """The request body, streamed from the client to the upstream request (one bit flipped at ``flip_at``)."""
        reason: str | None = None
        try:
            while True:
                chunk = await request.content.read(CHUNK)
                if not chunk:
                    break
                if flip_at is not None and rec.bytes_in <= flip_at < rec.bytes_in + len(chunk):
                    damaged = bytearray(chunk)
                    damaged[flip_at - rec.bytes_in] ^= 0x01
                    chunk = bytes(damaged)
                    rec.fault = "corrupt"
                rec.bytes_in += len(chunk)
                allowed = self._note_upload(rec, len(chunk))
                if allowed:
                    rec.bytes_up += allowed
                    yield chunk if allowed == len(chunk) else chunk[:allowed]
                if self.killed.is_set():
                    reason = "killed"
                    break
        except _CLIENT_GONE:
            reason = "client-gone"
        if reason is None and rec.content_length is not None and rec.bytes_in < rec.content_length:
            reason = "client-gone"
        if reason is None:
            return
        if not abort.done():
            abort.set_result(reason)
        # never finish a short body: the handler cancels the upstream request, so the server never sees it whole
        await asyncio.Event().wait()

    async def _forward(self, request: web.Request, rec: RequestRecord, rule: Rule | None) -> web.StreamResponse:
        abort: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        flip_at: int | None = None
        if rule is not None and rule.action == "corrupt":
            flip_at = rule.after_bytes if rule.after_bytes is not None else (rec.content_length or 0) // 2
        body = self._body(request, rec, abort, flip_at) if request.body_exists else None
        exchange = asyncio.create_task(self._exchange(request, rec, body, rule))
        killed = asyncio.create_task(self.killed.wait())
        try:
            done, _ = await asyncio.wait({exchange, abort, killed}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            exchange.cancel()
            raise
        finally:
            killed.cancel()
        if exchange in done:
            return exchange.result()
        exchange.cancel()
        await asyncio.gather(exchange, return_exceptions=True)
        rec.fault = "killed" if self.killed.is_set() else abort.result()
        _reset(request)
        raise _Dropped

    async def _exchange(
        self,
        request: web.Request,
        rec: RequestRecord,
        body: AsyncIterator[bytes] | None,
        rule: Rule | None,
    ) -> web.StreamResponse:
        truncate = rule if rule is not None and rule.action == "truncate" else None
        assert self._session is not None
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP)
        url = URL(self.upstream + request.raw_path, encoded=True)
        async with self._session.request(
            request.method,
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
        ) as up:
            rec.upstream_status = up.status
            if rule is not None and rule.action == "hold":
                assert rule.hook is not None
                rec.fault = "hold"
                held = rule.hook(rec)
                if inspect.isawaitable(held):
                    await held
            out = CIMultiDict((k, v) for k, v in up.headers.items() if k.lower() not in _HOP_BY_HOP)
            resp = web.StreamResponse(status=up.status, reason=up.reason, headers=out)
            cut: int | None = None
            if truncate is not None:
                if request.method != "HEAD" and up.status in (200, 206) and up.content_length:
                    rec.fault = "truncate"
                    cut = truncate.after_bytes if truncate.after_bytes is not None else up.content_length // 2
                else:
                    truncate.fired -= 1  # nothing to truncate: the rule stays armed
            try:
                await resp.prepare(request)
                rec.status = up.status
                async for chunk in up.content.iter_chunked(CHUNK):
                    if cut is not None:
                        chunk = chunk[: cut - rec.bytes_down]
                    if chunk:
                        await resp.write(chunk)
                        rec.bytes_down += len(chunk)
                    if cut is not None and rec.bytes_down >= cut:
                        break
                if cut is None:
                    await resp.write_eof()
            except ConnectionError as exc:
                # the client hung up (aiohttp's ClientConnectionResetError is a ConnectionError)
                rec.fault = rec.fault or "client-gone"
                raise _Dropped from exc
        if cut is not None:
            # the full Content-Length was announced: closing now leaves the client short
            if request.transport is not None:
                request.transport.close()
            raise _Dropped
        return resp


def _reset(request: web.Request) -> None:
    """Close the client connection at once, with a TCP RST."""
    transport = request.transport
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _s3_error(request: web.Request, rec: RequestRecord, status: int, code: str, message: str) -> web.Response:
    request_id = f"FAULT{rec.seq:08d}"
    headers = {"x-amz-request-id": request_id, "Content-Type": "application/xml"}
    if request.method == "HEAD":
        return web.Response(status=status, headers=headers)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(rec.path)}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    return web.Response(status=status, body=body.encode(), headers=headers)
