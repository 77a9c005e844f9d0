"""What the user typed, parsed into a :class:`Location`.

==========================================  ========================================================
typed                                       means
==========================================  ========================================================
``/abs``, ``./rel``, ``rel/path``, ``~/x``  local filesystem (relative to ``cwd``; ``~`` expanded;
                                            symlinks kept as typed)
``file:///abs``                             local filesystem, percent-decoded
``s3://``                                   the bucket list of the default S3 remote
``s3://bucket``, ``s3://bucket/pre/key``    the default S3 remote
``az://``, ``az://container/blob``          the default Azure remote
``NAME:``, ``NAME:bucket/key``              a named remote: cloudpane's config, or an AWS profile
``https://host/path``                       a source to upload from (``http://``: localhost only)
==========================================  ========================================================

Keys are kept exactly as typed after the bucket: no normalisation, no percent-decoding (S3 keys may
hold ``%``, ``+``, ``#``, ``?``, spaces, either unicode normal form). A key ending in ``/`` is a
prefix.

A colon before any slash means a named remote, so a local file called ``a:b`` is typed ``./a:b``.
Single letters are not special (no drive letters: we run on Linux).

No Textual here. Errors are :class:`~tui.errors.LocationError` (exit code 2) with one line naming
what was typed.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from tui.errors import LocationError

if TYPE_CHECKING:
    from tui.config import Settings

LocationKind = Literal["local", "s3", "azure", "https"]
RemoteKind = Literal["s3", "azure"]

#: hosts that may be reached over plain http (test servers, the demo server)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_SCHEMES = frozenset({"s3", "az", "file", "https", "http"})
#: how much of what was typed an error message shows
_SHOWN_LEN = 200


@dataclass(frozen=True, slots=True)
class Location:
    """One place: a local path, an S3 or Azure bucket/prefix/key, a bucket list, or an https source.

    Equality ignores ``raw``: ``s3://b`` and ``s3://b/`` are the same place.
    """

    kind: LocationKind
    remote: str | None = None
    """A named remote (cloudpane config remote or AWS profile); ``None``: the default remote."""
    bucket: str | None = None
    """S3 bucket / Azure container; ``None`` means the bucket list of the remote."""
    key: str = ""
    """Key or prefix inside the bucket (``""`` is the bucket root); prefixes end in ``/``."""
    path: Path | None = None
    """Local: the absolute, user-expanded path (not symlink-resolved)."""
    url: str | None = None
    """https source: the URL as typed (signature included: never log it; ``str()`` hides it)."""
    raw: str = field(default="", compare=False)
    """What the user typed."""

    @property
    def is_bucket_list(self) -> bool:
        """An ``s3://``, ``az://`` or ``NAME:`` location: the buckets of a remote."""
        return self.kind in ("s3", "azure") and self.bucket is None

    @property
    def is_prefix(self) -> bool:
        """A folder-like location: a bucket list, a bucket root, a key ending in ``/``; for local,
        an existing directory or a path typed with a trailing ``/``."""
        if self.kind == "local":
            if self.raw.endswith("/"):
                return True
            try:
                return self.path is not None and self.path.is_dir()
            except OSError:
                return False
        if self.kind == "https":
            return False
        return self.key == "" or self.key.endswith("/")

    @property
    def name(self) -> str:
        """The last component, without a trailing ``/``: a file or folder name, the bucket for a
        bucket root, the percent-decoded last URL segment for https, ``""`` for a bucket list."""
        if self.kind == "local":
            assert self.path is not None
            return self.path.name or str(self.path)
        if self.kind == "https":
            segment = urlsplit(self.url or "").path.rstrip("/").rsplit("/", 1)[-1]
            return unquote(segment)
        if self.bucket is None:
            return ""
        if self.key == "":
            return self.bucket
        trimmed = self.key[:-1] if self.key.endswith("/") else self.key
        return trimmed.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        """The canonical text (``parse_location(str(loc)) == loc``), except that an https URL's
        signature-like query string and userinfo are hidden. Not escaped: show it through
        ``display_text``."""
        if self.kind == "local":
            return str(self.path)
        if self.kind == "https":
            return _display_url(self.url or "")
        rest = "" if self.bucket is None else f"{self.bucket}/{self.key}"
        if self.remote is not None:
            return f"{self.remote}:{rest}"
        return ("s3://" if self.kind == "s3" else "az://") + rest

    def __repr__(self) -> str:
        """The dataclass repr, but an https URL's signature is hidden here too (reprs end up in logs)."""
        url, raw = self.url, self.raw
        if self.kind == "https":
            url = None if url is None else _display_url(url)
            raw = _display_url(raw)
        return (
            f"Location(kind={self.kind!r}, remote={self.remote!r}, bucket={self.bucket!r}, "
            f"key={self.key!r}, path={self.path!r}, url={url!r}, raw={raw!r})"
        )

    def child(self, name: str) -> Location:
        """One level down: a bucket from a bucket list, a key component under a prefix, a local
        path component.

        ``name`` is appended as-is (a trailing ``/`` makes a prefix). Under a key that does not end
        in ``/``, a ``/`` is put in between. Raises ``ValueError`` for an empty name, a local name
        that is not a single component, a bucket name with ``/`` in it, or an https location.
        """
        if not name:
            raise ValueError("empty name")
        if self.kind == "https":
            raise ValueError("an https source has no children")
        if self.kind == "local":
            assert self.path is not None
            part = name[:-1] if name.endswith("/") else name
            if part in ("", ".", "..") or "/" in part or "\x00" in part:
                raise ValueError(f"not a single path component: {name!r}")
            path = self.path / part
            return replace(self, path=path, raw=str(path) + ("/" if name.endswith("/") else ""))
        if self.bucket is None:
            bucket = name[:-1] if name.endswith("/") else name
            if not bucket or "/" in bucket:
                raise ValueError(f"not a bucket name: {name!r}")
            loc = replace(self, bucket=bucket, key="")
        else:
            base = self.key if self.key == "" or self.key.endswith("/") else self.key + "/"
            loc = replace(self, key=base + name)
        return replace(loc, raw=str(loc))

    def parent(self) -> Location | None:
        """One level up: key -> its prefix, bucket root -> bucket list, local path -> its directory.

        ``None`` above a bucket list, above local ``/`` and for https sources.
        """
        if self.kind == "https":
            return None
        if self.kind == "local":
            assert self.path is not None
            up = self.path.parent
            if up == self.path:
                return None
            return replace(self, path=up, raw=str(up))
        if self.bucket is None:
            return None
        if self.key == "":
            loc = replace(self, bucket=None)
        else:
            trimmed = self.key[:-1] if self.key.endswith("/") else self.key
            loc = replace(self, key=trimmed[: trimmed.rfind("/") + 1])
        return replace(loc, raw=str(loc))


# --- URLs ----------------------------------------------------------------------------------------

#: query parameter names (lowercased) containing one of these make a query look like a signature
_SECRET_PARAM_PARTS = ("sig", "token", "secret", "credential", "password", "key", "auth", "policy")


def _display_url(url: str) -> str:
    """The URL with a signature-like query replaced by ``?…`` and any userinfo (a password, or a
    token in the user name) by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = parts.query
    if query:
        names = [name.lower() for name, _ in parse_qsl(query, keep_blank_values=True)]
        if any(part in name for name in names for part in _SECRET_PARAM_PARTS):
            query = "…"
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# --- names ---------------------------------------------------------------------------------------

_IPV4_LIKE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_BUCKET_CHARS = re.compile(r"[a-z0-9.-]*")
_CONTAINER_CHARS = re.compile(r"[a-z0-9-]*")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
#: Azure's special containers: the root container, static websites, analytics logs
_AZURE_SPECIAL_CONTAINERS = frozenset({"$root", "$web", "$logs"})


def _show(text: str) -> str:
    """Untrusted text made safe for a message: escaped and cut short."""
    from tui.safety import display_text

    return display_text(text, max_len=_SHOWN_LEN)


def _first_bad(name: str, allowed: re.Pattern[str]) -> str:
    """The first character of ``name`` that ``allowed`` refuses, quoted for a message."""
    ch = next((ch for ch in name if not allowed.fullmatch(ch)), "")
    return '"\'"' if ch == "'" else f"'{_show(ch)}'"


def validate_bucket_name(name: str) -> str | None:
    """Why ``name`` is not a valid S3 bucket name (general purpose bucket rules), or ``None``."""
    if not 3 <= len(name) <= 63:
        return f"bucket names are 3 to 63 characters long (this one has {len(name)})"
    if not _BUCKET_CHARS.fullmatch(name):
        bad = _first_bad(name, re.compile(r"[a-z0-9.-]"))
        return f"bucket names use only lowercase letters, digits, dots and hyphens (not {bad})"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "bucket names start and end with a letter or digit"
    if ".." in name:
        return "bucket names have no two dots in a row"
    if _IPV4_LIKE.fullmatch(name):
        return "bucket names must not look like an IP address"
    for prefix in _BUCKET_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"bucket names must not start with '{prefix}' (reserved)"
    for suffix in _BUCKET_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"bucket names must not end with '{suffix}' (reserved)"
    return None


def validate_container_name(name: str) -> str | None:
    """Why ``name`` is not a valid Azure container name, or ``None`` if it is (``$root``, ``$web``
    and ``$logs`` are valid)."""
    if name in _AZURE_SPECIAL_CONTAINERS:
        return None
    if not 3 <= len(name) <= 63:
        return f"container names are 3 to 63 characters long (this one has {len(name)})"
    if not _CONTAINER_CHARS.fullmatch(name):
        bad = _first_bad(name, re.compile(r"[a-z0-9-]"))
        return f"container names use only lowercase letters, digits and hyphens (not {bad})"
    if not name[0].isalnum():
        return "container names start with a letter or digit"
    if name.endswith("-"):
        return "container names do not end with a hyphen"
    if "--" in name:
        return "container names have no two hyphens in a row"
    return None


# --- remotes -------------------------------------------------------------------------------------


def remote_kinds(settings: Settings | None = None, env: Mapping[str, str] | None = None) -> dict[str, RemoteKind]:
    """Every name usable as ``NAME:``: AWS profiles (s3) and cloudpane's config remotes (their
    type; a config remote beats an AWS profile of the same name)."""
    from tui.config import aws_profiles, load_settings

    if settings is None:
        settings = load_settings(env=env)
    kinds: dict[str, RemoteKind] = dict.fromkeys(aws_profiles(env), "s3")
    kinds.update({name: remote.type for name, remote in settings.remotes.items()})
    return kinds


def _unknown_remote(name: str) -> str:
    return f"unknown remote '{_show(name)}' (not in cloudpane's config nor an AWS profile)"


def remote_kind(name: str, *, settings: Settings | None = None, env: Mapping[str, str] | None = None) -> RemoteKind:
    """Whether remote ``name`` is S3 or Azure: a cloudpane remote's ``type``; an AWS profile is S3.

    Raises ``LocationError`` for a name that is neither.
    """
    from tui.config import aws_profiles, load_settings

    if settings is None:
        settings = load_settings(env=env)
    remote = settings.remotes.get(name)
    if remote is not None:
        return remote.type
    if name in aws_profiles(env):
        return "s3"
    raise LocationError(_unknown_remote(name))


def _kinds(known: Collection[str] | Mapping[str, str] | None) -> Mapping[str, str]:
    if known is None:
        return remote_kinds()
    if isinstance(known, Mapping):
        return known
    return dict.fromkeys(known, "s3")


# --- parsing -------------------------------------------------------------------------------------


def _error(text: str, reason: str) -> LocationError:
    """``'what was typed': reason``; any user text inside ``reason`` must already be ``_show``-n."""
    return LocationError(f"'{_show(text)}': {reason}")


def _local(path_text: str, raw: str, cwd: Path | None) -> Location:
    expanded = os.path.expanduser(path_text)  # "~nosuchuser/x" stays as typed: a relative path, as in a shell
    if not os.path.isabs(expanded):
        if cwd is None:
            try:
                cwd = Path.cwd()
            except OSError:
                raise _error(raw, "relative path, but the current directory is gone") from None
        expanded = os.path.join(os.path.abspath(cwd), expanded)
    return Location(kind="local", path=Path(os.path.normpath(expanded)), raw=raw)


def _bucket_location(text: str, kind: RemoteKind, remote: str | None, body: str, scheme_hint: str) -> Location:
    """``body`` is ``""`` (bucket list), ``bucket``, ``bucket/`` or ``bucket/key``."""
    if body == "":
        return Location(kind=kind, remote=remote, raw=text)
    bucket, _, key = body.partition("/")
    what = "bucket" if kind == "s3" else "container"
    if bucket == "":
        hint = _show(scheme_hint + body.lstrip("/"))
        raise _error(text, f"empty {what} name (did you mean {hint}?)")
    reason = validate_bucket_name(bucket) if kind == "s3" else validate_container_name(bucket)
    if reason is not None:
        raise _error(text, f"invalid {what} name '{_show(bucket)}': {reason}")
    return Location(kind=kind, remote=remote, bucket=bucket, key=key, raw=text)


def _file_url(text: str, cwd: Path | None) -> Location:
    parts = urlsplit(text)
    if parts.netloc not in ("", "localhost"):
        raise _error(text, "file:// URLs name a local path: file:///abs/path (no host)")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise _error(text, "file:// URLs take no query or fragment (write ? as %3F and # as %23)")
    if not parts.path.startswith("/"):
        raise _error(text, "file:// URLs need an absolute path: file:///abs/path")
    path = unquote(parts.path, errors="surrogateescape")
    if "\x00" in path:
        raise _error(text, "contains a NUL character")
    return _local(path, text, cwd)


def _https_url(text: str, scheme: str) -> Location:
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise _error(text, f"not a valid URL ({exc})") from None
    if not host:
        raise _error(text, "the URL has no host")
    if scheme == "http":
        try:
            loopback = host in _LOOPBACK_HOSTS or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise _error(text, "plain http:// is refused (only localhost may use it); use https://")
    return Location(kind="https", url=text, raw=text)


def parse_location(
    text: str,
    *,
    known_remotes: Collection[str] | Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Location:
    """Parse what the user typed (see the module docstring for the grammar).

    ``known_remotes`` are the names usable as ``NAME:`` (cloudpane config remotes and AWS
    profiles). A mapping ``name -> "s3" | "azure"`` (as :func:`remote_kinds` returns) also says
    which are Azure; the names of a plain collection are all S3. ``None`` reads cloudpane's config
    and the AWS config files. ``cwd`` anchors relative local paths (default: the current
    directory).

    Raises ``LocationError`` (one line, naming what was typed).
    """
    if not text or not text.strip():
        raise LocationError("empty location: type a path, s3://bucket/key, az://container/blob or NAME:bucket/key")
    if "\x00" in text:
        raise _error(text, "contains a NUL character")
    if text.startswith(("/", "~", "./", "../")) or text in (".", ".."):
        return _local(text, text, cwd)

    head, colon, rest = text.partition(":")
    if not colon or "/" in head:
        if "://" in text:
            raise _error(text, f"not a location we understand; use ./{_show(text)} for a local path")
        return _local(text, text, cwd)

    scheme = head.lower()
    if rest.startswith("//"):
        body = rest[2:]
        if scheme == "s3":
            return _bucket_location(text, "s3", None, body, "s3://")
        if scheme == "az":
            return _bucket_location(text, "azure", None, body, "az://")
        if scheme in ("https", "http"):
            return _https_url(text, scheme)
        if scheme == "file":
            return _file_url(text, cwd)
        raise _error(text, "unsupported scheme; use s3://, az://, https://, file:// or NAME:bucket/key")
    if scheme in _SCHEMES and rest.startswith("/"):
        hint = _show(f"{scheme}://{rest.lstrip('/')}")
        raise _error(text, f"did you mean {hint}? ({scheme}: needs two slashes)")

    kinds = _kinds(known_remotes)
    if head not in kinds:
        if head == "":
            raise _error(text, f"no remote name before ':'; use ./{_show(text)} for a local path")
        if scheme in _SCHEMES:
            hint = _show(f"{scheme}://{rest}")
            raise _error(text, f"did you mean {hint}? ({scheme}: needs two slashes)")
        raise LocationError(f"{_unknown_remote(head)}; use ./{_show(text)} for a local path")
    if rest.startswith("/"):
        hint = _show(f"{head}:{rest.lstrip('/')}")
        raise _error(text, f"the bucket comes right after the colon: {hint}")
    kind: RemoteKind = "azure" if kinds[head] == "azure" else "s3"
    return _bucket_location(text, kind, head, rest, f"{head}:")
