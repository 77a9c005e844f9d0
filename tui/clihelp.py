"""What ``--help`` shows below each command's options (two or three examples), and shell completion.

Examples are kept here, by command name, and attached when a command joins the group (``tui.cli._Group``), so a
command's help and its examples are reviewed in one place. Completion is click's own (``_CLOUDPANE_COMPLETE``);
``cloudpane completion SHELL`` prints the script. Location arguments complete local paths (by the shell),
``s3://``, ``az://`` and the named remotes of the config; nothing is listed over the network while typing.
"""

from __future__ import annotations

import click
from click.shell_completion import CompletionItem

#: command name -> examples, each ``(command line, what it does)``
EXAMPLES: dict[str, list[tuple[str, str]]] = {
    "ls": [
        ("cloudpane ls s3://", "the buckets of the default S3 remote"),
        ("cloudpane ls -r --json s3://bucket/photos/ | jq -r .key", "every key under a prefix, for scripts"),
        ("cloudpane ls --endpoint-url http://127.0.0.1:9000 s3://bucket/", "a bucket on an S3-compatible server"),
    ],
    "mb": [
        ("cloudpane mb s3://my-bucket", "a private bucket"),
        ("cloudpane mb --versioning --region eu-west-1 s3://my-bucket", "with versioning, in a region"),
    ],
    "rb": [("cloudpane rb s3://my-bucket", "remove an empty bucket")],
    "cp": [
        ("cloudpane cp report.pdf s3://bucket/docs/", "upload a file into a folder"),
        ("cloudpane cp -r s3://bucket/photos/ ./photos/", "download a folder"),
        ("cloudpane cp --profile b2 -r ./site/ s3://bucket/site/", "upload with the credentials of a profile"),
    ],
    "mv": [
        ("cloudpane mv s3://bucket/inbox/a.csv s3://bucket/done/", "move one object (server-side)"),
        ("cloudpane mv -r ./outgoing/ s3://bucket/in/", "upload a folder, deleting each file once it is copied"),
    ],
    "rm": [
        ("cloudpane rm s3://bucket/old.log", "delete one object"),
        ("cloudpane rm -r s3://bucket/tmp/", "delete everything under a prefix"),
        ("cloudpane rm --version-id ID s3://bucket/key", "delete one version, permanently"),
    ],
    "versions": [
        ("cloudpane versions s3://bucket/report.pdf", "the versions and delete markers of a key"),
        ("cloudpane versions --json s3://bucket/docs/", "of every key under a prefix, as JSON lines"),
    ],
    "presign": [
        ("cloudpane presign s3://bucket/report.pdf", "a link that works for an hour"),
        ("cloudpane presign --expires 7d s3://bucket/report.pdf", "for a week (the most S3 allows)"),
    ],
    "transfers": [
        ("cloudpane transfers", "the unfinished uploads this machine can resume"),
        ("cloudpane transfers --server s3://bucket/ --older-than 7d", "the server's own, started over a week ago"),
        ("cloudpane transfers --server s3://bucket/ --abort", "abort them on the server"),
    ],
    "backup": [
        ("cloudpane backup ~/Documents s3://bucket/docs", "send what changed"),
        ("cloudpane backup -n -v ~/Documents s3://bucket/docs", "show the plan, unchanged files too"),
        ("cloudpane backup --delete --json ~/Documents s3://bucket/docs", "mirror deletions too; a summary for cron"),
    ],
    "restore": [
        ("cloudpane restore s3://bucket/docs ~/restored", "bring the backup back"),
        ("cloudpane restore --as-of 3d s3://bucket/docs ~/restored", "as it was three days ago (versioned bucket)"),
    ],
    "sync": [
        ("cloudpane sync ~/Notes s3://bucket/notes", "changes on either side cross over"),
        ("cloudpane sync -n ~/Notes s3://bucket/notes", "show what would cross over"),
        ("cloudpane sync --resolve newer ~/Notes s3://bucket/notes", "the newer copy wins a conflict"),
    ],
    "demo-server": [
        ("cloudpane demo-server", "a local S3 server with sample data; it prints the variables to use"),
        ("cloudpane demo-server --port 9000", "on a port of your choice"),
    ],
    "completion": [
        ('eval "$(cloudpane completion bash)"', "in ~/.bashrc"),
        ('eval "$(cloudpane completion zsh)"', "in ~/.zshrc"),
        ("cloudpane completion fish > ~/.config/fish/completions/cloudpane.fish", "for fish"),
    ],
    "cat": [
        ("cloudpane cat s3://bucket/notes.txt", "an object to stdout"),
        ("cloudpane cat s3://bucket/app.log | grep ERROR", "into a pipe"),
    ],
    "stat": [
        ("cloudpane stat s3://bucket/report.pdf", "what the server says about an object"),
        ("cloudpane stat --json s3://bucket/report.pdf", "as JSON"),
    ],
    "du": [
        ("cloudpane du s3://bucket/", "count and bytes of a bucket"),
        ("cloudpane du -r s3://bucket/logs/", "per prefix below"),
    ],
}


def epilog(name: str) -> str | None:
    """The examples of command ``name`` as a click epilog (``\\b``: kept as written, not rewrapped)."""
    examples = EXAMPLES.get(name)
    if not examples:
        return None
    width = max(len(line) for line, _ in examples)
    rows = [f"  {line:<{width}}  # {what}" if width <= 70 else f"  {line}\n      # {what}" for line, what in examples]
    return "\b\nExamples:\n" + "\n".join(rows)


#: the parameter names that hold a location (what ``--help`` calls SRC, DST, LOCATION, ...)
LOCATION_PARAMS = frozenset({"location", "sources", "destination", "src", "dst", "a", "b", "left", "right"})


def complete_location(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """``s3://``, ``az://`` and ``NAME:`` for the remotes of the config; local paths are the shell's (``file``)."""
    schemes = ["s3://", "az://"]
    names: list[str] = []
    try:
        from tui.config import load_settings

        names = [f"{name}:" for name in sorted(load_settings().remotes)]
    except Exception:  # noqa: BLE001 - a broken config must not break the shell's completion
        names = []
    matches = [CompletionItem(c, type="plain") for c in schemes + names if c.startswith(incomplete)]
    head = incomplete.split("/", 1)[0]
    if "://" in incomplete or (head.endswith(":") is False and ":" in head):
        return matches  # inside a remote location: nothing is listed over the network while typing
    return [*matches, CompletionItem(incomplete, type="file")]  # and the shell completes local paths


def decorate(cmd: click.Command) -> None:
    """Examples below the options, location completion on the location arguments."""
    if cmd.epilog is None and cmd.name is not None:
        cmd.epilog = epilog(cmd.name)
    for param in cmd.params:
        if isinstance(param, click.Argument) and param.name in LOCATION_PARAMS:
            param._custom_shell_complete = complete_location  # click's slot for shell_complete=


def completion_source(shell: str, cli: click.Command) -> str:
    """The completion script of ``shell`` (bash, zsh, fish), as ``_CLOUDPANE_COMPLETE=SHELL_source`` prints it."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click.Choice limits the shells
        raise click.BadParameter(f"no completion for {shell}")
    return cls(cli, {}, "cloudpane", "_CLOUDPANE_COMPLETE").source()
