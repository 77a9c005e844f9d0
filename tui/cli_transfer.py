"""The cp and mv commands: the options beyond a plain copy (filters, version, dry run, what the written objects
carry) and the ``-`` (stdin / stdout) forms.
The copy itself is ``tui.cli._transfer`` and the engine's ``run_transfer``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tui.cli import _err, _transfer, main
from tui.cli_objects import filter_options, key_filter
from tui.errors import ExitCode
from tui.safety import display_text
from tui.transfer.select import Extras

#: the one canned ACL cp accepts: objects are private (no public-read and the like, ever)
ACCEPTED_ACL = "private"


def _usage(text: str) -> None:
    _err(f"error: {text}")
    raise SystemExit(int(ExitCode.USAGE))


def parse_metadata(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--metadata k=v`` (repeatable) as a dict; keys in lower case (S3 and rclone keep them so)."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            _usage(f"--metadata {display_text(pair)}: expected KEY=VALUE")
        if not all(c.isascii() and (c.isalnum() or c in "-_.") for c in key):
            _usage(f"--metadata {display_text(pair)}: a key has letters, digits, -, _ and . only")
        if not value.isascii() or not value.isprintable():
            _usage(f"--metadata {display_text(pair)}: a value is printable ASCII (what HTTP headers carry)")
        found[key] = value
    return found


def cp_or_mv(
    sources: tuple[str, ...],
    destination: str,
    *,
    move: bool,
    version_id: str | None,
    recursive: bool,
    force: bool,
    bwlimit: str | None,
    dry_run: bool,
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    content_type: str | None,
    metadata: tuple[str, ...],
    storage_class: str | None,
    acl: str | None,
) -> None:
    from tui.cli_objects import UploadOptions, is_stream, stream_cp

    verb = "mv" if move else "cp"
    if acl is not None and acl.strip().lower() != ACCEPTED_ACL:
        _usage(f"--acl {display_text(acl)} refused: cloudpane writes private objects only (--acl private)")
    if (includes or excludes) and not recursive:
        _usage(f"--include and --exclude choose keys of a folder: they go with {verb} -r")
    meta = parse_metadata(metadata)
    if content_type is not None and not content_type.strip():
        _usage("--content-type is empty")
    if storage_class is not None:
        storage_class = storage_class.strip().upper()
        if not storage_class:
            _usage("--storage-class is empty")
    if is_stream(sources, destination):
        stream_cp(
            sources,
            destination,
            recursive=recursive,
            move=move,
            version_id=version_id,
            dry_run=dry_run,
            upload=UploadOptions(content_type=content_type, metadata=meta, storage_class=storage_class),
            bwlimit=bwlimit,
        )
        return
    if version_id and (len(sources) != 1 or recursive):
        _usage("--version-id picks a version of one object: it goes with one source and no -r")
    try:
        keep = key_filter(includes, excludes)
    except Exception as exc:  # noqa: BLE001 - a bad pattern is a usage error, one line
        _usage(str(exc))
    extras = Extras(
        keep=keep,
        version_id=version_id,
        content_type=content_type,
        metadata=meta,
        storage_class=storage_class,
        dry_run=dry_run,
    )
    _transfer(sources, destination, recursive=recursive, move=move, force=force, bwlimit=bwlimit, extras=extras)


def _transfer_options(f: Callable[..., None]) -> Callable[..., None]:
    """The options cp and mv share."""
    decorators: list[Callable[[Callable[..., None]], Callable[..., None]]] = [
        click.option("-r", "--recursive", is_flag=True, help="Include folders with everything below them."),
        click.option("-f", "--force", is_flag=True, help="Overwrite destinations that are newer than the source."),
        click.option("--bwlimit", metavar="RATE", help="Bandwidth limit in bytes per second (e.g. 10M, 512K)."),
        click.option("-n", "--dry-run", is_flag=True, help="Print what would be copied and change nothing."),
        *filter_options(),
        click.option("--content-type", metavar="TYPE", help="Content-Type of the objects written."),
        click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="User metadata (repeatable)."),
        click.option(
            "--storage-class",
            metavar="CLASS",
            help="S3 storage class of the objects written (STANDARD_IA, GLACIER, ...).",
        ),
        click.option("--acl", metavar="ACL", help="Only private (the default) is accepted: no public objects."),
        click.argument("sources", nargs=-1, required=True),
        click.argument("destination"),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


@main.command()
@_transfer_options
@click.option("--version-id", help="Copy this version of the source object.")
def cp(version_id: str | None, sources: tuple[str, ...], destination: str, **opts: Any) -> None:
    """Copy objects and files between any two stores (https:// URLs as sources too).

    A source of - reads stdin (streamed, any length); a destination of - writes to stdout.
    """
    cp_or_mv(sources, destination, move=False, version_id=version_id, **opts)


@main.command()
@_transfer_options
def mv(sources: tuple[str, ...], destination: str, **opts: Any) -> None:
    """Move: copy, then delete each source once its copy is complete."""
    cp_or_mv(sources, destination, move=True, version_id=None, **opts)
