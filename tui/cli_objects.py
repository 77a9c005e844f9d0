"""Headless commands on single objects and streams: ``cat``, ``stat``, ``du``, and the ``-`` (stdin / stdout) forms
of ``cp``, and ``rm``. Commands of the click group of ``tui.cli``, which loads this module by name (``PLUGINS``).

- ``cp - DST`` reads stdin as a stream of unknown size (tui/transfer/stream.py); ``cp SRC -`` and ``cat`` write
  an object to stdout as it arrives. A closed stdout ends the command quietly (exit 0, as ``ls | head`` does).
- ``--range`` takes HTTP's inclusive byte ranges, with or without aws's ``bytes=``: ``0-99`` (the first 100
  bytes), ``100-`` (from byte 100 to the end), ``-100`` (the last 100 bytes).
"""

from __future__ import annotations

import re
import stat as stat_mod
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import click
import humanize

from tui.cli import _echo_fail, _err, _iso, _json_line, _op, _parse, _remove_empty_dirs, _run, _settings, main
from tui.errors import CloudpaneError, ExitCode, NotFoundError, UsageError, one_line
from tui.locations import Location
from tui.safety import display_text
from tui.storage.base import ObjectInfo
from tui.storage.hub import StoreHub
from tui.sync.filters import KeyFilter
from tui.transfer.copy import Bandwidth
from tui.transfer.plan import Outcome
from tui.transfer.select import Extras

STDIO = "-"


# -- byte ranges -------------------------------------------------------------------------------------------------
_RANGE = re.compile(r"(?:bytes=)?(\d*)-(\d*)")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An HTTP byte range: ``first``..``last`` inclusive (``last`` None: to the end), or the last ``suffix``
    bytes."""

    first: int | None
    last: int | None
    suffix: int | None = None

    @classmethod
    def parse(cls, text: str) -> ByteRange:
        m = _RANGE.fullmatch(text.strip())
        if m is None or (not m.group(1) and not m.group(2)):
            raise UsageError(f"--range {display_text(text)}: expected START-END, START-, -COUNT (or bytes=START-END)")
        first, last = m.group(1), m.group(2)
        if not first:
            return cls(None, None, suffix=int(last))
        lo, hi = int(first), int(last) if last else None
        if hi is not None and hi < lo:
            raise UsageError(f"--range {display_text(text)}: the end is before the start")
        return cls(lo, hi)

    def resolve(self, size: int) -> tuple[int, int]:
        """``[start, end)`` within an object of ``size`` bytes; UsageError when the range is past its end."""
        if self.suffix is not None:
            return max(0, size - self.suffix), size
        assert self.first is not None
        if self.first >= size and not (self.first == 0 and size == 0):
            raise UsageError(f"--range starts at byte {self.first}, past the end of the object ({size} bytes)")
        end = size if self.last is None else min(size, self.last + 1)
        return self.first, end


# -- cat and cp to stdout ----------------------------------------------------------------------------------------
def _object_key(hub: StoreHub, loc: Location) -> str:
    if loc.kind == "https":
        raise UsageError("cat reads objects and files; use curl for https:// URLs")
    key = hub.key(loc)
    if not key or key.endswith("/") or loc.is_bucket_list:
        raise UsageError(f"{display_text(str(loc))} is a folder or a bucket, not an object")
    return key


async def _to_stdout(
    hub: StoreHub,
    loc: Location,
    *,
    version_id: str | None,
    byte_range: ByteRange | None,
    bandwidth: Bandwidth | None = None,
) -> int:
    from tui.transfer.plan import copy_options
    from tui.transfer.stream import FdWriter, download_stream

    if loc.kind == "local" and loc.path is not None and loc.path.is_dir():
        raise UsageError(f"{display_text(str(loc))} is a directory, not a file")
    key = _object_key(hub, loc)
    store = await hub.store(loc)
    start, end = 0, None
    if byte_range is not None:
        info = await store.stat(key, version_id=version_id)
        start, end = byte_range.resolve(info.size)
    out = FdWriter(sys.stdout.fileno())
    sys.stdout.flush()
    return await download_stream(
        store,
        key,
        out.write,
        start=start,
        end=end,
        version_id=version_id,
        options=copy_options(hub.settings, journal=None, bandwidth=bandwidth),
    )


@main.command()
@click.option("--version-id", help="Print this version of the object.")
@click.option(
    "--range", "byte_range", metavar="START-END", help="Only these bytes (inclusive; bytes=0-99, 100-, -100)."
)
@click.argument("locations", nargs=-1, required=True)
def cat(version_id: str | None, byte_range: str | None, locations: tuple[str, ...]) -> None:
    """Write objects or files to stdout, one after the other, as they arrive.

    \b
    Examples:
      cloudpane cat s3://bucket/notes.txt
      cloudpane cat --range 0-1023 s3://bucket/big.bin | xxd | head
      cloudpane cat --version-id 3HL4kqtJ s3://bucket/config.json | jq .
    """
    rng = _usage(lambda: ByteRange.parse(byte_range)) if byte_range else None
    locs = [_parse(text) for text in locations]
    if len(locs) > 1 and (version_id or rng):
        _fail_usage("--version-id and --range go with one object")
    settings = _settings()

    async def run() -> None:
        async with StoreHub(settings) as hub:
            for loc in locs:
                await _to_stdout(hub, loc, version_id=version_id, byte_range=rng)

    _run(run)


def _bandwidth(text: str) -> Bandwidth:
    from tui.config import parse_size

    try:
        return Bandwidth(parse_size(text))
    except ValueError as exc:
        raise UsageError(f"--bwlimit {display_text(text)}: {exc}") from None


def _usage(fn: Any) -> Any:
    try:
        return fn()
    except CloudpaneError as exc:
        _err(f"error: {one_line(exc)}")
        raise SystemExit(int(exc.exit_code)) from None


def _fail_usage(text: str) -> None:
    _err(f"error: {text}")
    raise SystemExit(int(ExitCode.USAGE))


# -- cp with - ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UploadOptions:
    """What ``cp`` writes with a new object: content type, user metadata, storage class."""

    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str | None = None


def is_stream(sources: Iterable[str], destination: str) -> bool:
    return destination == STDIO or STDIO in sources


def stream_cp(
    sources: tuple[str, ...],
    destination: str,
    *,
    recursive: bool,
    move: bool,
    version_id: str | None,
    dry_run: bool,
    upload: UploadOptions,
    bwlimit: str | None = None,
) -> None:
    """``cp - DST`` (stdin to an object or file) and ``cp SRC -`` (an object or file to stdout)."""
    verb = "mv" if move else "cp"
    if move:
        _fail_usage("mv cannot read stdin or write stdout; use cp")
    if recursive:
        _fail_usage(f"{verb} -r copies folders; - (stdin or stdout) is one stream")
    if len(sources) != 1:
        _fail_usage("- (stdin or stdout) goes with exactly one source and one destination")
    src = sources[0]
    if src == STDIO and destination == STDIO:
        _fail_usage("cp - - copies nothing: name an object or a file on one side")
    settings = _settings()
    bandwidth = _usage(lambda: _bandwidth(bwlimit)) if bwlimit else None
    if destination == STDIO:
        loc = _parse(src)
        if dry_run:

            async def check() -> None:
                async with StoreHub(settings) as hub:
                    store = await hub.store(loc)
                    await store.stat(_object_key(hub, loc), version_id=version_id)
                _err(f"(dry run) download: {display_text(str(loc))} to stdout")

            _run(check)
            return

        async def download() -> None:
            async with StoreHub(settings) as hub:
                await _to_stdout(hub, loc, version_id=version_id, byte_range=None, bandwidth=bandwidth)

        _run(download)
        return
    if version_id:
        _fail_usage("--version-id picks a version of the source; stdin has none")
    dst = _parse(destination)
    _stdin_upload(dst, settings, dry_run=dry_run, upload=upload, bandwidth=bandwidth)


def _stdin_upload(
    dst: Location, settings: Any, *, dry_run: bool, upload: UploadOptions, bandwidth: Bandwidth | None
) -> None:
    from tui.transfer.plan import copy_options
    from tui.transfer.stream import FdReader, sigterm_interrupts, upload_stream

    label = display_text(str(dst))

    async def run() -> tuple[int, int]:
        if dst.kind == "https":
            raise UsageError("an https:// URL can only be a source to copy from")
        if dst.is_prefix or (dst.kind == "local" and dst.path is not None and dst.path.is_dir()):
            raise UsageError(f"{label} is a folder: name the object to write stdin to")
        async with StoreHub(settings) as hub:
            store, key = await hub.destination(dst, folder=False)
            if not key:
                raise UsageError(f"{label} is a bucket: name the object to write stdin to")
            extras = Extras(metadata=upload.metadata, storage_class=upload.storage_class)
            extras.check(store)
            store = extras.destination(store)
            if dry_run:
                _err(f"(dry run) upload: stdin to {label}")
                return 0, 0
            with sigterm_interrupts():
                done = await upload_stream(
                    FdReader(sys.stdin.fileno()).read,
                    store,
                    key,
                    options=copy_options(settings, journal=None, bandwidth=bandwidth),
                    metadata=dict(upload.metadata),
                    content_type=upload.content_type,
                )
            return done.size, done.parts

    size, _parts = _run(run)
    if dry_run:
        return
    human = humanize.naturalsize(size, binary=True)
    _op(f"- -> {label} ({human})")
    _err(f"copied 1 file(s), {human}")


# -- stat ---------------------------------------------------------------------------------------------------------
def info_json(info: ObjectInfo, location: str) -> dict[str, Any]:
    """The stable JSON shape of ``stat``."""
    return {
        "location": location,
        "key": info.key,
        "size": info.size,
        "last_modified": _iso(info.last_modified),
        "mtime": _iso(info.mtime) if info.mtime != info.last_modified else None,
        "etag": info.etag,
        "version_id": info.version_id,
        "storage_class": info.storage_class,
        "content_type": info.content_type,
        "metadata": dict(info.metadata) or None,
        "checksums": dict(info.checksums) or None,
        "mode": f"{stat_mod.S_IMODE(info.mode):04o}" if info.mode is not None else None,
        "encrypted_etag": info.encrypted_etag or None,
        "headers": dict(info.headers) or None,
    }


@main.command()
@click.option("--version-id", help="Describe this version of the object.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per location.")
@click.argument("locations", nargs=-1, required=True)
def stat(version_id: str | None, as_json: bool, locations: tuple[str, ...]) -> None:
    """Everything the store says about an object (HEAD): size, ETag, version, dates, storage class, content type,
    metadata, checksums.

    \b
    Examples:
      cloudpane stat s3://bucket/report.pdf
      cloudpane stat --json s3://bucket/a s3://bucket/b | jq .size
      cloudpane stat --version-id 3HL4kqtJ s3://bucket/config.json
    """
    locs = [_parse(text) for text in locations]
    if len(locs) > 1 and version_id:
        _fail_usage("--version-id goes with one object")
    settings = _settings()
    failed: list[int] = []

    async def run() -> None:
        async with StoreHub(settings) as hub:
            for loc in locs:
                try:
                    info = await _stat_one(hub, loc, version_id)
                except CloudpaneError as exc:
                    if len(locs) == 1:
                        raise
                    _err(f"failed: {display_text(str(loc))}: {one_line(exc)}")
                    failed.append(int(exc.exit_code))
                    continue
                _print_info(info, str(loc), as_json=as_json)

    _run(run)
    if failed:
        raise SystemExit(failed[0] if len(failed) == len(locs) and len(set(failed)) == 1 else int(ExitCode.PARTIAL))


async def _stat_one(hub: StoreHub, loc: Location, version_id: str | None) -> ObjectInfo:
    if loc.kind == "https":
        raise UsageError("stat describes objects and files, not https:// URLs")
    if loc.is_bucket_list or (loc.bucket is None and loc.kind != "local"):
        raise UsageError(f"{display_text(str(loc))}: name an object")
    store = await hub.store(loc)
    key = hub.key(loc)
    if loc.kind == "local" and loc.path is not None and loc.path.is_dir():
        raise UsageError(f"{display_text(str(loc))} is a directory: use du or ls")
    if not key:
        raise UsageError(f"{display_text(str(loc))} is a bucket: use du or ls")
    try:
        return await store.stat(key, version_id=version_id)
    except NotFoundError:
        if version_id is None:
            folder = key if key.endswith("/") else key + "/"
            async for page in store.list(folder, recursive=False, page_size=1):
                if page:
                    raise UsageError(f"{display_text(str(loc))} is a folder: use du or ls") from None
                break
        raise


def _print_info(info: ObjectInfo, location: str, *, as_json: bool) -> None:
    data = info_json(info, location)  # JSON lines are ASCII-escaped (_json_line): control characters stay inert
    if as_json:
        _json_line(data)
        return
    rows: list[tuple[str, str]] = [("location", display_text(location))]
    rows.append(("size", f"{info.size} ({humanize.naturalsize(info.size, binary=True)})"))
    for name in ("last_modified", "mtime", "etag", "version_id", "storage_class", "content_type", "mode"):
        value = data.get(name)
        if value is not None:
            rows.append((name, display_text(str(value))))
    if info.encrypted_etag:
        rows.append(("etag_is_md5", "no (SSE-KMS or SSE-C)"))
    for k, v in sorted(info.checksums.items()):
        rows.append((f"checksum.{display_text(k)}", display_text(v)))
    for k, v in sorted(info.metadata.items()):
        rows.append((f"metadata.{display_text(k)}", display_text(v)))
    for k, v in sorted(info.headers.items()):
        rows.append((display_text(k), display_text(v)))
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"{name + ':':<{width + 1}} {value}")


# -- du -----------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Usage:
    count: int = 0
    bytes: int = 0

    def add(self, size: int) -> None:
        self.count += 1
        self.bytes += size


class _Ticker:
    """``du``'s progress line on stderr (a terminal only), redrawn at most 4 times a second, cleared at the end."""

    def __init__(self) -> None:
        self.on = sys.stderr.isatty()
        self._last = 0.0

    def show(self, total: Usage) -> None:
        now = time.monotonic()
        if not self.on or now - self._last < 0.25:
            return
        self._last = now
        sys.stderr.write(f"\rlisted {total.count} objects, {humanize.naturalsize(total.bytes, binary=True)}\033[K")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.on and self._last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


@main.command()
@click.option("-r", "--recursive", is_flag=True, help="One line per prefix at every depth (default: the first level).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.argument("location")
def du(recursive: bool, as_json: bool, location: str) -> None:
    """Count objects and bytes under a prefix, per sub-prefix and per storage class (one streamed listing).

    \b
    Examples:
      cloudpane du s3://bucket/
      cloudpane du -r s3://bucket/photos/
      cloudpane du --json s3://bucket/ | jq 'select(.total) | .bytes'
    """
    loc = _parse(location)
    settings = _settings()
    ticker = _Ticker()

    async def run() -> tuple[str, dict[str, Usage], dict[str, Usage], Usage]:
        if loc.kind == "https" or loc.is_bucket_list or (loc.kind != "local" and loc.bucket is None):
            raise UsageError(f"du takes a bucket, a prefix or a directory, not {display_text(str(loc))}")
        async with StoreHub(settings) as hub:
            store = await hub.store(loc)
            key = hub.key(loc)
            if loc.kind == "local" and (loc.path is None or not loc.path.is_dir()):
                if loc.path is not None and loc.path.exists():
                    raise UsageError(f"{display_text(str(loc))} is a file: use stat")
                raise NotFoundError(f"{display_text(str(loc))}: no such directory")
            prefix = key if not key or key.endswith("/") else key + "/"
            per_prefix: dict[str, Usage] = {}
            per_class: dict[str, Usage] = {}
            total = Usage()
            try:
                async for page in store.list(prefix, recursive=True):
                    for e in page:
                        if e.is_prefix or e.size is None:
                            continue
                        size = e.size
                        total.add(size)
                        per_class.setdefault(e.storage_class or "-", Usage()).add(size)
                        rel = e.key[len(prefix) :]
                        for p in _prefixes_of(rel, recursive):
                            per_prefix.setdefault(p, Usage()).add(size)
                    ticker.show(total)
            finally:
                ticker.clear()
            if total.count == 0 and key and loc.kind != "local" and not loc.is_prefix:
                try:
                    await store.stat(key)
                except NotFoundError:
                    raise NotFoundError(f"{display_text(str(loc))}: nothing there") from None
                raise UsageError(f"{display_text(str(loc))} is an object: use stat")
            return prefix, per_prefix, per_class, total

    _prefix, per_prefix, per_class, total = _run(run)
    base = str(loc) if loc.kind != "local" else str(loc.path)
    if base and not base.endswith("/"):
        base += "/"
    for name in sorted(per_prefix):
        _du_line(per_prefix[name], display_text(base + name), as_json, {"prefix": base + name})
    for cls in sorted(per_class):
        _du_line(per_class[cls], f"storage class {display_text(cls)}", as_json, {"storage_class": cls})
    _du_line(total, f"total {display_text(base)}", as_json, {"prefix": base, "total": True})


def _prefixes_of(rel: str, recursive: bool) -> list[str]:
    """The prefixes (relative, ending in /) a key counts towards: its first folder, or every folder above it."""
    parts = rel.split("/")[:-1]
    if not parts:
        return []
    if not recursive:
        return [parts[0] + "/"]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _du_line(usage: Usage, label: str, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        _json_line({**extra, "count": usage.count, "bytes": usage.bytes})
        return
    human = humanize.naturalsize(usage.bytes, binary=True)
    click.echo(f"{usage.count:>10} {usage.bytes:>16} {human:>10}  {label}")


def key_filter(includes: Iterable[str], excludes: Iterable[str]) -> Callable[[str], bool] | None:
    """Which keys of a folder (relative to it) ``cp -r``, ``mv -r`` and ``rm -r`` take: gitignore patterns, as
    backup's ``--exclude`` takes them (tui/sync/filters.py: ``*.tmp``, ``build/``, ``/top-only``). A key is taken
    when it matches an ``--include``, or else when it matches no ``--exclude``; with ``--include`` alone, only what
    matches one. Hidden files and OS junk are keys like any other here."""
    inc, exc = list(includes), list(excludes)
    if not inc and not exc:
        return None
    # KeyFilter(...)(rel) is True when none of its patterns matches rel
    included = KeyFilter(include_hidden=True, excludes=inc, skip_junk=False) if inc else None
    excluded = KeyFilter(include_hidden=True, excludes=exc, skip_junk=False) if exc else None

    def keep(rel: str) -> bool:
        if included is not None and not included(rel):
            return True
        if excluded is None:
            return False
        return excluded(rel)

    return keep


# -- rm -----------------------------------------------------------------------------------------------------------
def filter_options() -> list[Callable[[Callable[..., None]], Callable[..., None]]]:
    return [
        click.option(
            "--include", "includes", multiple=True, metavar="PATTERN", help="With -r: only keys that match (gitignore)."
        ),
        click.option(
            "--exclude", "excludes", multiple=True, metavar="PATTERN", help="With -r: leave out keys that match."
        ),
    ]


def _with(
    decorators: list[Callable[[Callable[..., None]], Callable[..., None]]],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def apply(f: Callable[..., None]) -> Callable[..., None]:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply


@main.command()
@click.option("-r", "--recursive", is_flag=True, help="Delete every key under the prefix.")
@click.option("--version-id", help="Delete this version (permanently) instead of adding a delete marker.")
@click.option("-n", "--dry-run", is_flag=True, help="Print what would be deleted and delete nothing.")
@_with(filter_options())
@click.argument("location")
def rm(
    recursive: bool,
    version_id: str | None,
    dry_run: bool,
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    location: str,
) -> None:
    """Remove an object (or, with -r, everything under a prefix)."""
    if (includes or excludes) and not recursive:
        _fail_usage("--include and --exclude choose keys of a folder: they go with rm -r")
    keep = _usage(lambda: key_filter(includes, excludes))
    loc = _parse(location)
    settings = _settings()
    outcome = Outcome(on_fail=_echo_fail)
    verb = "(dry run) delete" if dry_run else "delete"

    async def run() -> None:
        async with StoreHub(settings) as hub:
            store = await hub.store(loc)
            key = hub.key(loc)
            if recursive:
                if version_id:
                    raise UsageError("--version-id deletes one version; it does not go with -r")
                if not key.endswith("/") and key:
                    key += "/"
                parents: set[str] = set()
                async for page in store.list(key, recursive=True):
                    for e in page:
                        if keep is not None and not keep(e.key[len(key) :]):
                            continue
                        try:
                            if not dry_run:
                                await store.delete(e.key)
                        except CloudpaneError as exc:
                            outcome.fail(e.key, exc)
                        else:
                            outcome.done += 1
                            parents.add(e.key.rpartition("/")[0])
                            shown = "/" + e.key if loc.kind == "local" else e.key
                            _op(f"{verb}: {display_text(shown)}")
                if loc.kind == "local" and outcome.done and not outcome.failures and not dry_run:
                    if keep is None:
                        _remove_empty_dirs(loc)
                    else:
                        _remove_emptied(parents, key)
                if outcome.done == 0 and not outcome.failures:
                    what = "nothing matches" if keep is not None else "nothing to delete"
                    raise NotFoundError(f"{display_text(str(loc))}: {what}")
                return
            folder = UsageError(f"{display_text(str(loc))} is a folder: use rm -r")
            if not key or (key.endswith("/") and loc.kind == "local"):
                raise folder
            if key.endswith("/") and not version_id:
                try:
                    await store.stat(key)  # a folder marker object of that name is deleted, as aws s3 rm does
                except NotFoundError:
                    raise folder from None
            if not version_id or dry_run:
                await store.stat(key, version_id=version_id)  # exit 4 for a key (or version) that is not there
            if not dry_run:
                await store.delete(key, version_id=version_id)
            outcome.done += 1
            _op(f"{verb}: {display_text(key)}" + (f" version {display_text(version_id)}" if version_id else ""))

    _run(run)
    raise SystemExit(outcome.exit_code())


def _remove_emptied(parents: set[str], root: str) -> None:
    """After a filtered local ``rm -r``: the folders its deletes left empty, deepest first, below the root."""
    from pathlib import Path

    top = Path("/" + root.rstrip("/"))
    for folder in sorted({Path("/" + p) for p in parents}, key=lambda p: -len(p.parts)):
        while folder != top and top in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent
