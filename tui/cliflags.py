"""The global flags of the command line, spelled as the aws cli spells them.

``--profile``, ``--endpoint-url``, ``--region``, ``-q/--quiet`` and ``--no-progress`` are accepted before the
command (``cloudpane --profile x ls s3://b``) and after it (``cloudpane ls --profile x s3://b``, as aws accepts
them); a value given after the command wins. They land in one :class:`GlobalFlags` in the click context's ``meta``
(shared by the group's context and the command's). The first three become a :class:`tui.config.S3Override`,
which ``load_settings`` applies to ``s3://`` (see there for what they mean).

Imports only click (the command line's own dependency): no SDK, nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

_KEY = "cloudpane.flags"

#: commands that talk to no store: they take no global flags
NO_GLOBAL_FLAGS = frozenset({"tui", "demo-server", "completion"})


@dataclass
class GlobalFlags:
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    #: print only errors (no per-item lines, no summary, no notes, no progress)
    quiet: bool = False
    #: no progress display
    no_progress: bool = False


def current_flags() -> GlobalFlags:
    """The flags of the command being run (defaults outside a click context)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return GlobalFlags()
    flags = ctx.meta.get(_KEY)
    if not isinstance(flags, GlobalFlags):
        flags = GlobalFlags()
        ctx.meta[_KEY] = flags
    return flags


def _store(attr: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return  # not given here: keep what the group (or the default) said
        flags = ctx.meta.get(_KEY)
        if not isinstance(flags, GlobalFlags):
            flags = GlobalFlags()
            ctx.meta[_KEY] = flags
        setattr(flags, attr, value)

    return callback


def global_params() -> list[click.Parameter]:
    """Fresh parameter objects (a click parameter belongs to one command)."""
    return [
        click.Option(
            ["--profile"],
            metavar="NAME",
            expose_value=False,
            callback=_store("profile"),
            help="What s3:// means: a remote of cloudpane's config, else an AWS profile (~/.aws/config).",
        ),
        click.Option(
            ["--endpoint-url"],
            metavar="URL",
            expose_value=False,
            callback=_store("endpoint_url"),
            help="Send s3:// requests to this S3-compatible server (http:// or https://).",
        ),
        click.Option(
            ["--region"],
            metavar="REGION",
            expose_value=False,
            callback=_store("region"),
            help="Region of s3:// (signing, and new buckets).",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_store("quiet"),
            help="Print only errors (results such as listings still go to stdout).",
        ),
        click.Option(
            ["--no-progress"],
            is_flag=True,
            expose_value=False,
            callback=_store("no_progress"),
            help="Draw no progress display.",
        ),
    ]


def add_global_params(cmd: click.Command) -> None:
    """Give ``cmd`` the global flags (after its own options), unless it has an option of the same name."""
    if cmd.name in NO_GLOBAL_FLAGS:
        return
    taken = {opt for p in cmd.params for opt in p.opts}
    cmd.params.extend(p for p in global_params() if not taken & set(p.opts))
