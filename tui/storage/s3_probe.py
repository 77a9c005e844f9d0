"""Which kind of S3 server an endpoint is, in one signed request and without the SDK (start-up cost).

``S3Remote._probe`` asks aiobotocore for a ListObjectVersions of a bucket that does not exist: a gofakes3 server
(``rclone serve s3``) answers 501, moto names itself in the ``Server`` header, a full S3 says NoSuchBucket. Loading
botocore to send that one request costs more than the rest of a one-key ``ls`` (bench/analysis.md), so the fast
path of ``S3Remote.connect`` (static keys and an endpoint from the options or the environment) sends the same
request here: SigV4 with the standard library, HTTP/1.1 over an asyncio stream, ``Connection: close``.

Only a definite answer counts: 501 / NotImplemented, or a 404 NoSuchBucket. Anything else (a refused signature, a
5xx, a redirect, a connection that fails, a body that is not what S3 sends) returns None and the caller asks the SDK,
whose answer and error messages are the reference: this module can make a start-up faster, never decide otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from tui.storage.base import Features

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")
#: seconds for the whole probe (connect, send, read); the SDK's connect timeout is 10 s
PROBE_TIMEOUT = 10.0
#: a probe answer is small; more than this is not an S3 error document
_MAX_ANSWER = 64 * 1024


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    url: str,
    *,
    region: str,
    access_key: str,
    secret_key: str,
    token: str | None,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers of a SigV4-signed request with an empty body (service ``s3``)."""
    parts = urlsplit(url)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"host": parts.netloc, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date}
    if token:
        headers["x-amz-security-token"] = token
    pairs = []
    for item in parts.query.split("&") if parts.query else []:
        name, _, value = item.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    signed = ";".join(sorted(headers))
    canonical_headers = "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers))
    canonical = "\n".join(
        [method, quote(parts.path or "/", safe="/-_.~"), canonical_query, canonical_headers, signed, EMPTY_SHA256]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    return headers


async def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One GET: (status, lower-cased headers, raw body as sent, chunk framing included)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    ssl_context = None
    if https:
        import ssl

        ssl_context = ssl.create_default_context()
    host = parts.hostname or ""
    reader, writer = await asyncio.open_connection(host, parts.port or (443 if https else 80), ssl=ssl_context)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"GET {target} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), "connection: close", "", ""]
        writer.write("\r\n".join(lines).encode("latin-1"))
        raw = b""
        while len(raw) <= _MAX_ANSWER and (chunk := await reader.read(16384)):
            raw += chunk
    finally:
        writer.close()
        with contextlib.suppress(OSError):  # the server hung up first
            await writer.wait_closed()
    head, sep, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    proto, _, rest = status_line.partition(" ")
    if not sep or not proto.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise ValueError("not an HTTP answer")
    found: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(rest[:3]), found, body


def _proxied(url: str) -> bool:
    """Whether the environment sends requests to ``url`` through a proxy (botocore honours it; this module does
    not speak to proxies, so it leaves such endpoints to the SDK rather than try a direct connection)."""
    env = os.environ
    scheme = urlsplit(url).scheme
    names = (f"{scheme}_proxy", "all_proxy")
    if not any(env.get(n) or env.get(n.upper()) for n in names):
        return False
    host = (urlsplit(url).hostname or "").lower()
    for entry in (env.get("no_proxy") or env.get("NO_PROXY") or "").split(","):
        entry = entry.strip().lower().lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith(f".{entry}"))):
            return False
    return True


async def probe_features(
    endpoint_url: str,
    *,
    region: str,
    access_key: str,
    secret_key: str,
    token: str | None,
    full: Features,
    limited: Features,
    moto: Features,
) -> Features | None:
    """The Features of the server at ``endpoint_url`` (path-style addressing), or None when the answer is not a
    definite one (the caller then asks the SDK)."""
    if _proxied(endpoint_url):
        return None
    url = f"{endpoint_url.rstrip('/')}/cloudpane-probe-{uuid.uuid4().hex[:16]}?max-keys=1&versions"
    headers = sigv4_headers("GET", url, region=region, access_key=access_key, secret_key=secret_key, token=token)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            status, answer, body = await _get(url, headers)
    except (OSError, TimeoutError, ValueError, UnicodeError):
        return None
    match = _CODE.search(body)
    code = match.group(1).decode("utf-8", "replace") if match else ""
    if status == 501 or code == "NotImplemented":
        return limited
    if status == 404 and code == "NoSuchBucket":
        server = answer.get("server", "")
        if "werkzeug" in server.lower() or server == "amazon.com":  # moto (AWS itself says "AmazonS3")
            return moto
        return full
    return None
