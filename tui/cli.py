"""The command line: bare ``cloudpane`` opens the TUI; the subcommands are headless and form an API.

Results go to stdout, progress and warnings to stderr. Every error is one line on stderr (``cloudpane: error: ...``)
and a documented exit code (``tui.errors.ExitCode``); never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
import humanize

from tui import __version__
from tui.cliflags import add_global_params, current_flags, global_params
from tui.config import Settings, load_settings
from tui.errors import (
    CloudpaneError,
    ExitCode,
    NotFoundError,
    UsageError,
    exit_code_for,
    one_line,
)
from tui.locations import Location, parse_location
from tui.safety import display_text
from tui.storage.base import MAX_PRESIGN, Entry, Store
from tui.storage.hub import StoreHub
from tui.timeparse import parse_duration
from tui.transfer.plan import Outcome

if TYPE_CHECKING:
    # annotations only: the backup planner (sqlite3, the delete gate, the lock) loads with its commands
    from tui.progress import TransferProgress
    from tui.sync.backup import Action as BackupAction
    from tui.sync.backup import Report as BackupReport
    from tui.transfer.copy import CopyOptions
    from tui.transfer.select import Extras

T = TypeVar("T")


# -- output helpers ------------------------------------------------------------------------------------------
#: the progress display being drawn (stderr is a terminal): lines go above it, never over it
_display: TransferProgress | None = None


def _echo(text: str, *, err: bool) -> None:
    display = _display
    if display is not None and display.active and (err or sys.stdout.isatty()):
        display.echo(text)
        return
    click.echo(text, err=err)


def _err(text: str) -> None:
    """An error or a failure on stderr: printed whatever -q says."""
    _echo(f"cloudpane: {text}", err=True)


def _say(text: str) -> None:
    """A summary, note or warning on stderr: not with -q."""
    if not current_flags().quiet:
        _echo(f"cloudpane: {text}", err=True)


def _op(text: str) -> None:
    """One line per operation done (``a -> b``, ``delete: k``) on stdout: not with -q."""
    if not current_flags().quiet:
        _echo(text, err=False)


def _fail(exc: BaseException) -> NoReturn:
    if not isinstance(exc, CloudpaneError):
        from tui.errors import network_error

        exc = network_error(exc, "error") or exc  # an SDK's connection error that no store translated
    _err(f"error: {one_line(exc)}")
    raise SystemExit(int(exit_code_for(exc)))


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _json_line(obj: dict[str, Any]) -> None:
    # ensure_ascii: keys with control or bidi characters stay inert on a terminal, and jq still decodes them
    click.echo(json.dumps({k: v for k, v in obj.items() if v is not None}, ensure_ascii=True))


def entry_json(e: Entry) -> dict[str, Any]:
    """The stable JSON shape of one listing row (DESIGN.md)."""
    if e.is_prefix:
        return {"key": e.key, "is_prefix": True}
    return {
        "key": e.key,
        "size": e.size,
        "last_modified": _iso(e.last_modified),
        "etag": e.etag,
        "version_id": e.version_id,
        "is_latest": e.is_latest,
        "is_delete_marker": e.is_delete_marker if e.version_id is not None else None,
        "storage_class": e.storage_class,
    }


def _stamp(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when else " " * 19


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a command's coroutine: errors become one line and an exit code; Ctrl-C exits 130 promptly."""
    try:
        return asyncio.run(coro_fn())
    except BrokenPipeError:
        _stdout_closed()
    except KeyboardInterrupt:
        _err("interrupted")
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
    except CloudpaneError as exc:
        _fail(exc)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, never a traceback with locals
        if os.environ.get("CLOUDPANE_DEBUG"):
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        _fail(exc)


def _stdout_closed() -> NoReturn:
    """The reader of our stdout went away (``cloudpane ls | head``): that is its choice, not an error. Quiet,
    exit 0, as ``ls`` is; stdout goes to /dev/null so that the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise SystemExit(int(ExitCode.OK))


def _settings() -> Settings:
    from tui.config import S3Override, set_cli_override

    flags = current_flags()
    try:
        set_cli_override(S3Override(profile=flags.profile, endpoint_url=flags.endpoint_url, region=flags.region))
        return load_settings()
    except CloudpaneError as exc:
        _fail(exc)


def _parse(text: str) -> Location:
    try:
        return parse_location(text)
    except CloudpaneError as exc:
        _fail(exc)


#: modules that add commands to the group when it first needs them (they import this module: a plugin is a layer
#: above it, so it is loaded by name)
PLUGINS = ("tui.cli_objects", "tui.cli_transfer")


class _Group(click.Group):
    """``cloudpane [LEFT [RIGHT]]``: arguments that are not a command name open the TUI on those locations.
    Every command that talks to a store gets the global flags (tui.cliflags), as aws accepts them after it."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        from tui.clihelp import decorate

        add_global_params(cmd)
        decorate(cmd)  # examples in --help, location completion
        super().add_command(cmd, name)

    _loaded = False

    def _load_plugins(self) -> None:
        if not self._loaded:
            import importlib

            type(self)._loaded = True
            for name in PLUGINS:
                importlib.import_module(name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load_plugins()
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._load_plugins()
        takes_value = {o for p in self.params if isinstance(p, click.Option) and not p.is_flag for o in p.opts}
        skip = False
        for i, arg in enumerate(args):
            if skip:
                skip = False
                continue
            if arg == "--":
                break
            if arg.startswith("-"):
                skip = arg in takes_value  # `--profile NAME ls`: NAME is the option's, not a location
                continue
            if arg not in self.commands:
                args = [*args[:i], "tui", *args[i:]]
            break
        return super().parse_args(ctx, args)


# -- the click group -----------------------------------------------------------------------------------------
@click.group(
    cls=_Group,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--demo", is_flag=True, help="Open the TUI on the embedded demo server (no account needed).")
@click.version_option(__version__, prog_name="cloudpane")
@click.pass_context
def main(ctx: click.Context, demo: bool) -> None:
    """cloudpane: a dual-pane commander for S3, S3-compatible stores, Azure Blob and local files.

    Run without a command to open the TUI (`cloudpane [LEFT [RIGHT]]`), or use a headless command below.
    Exit codes: 0 done, 1 some items failed, 2 usage or bad input, 3 credentials or permission, 4 not found,
    5 conflict, 6 server unreachable (connection refused, DNS, TLS, timeout), 130 interrupted.

    The global flags (--profile, --endpoint-url, --region, -q, --no-progress) go before the command or after it.
    Shell completion: eval "$(cloudpane completion bash)" (or zsh, fish).
    """
    ctx.obj = {"demo": demo}
    if ctx.invoked_subcommand is None:
        _open_tui(demo=demo, left=None, right=None)


main.params.extend(global_params())  # before the command too: `cloudpane --profile x ls s3://b`


def _open_tui(*, demo: bool, left: str | None, right: str | None) -> None:
    _settings()  # checks the global flags and hands --profile, --endpoint-url and --region to the TUI's settings
    try:
        from tui.ui.launch import run_app  # type: ignore[import-not-found,unused-ignore]  # the only place the CLI touches Textual, lazily
    except ImportError:
        _err("error: the TUI is not part of this build yet; use the headless commands (cloudpane --help)")
        raise SystemExit(int(ExitCode.USAGE)) from None
    try:
        code = run_app(demo=demo, left=left, right=right)
    except CloudpaneError as exc:
        _fail(exc)
    raise SystemExit(code)


@main.command(name="tui", hidden=True)
@click.argument("left", required=False)
@click.argument("right", required=False)
@click.pass_context
def tui_cmd(ctx: click.Context, left: str | None, right: str | None) -> None:
    """Open the TUI on LEFT and RIGHT."""
    _open_tui(demo=bool((ctx.obj or {}).get("demo")), left=left, right=right)


# -- ls ------------------------------------------------------------------------------------------------------
@main.command()
@click.option("-r", "--recursive", is_flag=True, help="List every key under the prefix (no folders).")
@click.option("--versions", is_flag=True, help="List every version and delete marker.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.argument("location", default="s3://")
def ls(recursive: bool, versions: bool, as_json: bool, location: str) -> None:
    """List buckets, a prefix, or a local directory."""
    loc = _parse(location)
    settings = _settings()

    async def run() -> None:
        async with StoreHub(settings) as hub:
            if loc.is_bucket_list:
                remote = await hub.remote(loc)
                for b in await remote.list_buckets():
                    if as_json:
                        _json_line({"bucket": b.name, "created": _iso(b.created)})
                    else:
                        click.echo(f"{_stamp(b.created)} {display_text(b.name)}")
                return
            store = await hub.store(loc)
            key = hub.key(loc)
            prefix = key
            if key and not key.endswith("/") and loc.kind != "local":
                prefix = key  # S3 semantics: a partial name lists what starts with it
            pages = store.list_versions(prefix) if versions else store.list(prefix, recursive=recursive)
            shown = 0
            async for page in pages:
                for e in page:
                    shown += 1
                    _print_entry(e, as_json=as_json, base=_base(key))
            if shown == 0 and key:
                await _ensure_exists(store, key, loc)

    _run(run)


def _base(key: str) -> str:
    return key if key.endswith("/") or not key else key[: key.rfind("/") + 1]


def _print_entry(e: Entry, *, as_json: bool, base: str) -> None:
    if as_json:
        _json_line(entry_json(e))
        return
    name = e.key[len(base) :] if e.key.startswith(base) else e.key
    if e.is_prefix:
        click.echo(f"{'':19} {'PRE':>10} {display_text(name)}")
        return
    size = "" if e.size is None else str(e.size)
    extra = ""
    if e.version_id is not None:
        flag = "latest " if e.is_latest else ""
        kind = "DELETE-MARKER " if e.is_delete_marker else ""
        extra = f" [{flag}{kind}{display_text(e.version_id)}]"
    click.echo(f"{_stamp(e.last_modified)} {size:>10} {display_text(name)}{extra}")


async def _ensure_exists(store: Store, key: str, loc: Location) -> None:
    """An empty listing of a key that is not there is "not found" (exit 4), like `aws s3 ls` exits 1."""
    if key.endswith("/"):
        if loc.kind == "local" and not (loc.path is not None and loc.path.is_dir()):
            raise NotFoundError(f"{display_text(str(loc))}: no such directory")
        return  # an empty directory or prefix is just empty
    await store.stat(key)


# -- buckets -------------------------------------------------------------------------------------------------
def _bucket_root(loc: Location, verb: str) -> str:
    if loc.kind not in ("s3", "azure") or loc.bucket is None or loc.key:
        raise UsageError(f"{verb} takes a bucket like s3://name, not {display_text(str(loc))}")
    return loc.bucket


@main.command()
@click.option("--versioning", is_flag=True, help="Turn on object versioning.")
@click.argument("location")
def mb(versioning: bool, location: str) -> None:
    """Make a private bucket (no public ACL; Block Public Access where the server has it)."""
    loc = _parse(location)
    settings = _settings()

    async def run() -> None:
        bucket = _bucket_root(loc, "mb")
        async with StoreHub(settings) as hub:
            remote = await hub.remote(loc)
            # the region is the remote's: --region (a global flag, as in aws s3 mb) sets it
            warnings = await remote.create_bucket(bucket, versioning=versioning)
        for w in warnings:
            _say(f"warning: {display_text(w)}")
        _op(f"make_bucket: {display_text(bucket)}" + (" (versioning on)" if versioning else ""))

    _run(run)


@main.command()
@click.argument("location")
def rb(location: str) -> None:
    """Remove an empty bucket."""
    loc = _parse(location)
    settings = _settings()

    async def run() -> None:
        bucket = _bucket_root(loc, "rb")
        async with StoreHub(settings) as hub:
            remote = await hub.remote(loc)
            await remote.delete_bucket(bucket)
        _op(f"remove_bucket: {display_text(bucket)}")

    _run(run)


def _echo_done(src: str, dst: str, size: int) -> None:
    _op(f"{display_text(src)} -> {display_text(dst)} ({humanize.naturalsize(size, binary=True)})")


def _echo_planned(move: bool) -> Callable[[str, str, int], None]:
    """The on_done of a dry run: one line per object that would be copied or moved."""

    def show(src: str, dst: str, size: int) -> None:
        verb = "move" if move else "copy"
        click.echo(
            f"(dry run) {verb}: {display_text(src)} -> {display_text(dst)} ({humanize.naturalsize(size, binary=True)})"
        )

    return show


def _echo_fail(what: str, exc: BaseException) -> None:
    _err(f"failed: {display_text(what)}: {one_line(exc)}")


# -- cp / mv / rm --------------------------------------------------------------------------------------------
def _resumed(where: str, have: int, parts: int) -> None:
    _say(f"resuming the upload of {display_text(where)}: {have} of {parts} part(s) already there")


def _telling(options: CopyOptions) -> CopyOptions:
    """Copy options that say so when an upload resumes (how many parts the server already has)."""
    from dataclasses import replace

    return replace(options, on_resume=_resumed)


@contextlib.asynccontextmanager
async def _drawing(bar: TransferProgress | None) -> AsyncIterator[None]:
    """The progress display drawn while the body runs (none when ``bar`` is None), erased after it."""
    if bar is not None:
        bar.start()
    try:
        yield
    finally:
        if bar is not None:
            await bar.stop()


def _progress() -> TransferProgress | None:
    """The progress display of a transfer: on a terminal (stderr), unless -q or --no-progress."""
    flags = current_flags()
    if flags.quiet or flags.no_progress or not sys.stderr.isatty():
        return None
    from tui.progress import TransferProgress

    global _display
    _display = TransferProgress()
    return _display


def _transfer(
    sources: tuple[str, ...],
    destination: str,
    *,
    recursive: bool,
    move: bool,
    force: bool,
    bwlimit: str | None,
    extras: Extras | None = None,
) -> None:
    from tui.config import parse_size
    from tui.transfer.copy import Bandwidth
    from tui.transfer.plan import journaled, run_transfer
    from tui.transfer.retry import RetryCounter, RetryPolicy

    srcs = [_parse(s) for s in sources]
    dst = _parse(destination)
    settings = _settings()
    try:
        bandwidth = Bandwidth(parse_size(bwlimit)) if bwlimit else None
    except (CloudpaneError, ValueError) as exc:
        _fail(UsageError(f"--bwlimit {display_text(bwlimit or '')}: {exc}"))
    dry = extras is not None and extras.dry_run
    bar = None if dry else _progress()
    if dry:
        outcome = Outcome(on_done=_echo_planned(move), on_fail=_echo_fail)
    else:
        outcome = Outcome(on_done=_echo_done, on_fail=_echo_fail, tracker=bar)
    retries = RetryCounter()

    async def run() -> None:
        with journaled(settings, bandwidth=bandwidth, retry=RetryPolicy(counter=retries)) as journal_options:
            options = _telling(journal_options)
            try:
                async with StoreHub(settings) as hub:
                    if bar is not None:
                        bar.start()
                    await run_transfer(
                        hub,
                        srcs,
                        dst,
                        recursive=recursive,
                        move=move,
                        conflict="overwrite" if force else "refuse-newer",
                        outcome=outcome,
                        options=options,
                        extras=extras,
                    )
            finally:
                if bar is not None:
                    await bar.stop()

    _run(run)
    if recursive and outcome.done == 0 and outcome.skipped == 0 and not outcome.failures:
        shown = ", ".join(display_text(str(s)) for s in srcs)
        _fail(
            NotFoundError(
                f"{shown}: nothing to {'move' if move else 'copy'} (no such folder or prefix, or it is empty)"
            )
        )
    verb = "moved" if move else "copied"
    if dry:
        verb = "(dry run) would have " + verb
    summary = f"{verb} {outcome.done} file(s), {humanize.naturalsize(outcome.bytes, binary=True)}"
    if outcome.skipped:
        summary += f", {outcome.skipped} skipped"
    if outcome.failures:
        summary += f", {len(outcome.failures)} failed"
    if retries.count:
        summary += f", {retries.count} {'retry' if retries.count == 1 else 'retries'}"
    _say(summary)
    raise SystemExit(outcome.exit_code())


@main.command()
@click.option("--abort", "abort", is_flag=True, help="Abort the uploads listed (on their server) and forget them.")
@click.option(
    "--server",
    "server",
    metavar="LOCATION",
    help="List the server's unfinished multipart uploads under LOCATION (s3://bucket/prefix), journaled or not.",
)
@click.option("--older-than", "older_than", metavar="AGE", help="With --server: only uploads started before AGE ago.")
def transfers(abort: bool, server: str | None, older_than: str | None) -> None:
    """List unfinished (resumable) multipart uploads; rerun the same cp to resume one.

    Without --server: the uploads in this machine's resume journal. With --server: every unfinished multipart
    upload on the server under LOCATION (orphans of other tools or killed runs included)."""
    from tui.locations import Location as Loc
    from tui.storage.base import ListsUploads, ResumableStore
    from tui.transfer.copy import resolve_dead_intents
    from tui.transfer.journal import Journal, owner_alive

    settings = _settings()
    outcome = Outcome(on_fail=_echo_fail)
    if older_than is not None and server is None:
        _fail(UsageError("--older-than goes with --server"))
    if server is not None:
        _server_uploads(_parse(server), settings, outcome, abort=abort, older_than=older_than)
        raise SystemExit(outcome.exit_code())

    async def run() -> None:
        journal = Journal()
        try:
            uploads = journal.unfinished()
            if not uploads:
                click.echo("no unfinished uploads")
                return
            async with StoreHub(settings) as hub:
                for u in uploads:
                    where = f"{u.remote}:{u.bucket}/{u.key}"
                    if u.remote == ("az" if u.kind == "azure" else "s3"):
                        where = f"{u.remote}://{u.bucket}/{u.key}"
                    parts = journal.parts(u)
                    done = sum(size for _, size in parts.values())
                    line = (
                        f"{u.created:%Y-%m-%d %H:%M} {display_text(u.source)} -> {display_text(where)} "
                        f"{humanize.naturalsize(done, binary=True)} of {humanize.naturalsize(u.size, binary=True)}"
                    )
                    busy = owner_alive(u.owner)
                    if u.upload_id is None:
                        line += " (starting" + (")" if busy else "; the process was killed)")
                    elif busy:
                        line += f" (in progress, process {u.owner.partition(':')[0]})"
                    if not abort:
                        click.echo(line)
                        continue
                    if busy:
                        click.echo("in use, not aborted: " + line)
                        continue
                    default = u.remote == ("az" if u.kind == "azure" else "s3")
                    loc = Loc(u.kind, remote=None if default else u.remote, bucket=u.bucket, key=u.key)
                    try:
                        store = await hub.store(loc)
                        if not store.features.aborts_uploads:
                            # nothing to abort there (Azure's uncommitted blocks expire on their own): forget it
                            journal.finish(u)
                            outcome.done += 1
                            click.echo(f"forgotten, {NOTHING_TO_ABORT}: " + line)
                            continue
                        if u.upload_id is None:
                            # killed between the intent and CreateMultipartUpload's answer: the server's uploads of
                            # that key started since, not journaled, are the orphans
                            if not isinstance(store, ListsUploads):
                                raise UsageError(f"{display_text(where)}: this store cannot list its uploads")
                            if not await resolve_dead_intents(journal, store, [u]):
                                click.echo("in use, not aborted: " + line)
                                continue
                        elif isinstance(store, ResumableStore):
                            await store.resume_writer(u.key, u.upload_id).abort()
                    except CloudpaneError as exc:
                        outcome.fail(where, exc)
                        continue
                    journal.finish(u)
                    outcome.done += 1
                    _op("aborted: " + line)
        finally:
            journal.close()

    _run(run)
    raise SystemExit(outcome.exit_code())


def _server_uploads(
    loc: Location, settings: Settings, outcome: Outcome, *, abort: bool, older_than: str | None
) -> None:
    """``transfers --server``: the server's own list of unfinished multipart uploads under a location."""
    from datetime import UTC

    from tui.storage.base import ListsUploads
    from tui.transfer.journal import Journal, owner_alive

    async def run() -> None:
        if loc.kind == "local" or loc.bucket is None:
            raise UsageError(
                f"--server takes a bucket or a prefix like s3://bucket/prefix, not {display_text(loc.raw)}"
            )
        cutoff = datetime.now(UTC) - parse_duration(older_than) if older_than else None
        with Journal() as journal:
            # uploads a live process of ours is still sending are not orphans
            busy = [u.upload_id for u in journal.unfinished() if u.upload_id and owner_alive(u.owner)]
            async with StoreHub(settings) as hub:
                store = await hub.store(loc)
                if not isinstance(store, ListsUploads):
                    raise UsageError(f"{display_text(str(loc))}: this store has no multipart uploads to list")
                timed = store.features.upload_times
                if cutoff is not None and not timed:
                    raise UsageError(
                        f"{display_text(str(loc))}: this server does not say when uploads started; "
                        "--older-than cannot be used with it"
                    )
                shown = 0
                for u in await store.list_uploads(hub.key(loc)):
                    if cutoff is not None and (u.initiated is None or u.initiated > cutoff):
                        continue
                    shown += 1
                    label = display_text(str(_with_key(loc, u.key)))
                    line = (f"{_stamp(u.initiated)} " if timed else "") + f"{label} {display_text(u.upload_id)}"
                    if not abort:
                        click.echo(line)
                        continue
                    if any(_same_upload(b, u.upload_id) for b in busy):
                        click.echo("in use, not aborted: " + line)
                        continue
                    if store.features.aborts_uploads:
                        try:
                            await store.abort_upload(u.key, u.upload_id)
                        except CloudpaneError as exc:
                            outcome.fail(label, exc)
                            continue
                        _op("aborted: " + line)
                    else:
                        _op(f"not aborted, {NOTHING_TO_ABORT}: " + line)
                    outcome.done += 1
                    for row in journal.unfinished():
                        if row.upload_id and _same_upload(row.upload_id, u.upload_id):
                            journal.finish(row)
                if shown == 0:
                    click.echo("no unfinished uploads")

    _run(run)


#: what ``transfers --abort`` says of an upload on a store that cannot abort one (``Features.aborts_uploads``)
NOTHING_TO_ABORT = (
    "nothing to abort on Azure (its uncommitted blocks cannot be deleted; they go at the blob's next commit or "
    "after 7 days, and the blob stays as it was)"
)


def _same_upload(journaled: str, listed: str) -> bool:
    """A journal row's upload id and one the server lists are the same upload: equal, or (Azure) the listed id is
    the nonce that the journaled synthetic id starts with (``<nonce>.<metadata>``)."""
    return journaled == listed or journaled.startswith(listed + ".")


def _with_key(loc: Location, key: str) -> Location:
    from dataclasses import replace

    return replace(loc, key=key)


def _remove_empty_dirs(loc: Location) -> None:
    assert loc.path is not None
    for root, _dirs, _files in sorted(os.walk(loc.path), key=lambda t: -len(t[0])):
        with contextlib.suppress(OSError):
            os.rmdir(root)


# -- versions / presign --------------------------------------------------------------------------------------
@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.argument("location")
def versions(as_json: bool, location: str) -> None:
    """List the versions and delete markers of a key (or of every key under a prefix)."""
    loc = _parse(location)
    settings = _settings()

    async def run() -> None:
        async with StoreHub(settings) as hub:
            store = await hub.store(loc)
            key = hub.key(loc)
            exact = bool(key) and not key.endswith("/")
            shown = 0
            async for page in store.list_versions(key, exact=exact):
                for e in page:
                    shown += 1
                    _print_entry(e, as_json=as_json, base="" if exact else _base(key))
            if exact and shown == 0:
                raise NotFoundError(f"{display_text(str(loc))}: no versions of this key")

    _run(run)


@main.command()
@click.option("--expires", default="1h", show_default=True, help="How long the link works (at most 7d).")
@click.option("--version-id", help="Link to this version.")
@click.argument("location")
def presign(expires: str, version_id: str | None, location: str) -> None:
    """Print a presigned GET link for an object."""
    loc = _parse(location)
    settings = _settings()

    async def run() -> None:
        ttl = parse_duration(expires)
        if ttl > MAX_PRESIGN:
            raise UsageError(f"--expires {display_text(expires)} is longer than 7 days, the most S3 allows")
        if ttl.total_seconds() < 1:
            raise UsageError("--expires must be at least 1 second")
        async with StoreHub(settings) as hub:
            store = await hub.store(loc)
            key = hub.key(loc)
            if not key or key.endswith("/"):
                raise UsageError("presign takes an object, not a prefix")
            if ttl > store.features.max_presign:
                raise UsageError(f"--expires {display_text(expires)} is longer than this store's links can live")
            await store.stat(key, version_id=version_id)
            click.echo(await store.presign(key, expires=ttl, version_id=version_id))

    _run(run)


# -- backup / restore / sync --------------------------------------------------------------------------------
def _report(report: BackupReport, as_json: bool, *, empty: str | None = None) -> NoReturn:
    """Notes, then the summary (or, when the delete gate refused, one line per refusal: exit 5). ``empty``: the
    error when the source turned out to hold nothing (restore: exit 4)."""
    for note in report.notes:
        _say(note)
    if as_json:
        click.echo(report.as_json())
    seen = report.new + report.changed + report.same + report.skipped + report.failed + report.refused
    if empty is not None and seen == 0 and not report.errors:
        _err(f"error: {empty}")
        raise SystemExit(int(ExitCode.NOT_FOUND))
    if report.refusals and not report.failed and not report.refused:
        for line in report.refusals:
            _err(f"error: {line}")
        raise SystemExit(int(ExitCode.CONFLICT))
    if not as_json:
        _say(report.line())
    raise SystemExit(int(ExitCode.OK if report.ok else ExitCode.PARTIAL))


def _note(text: str) -> None:
    _say(f"note: {text}")


def _max_delete(text: str | None) -> None:
    from tui.sync.gate import DeleteLimit

    try:
        DeleteLimit.parse(text)
    except CloudpaneError as exc:
        _fail(exc)


def _print_action(action: BackupAction, *, verbose: bool, as_json: bool = False, plan: bool = False) -> None:
    """Plan lines go to stdout, or to stderr with --json so that stdout is one JSON document. Unchanged files (=)
    only with -v, in a dry run too; with -q only failures and a dry run's plan (which is its result)."""
    if action.op == "=" and not verbose:
        return
    if action.op == "!":
        _err(f"failed: {action.line()}")
        return
    if current_flags().quiet and not plan:
        return
    _echo(action.line(), err=as_json)


@main.command()
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="gitignore-style pattern (repeatable).")
@click.option("--include-hidden", is_flag=True, help="Back up hidden files and folders too (skipped by default).")
@click.option("--follow-symlinks", is_flag=True, help="Follow symlinks (loops are detected); skipped by default.")
@click.option("--checksum", is_flag=True, help="Compare content by MD5 instead of size and modification time.")
@click.option("--delete", is_flag=True, help="Delete what is gone from the source (safely: see the README).")
@click.option(
    "--max-delete",
    metavar="N|P%",
    help="Refuse to delete more than N objects, or P% of the destination (default: 50%).",
)
@click.option("--force", is_flag=True, help="Allow deleting more than --max-delete, or from an empty source.")
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan (+ new, * changed, - deleted) and change nothing.")
@click.option("-v", "--verbose", is_flag=True, help="Also list unchanged files (=).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (for cron).")
@click.argument("src")
@click.argument("dst")
def backup(
    excludes: tuple[str, ...],
    include_hidden: bool,
    follow_symlinks: bool,
    checksum: bool,
    delete: bool,
    max_delete: str | None,
    force: bool,
    dry_run: bool,
    verbose: bool,
    as_json: bool,
    src: str,
    dst: str,
) -> None:
    """Back up SRC to DST incrementally: only what changed is sent.

    Exit 4 when SRC is missing, 5 when the delete gate refuses (an empty source, more than --max-delete) or
    another backup or sync holds DST, 2 when SRC and DST overlap."""
    from tui.sync.backup import BackupOptions, DeleteRefused
    from tui.sync.backup import backup as run_backup
    from tui.sync.filters import KeyFilter
    from tui.transfer.plan import journaled

    src_loc, dst_loc = _parse(src), _parse(dst)
    settings = _settings()
    _max_delete(max_delete)

    async def run() -> BackupReport:
        keep = KeyFilter.for_root(
            src_loc.path if src_loc.kind == "local" else None, include_hidden=include_hidden, excludes=excludes
        )
        async with StoreHub(settings) as hub:
            src_store, src_prefix = await hub.side(src_loc, symlinks="follow" if follow_symlinks else "skip")
            dst_store, dst_prefix = await hub.side(dst_loc)
            bar = None if dry_run else _progress()
            with journaled(settings) as journal_options:
                copy_options = _telling(journal_options)
                try:
                    async with _drawing(bar):
                        return await run_backup(
                            src_store,
                            src_prefix,
                            dst_store,
                            dst_prefix,
                            keep=keep,
                            tracker=bar,
                            options=BackupOptions(
                                checksum=checksum,
                                delete=delete,
                                dry_run=dry_run,
                                max_delete=max_delete,
                                force=force,
                                files_in_flight=settings.max_files_in_flight,
                            ),
                            copy_options=copy_options,
                            same_remote=hub.same_remote(src_loc, dst_loc),
                            on_action=lambda a: _print_action(a, verbose=verbose, as_json=as_json, plan=dry_run),
                            on_note=_note,
                        )
                except DeleteRefused as exc:
                    return exc.report

    _report(_run(run), as_json)


@main.command()
@click.option("--as-of", "as_of", metavar="TIME", help="Restore each key as it was then (ISO 8601, or an age: 3d).")
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="gitignore-style pattern (repeatable).")
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("-v", "--verbose", is_flag=True, help="Also list unchanged files (=).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.argument("src")
@click.argument("dst")
def restore(
    as_of: str | None, excludes: tuple[str, ...], dry_run: bool, verbose: bool, as_json: bool, src: str, dst: str
) -> None:
    """Restore a prefix (SRC) into a directory (DST); keys that would land outside DST are refused."""
    from tui.sync.backup import BackupOptions, versions_as_of
    from tui.sync.backup import backup as run_backup
    from tui.sync.filters import KeyFilter
    from tui.timeparse import parse_time
    from tui.transfer.plan import journaled

    src_loc, dst_loc = _parse(src), _parse(dst)
    settings = _settings()
    if dst_loc.kind != "local":
        _fail(UsageError("restore writes into a local directory; use backup or cp between buckets"))
    assert dst_loc.path is not None
    made_dst = not dst_loc.path.exists()

    async def run() -> BackupReport:
        when = parse_time(as_of) if as_of else None
        keep = KeyFilter(include_hidden=True, excludes=excludes, skip_junk=False)
        assert dst_loc.path is not None
        if not dry_run:
            dst_loc.path.mkdir(parents=True, exist_ok=True)
        async with StoreHub(settings) as hub:
            src_store, src_prefix = await hub.side(src_loc)
            dst_store, dst_prefix = await hub.side(dst_loc, symlinks="skip")
            stream = versions_as_of(src_store, src_prefix, when, keep) if when is not None else None
            bar = None if dry_run else _progress()
            with journaled(settings) as journal_options:
                copy_options = _telling(journal_options)
                async with _drawing(bar):
                    return await run_backup(
                        src_store,
                        src_prefix,
                        dst_store,
                        dst_prefix,
                        keep=keep,
                        tracker=bar,
                        options=BackupOptions(dry_run=dry_run, files_in_flight=settings.max_files_in_flight),
                        copy_options=copy_options,
                        on_action=lambda a: _print_action(a, verbose=verbose, as_json=as_json, plan=dry_run),
                        src_entries=stream,
                        on_note=_note,
                    )

    report = _run(run)
    shown = display_text(str(src_loc))
    empty = f"{shown}: nothing to restore (no such prefix, or nothing in it)"
    if as_of:
        empty = f"{shown}: nothing existed there at {display_text(as_of)} (--as-of before the first backup?)"
    seen = report.new + report.changed + report.same + report.skipped + report.failed + report.refused
    if seen == 0 and made_dst:
        with contextlib.suppress(OSError):
            dst_loc.path.rmdir()  # made for this restore, and nothing came: do not leave an empty folder behind
    _report(report, as_json, empty=empty)


@main.command(name="sync")
@click.option("--exclude", "excludes", multiple=True, metavar="PATTERN", help="gitignore-style pattern (repeatable).")
@click.option("--include-hidden", is_flag=True, help="Sync hidden files and folders too (skipped by default).")
@click.option(
    "--max-delete",
    metavar="N|P%",
    help="Refuse to delete more than N files, or P% of what the last sync knew, on either side (default: 50%).",
)
@click.option("--force", is_flag=True, help="Allow deleting more than --max-delete, or because a side is empty.")
@click.option(
    "--resolve",
    type=click.Choice(["none", "newer", "older", "a", "b", "keep-both"]),
    default="none",
    show_default=True,
    help="Conflicts: report them (none), or the newer/older copy wins, or A's/B's, or keep both (NAME.conflictN).",
)
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.argument("a")
@click.argument("b")
def sync_cmd(
    excludes: tuple[str, ...],
    include_hidden: bool,
    max_delete: str | None,
    force: bool,
    resolve: str,
    dry_run: bool,
    as_json: bool,
    a: str,
    b: str,
) -> None:
    """Two-way sync of A and B: changes since the last sync cross over; both changed is a conflict (exit 1).

    Exit 4 when A or B is missing, 5 when the delete gate refuses (a side is empty, or lost more than
    --max-delete) or another backup or sync holds A or B, 2 when A and B overlap."""
    from tui.sync.backup import DeleteRefused
    from tui.sync.filters import KeyFilter
    from tui.sync.gate import DeleteGate, DeleteLimit
    from tui.sync.twoway import RESOLVE_MODES, Resolve
    from tui.sync.twoway import sync as run_sync
    from tui.transfer.plan import journaled

    a_loc, b_loc = _parse(a), _parse(b)
    settings = _settings()
    _max_delete(max_delete)
    assert resolve in RESOLVE_MODES
    mode: Resolve = resolve  # type: ignore[assignment]  # click.Choice checked it

    async def run() -> BackupReport:
        keep = KeyFilter(include_hidden=include_hidden, excludes=excludes)
        async with StoreHub(settings) as hub:
            a_store, a_prefix = await hub.side(a_loc, symlinks="skip")
            b_store, b_prefix = await hub.side(b_loc, symlinks="skip")
            with journaled(settings) as journal_options:
                copy_options = _telling(journal_options)
                try:
                    return await run_sync(
                        a_store,
                        a_prefix,
                        b_store,
                        b_prefix,
                        keep=keep,
                        copy_options=copy_options,
                        dry_run=dry_run,
                        on_action=lambda act: _print_action(act, verbose=False, as_json=as_json, plan=dry_run),
                        files_in_flight=settings.max_files_in_flight,
                        gate=DeleteGate(DeleteLimit.parse(max_delete), force),
                        resolve=mode,
                        on_note=_note,
                    )
                except DeleteRefused as exc:
                    return exc.report

    _report(_run(run), as_json)


# -- completion ----------------------------------------------------------------------------------------------
@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script of SHELL (click's, as `_CLOUDPANE_COMPLETE=SHELL_source cloudpane` does).

    Completes commands, options, s3://, az:// and the remotes of the config; local paths by the shell."""
    from tui.clihelp import completion_source

    click.echo(completion_source(shell, main))


# -- demo server ---------------------------------------------------------------------------------------------
@main.command(name="demo-server")
@click.option("--port", default=0, show_default=True, help="Port on 127.0.0.1 (0: any free port).")
def demo_server(port: int) -> None:
    """Run the embedded demo S3 server with sample data until Ctrl-C."""
    from tui.demo import run_demo_server

    try:
        code = run_demo_server(port)
    except CloudpaneError as exc:
        _fail(exc)
    raise SystemExit(code)
