"""Making untrusted text safe to show, and untrusted object keys safe to write locally.

Everything a store hands back is untrusted: object keys, metadata values, server error messages.
Two things can go wrong with them:

* **Showing them.** A key may contain terminal escape sequences (``ESC ] 52`` writes the clipboard,
  ``ESC [ 2J`` clears the screen), bidi overrides that make ``evil\\u202egpj.exe`` look like
  ``evilexe.jpg``, zero-width characters that make two different keys look the same, or newlines
  that forge a second line of output. :func:`display_text` turns all of those into visible escapes.
  Square brackets pass through unchanged: the result is plain text, and callers hand it to Textual
  as ``Content``/``Text``, never as a markup string. The rare place that must build a markup string
  uses :func:`escape_markup` (Textual content markup) or :func:`escape_rich_markup` (Rich console
  markup).

* **Writing them.** A key like ``../../.bashrc`` or ``/etc/passwd`` must never become a local path
  outside the download root. :func:`safe_local_path` maps a key to a path under the root or raises
  :class:`~tui.errors.UnsafePathError`.

Standard library only: this module sits in the engine, which never imports Textual or Rich.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tui.errors import UnsafePathError
from tui.text import display_text

__all__ = [
    "display_text",
    "escape_markup",
    "escape_rich_markup",
    "is_within",
    "safe_local_path",
]


# --------------------------------------------------------------------------------------------------
# Markup escaping

#: characters that can follow ``[`` in a Rich tag (``rich.markup.RE_TAGS``)
_RICH_TAG_START = frozenset("abcdefghijklmnopqrstuvwxyz#/@")
_BRACKET = re.compile(r"(\\*)\[")
_TRAILING_BACKSLASHES = re.compile(r"\\+\Z")


def escape_markup(s: str, *, max_len: int | None = None) -> str:
    """``display_text(s)`` escaped for Textual content markup.

    For ``Content.from_markup``, ``Static``/``Label`` with markup, ``notify`` and the like. Every
    ``[`` becomes ``\\[``: Textual's parser treats *any* ``[`` not preceded by a backslash as a
    possible tag -- ``[B @click=app.quit]``, ``[ @click=...]`` and ``[$var @click=...]`` all
    parse as tags with an action -- so Rich's pattern, which ``textual.markup.escape`` reuses and
    which only escapes ``[`` followed by ``a-z # / @``, is not enough there. In Textual text
    ``\\[`` means ``[`` and every other backslash is literal, so the result renders exactly as
    ``display_text(s)``, with no styles or actions, wherever it is placed in a markup string --
    with one exception: a backslash at the very end would escape the ``[`` of whatever tag the
    caller puts next, and Textual has no way to write "literal backslash, then a tag", so a
    trailing backslash is spelled ``\\x5c``.

    Caveat: ``Content.from_markup(markup, **variables)`` also substitutes ``$name`` in text; never
    pass template variables along with markup that contains untrusted text.

    For Rich console markup use :func:`escape_rich_markup`.
    """
    text = display_text(s, max_len=max_len).replace("[", "\\[")
    if text.endswith("\\"):
        text = text[:-1] + "\\x5c"
    return text


def _escape_rich_bracket(match: re.Match[str]) -> str:
    backslashes = len(match.group(1))
    text, after = match.string, match.end()
    if after < len(text) and text[after] not in _RICH_TAG_START:
        cannot_be_tag = True
    else:
        # A tag body runs to the next ']' and cannot contain '['. With no ']' left in the text,
        # the markup that follows the inserted text might close it, so assume a tag.
        close, reopen = text.find("]", after), text.find("[", after)
        cannot_be_tag = reopen != -1 and (close == -1 or reopen < close)
    if cannot_be_tag:
        # Rich turns "\[" into "[" in plain text, so a backslash before '[' needs one more.
        return "\\" * (backslashes + 1) + "[" if backslashes else "["
    # Rich reads 2k+1 backslashes before a tag as k literal backslashes and an escaped tag.
    return "\\" * (2 * backslashes + 1) + "["


def escape_rich_markup(s: str, *, max_len: int | None = None) -> str:
    """``display_text(s)`` escaped for Rich console markup (``Console.print``, ``rich.markup``).

    The same idea as ``rich.markup.escape`` (``\\[`` before a ``[`` that could start a tag,
    doubled backslashes in front of it, doubled trailing backslashes), made exact where Rich's own
    function is not: a ``[`` left open at the end is escaped too (the caller's markup that follows
    might close it), any number of trailing backslashes is doubled (Rich only fixes a single one),
    and a backslash before a ``[`` that is not a tag keeps an extra backslash (Rich's renderer turns
    ``\\[`` into ``[`` anywhere). So ``rich.markup.render(f"[b]{escape_rich_markup(s)}[/b]")``
    shows exactly ``display_text(s)``. Rich also replaces ``:emoji_name:`` codes; render with
    ``emoji=False`` if that matters.

    Not safe for Textual markup: use :func:`escape_markup` there.
    """
    text = _BRACKET.sub(_escape_rich_bracket, display_text(s, max_len=max_len))
    trailing = _TRAILING_BACKSLASHES.search(text)
    if trailing is not None:  # would otherwise escape the tag the caller puts next
        text += trailing.group()
    return text


# --------------------------------------------------------------------------------------------------
# Local paths


def _key_problem(key: str) -> str | None:
    """Why ``key`` cannot be mapped to a relative local path, or None if its shape is fine."""
    if not key:
        return "the key is empty"
    if "\x00" in key:
        return "it contains a NUL character"
    if "\\" in key:
        return "it contains a backslash"
    if key.startswith("/"):
        return "it is absolute (starts with '/')"
    body = key[:-1] if key.endswith("/") else key  # one trailing '/' names a prefix (a directory)
    for part in body.split("/"):
        if part == "":
            return "it has an empty path component ('//')"
        if part in (".", ".."):
            return f"it has a {part!r} path component"
    return None


def _refuse(key: str, why: str) -> UnsafePathError:
    return UnsafePathError(f"refusing object key '{display_text(key, max_len=300)}': {why}")


def safe_local_path(root: str | os.PathLike[str], key: str) -> Path:
    """Map object ``key`` to a local path under the download root ``root``.

    Refused with :class:`~tui.errors.UnsafePathError` (exit code 2, a one-line message naming the
    key via :func:`display_text`): an empty key, a NUL anywhere, any backslash, a leading ``/``,
    any ``.`` or ``..`` component and empty components (``a//b``). One trailing ``/`` is allowed
    and maps to the directory (``dir/`` -> ``root/dir``). Components made of, or ending in, spaces
    are legal keys and are kept.

    Then containment is checked on *resolved* paths -- ``Path.resolve()`` of the root and of the
    candidate, compared with ``is_relative_to``, never by string prefix -- so root ``/tmp/dst``
    never accepts ``/tmp/dst2/...``, and a symlink inside the root that points outside is refused.
    A relative ``root`` is taken relative to the current directory; the root need not exist yet.

    Returns ``root.resolve() / <key components>`` -- deliberately *not* the resolved candidate, so
    a caller can still see (and refuse to write through) a symlink inside the root. The check is a
    snapshot: symlinks created later are the writer's job (e.g. ``O_NOFOLLOW``, or re-checking
    with :func:`is_within` just before writing).
    """
    problem = _key_problem(key)
    if problem is not None:
        raise _refuse(key, problem)
    parts = key.rstrip("/").split("/")  # at most one trailing '/' is left after _key_problem
    try:
        root_resolved = Path(root).resolve()
        candidate = root_resolved.joinpath(*parts)
        inside = candidate.resolve().is_relative_to(root_resolved)
    except (OSError, RuntimeError, ValueError) as exc:  # RuntimeError: symlink loop (< 3.13)
        raise _refuse(key, f"its local path cannot be resolved ({type(exc).__name__})") from exc
    if not inside:
        where = display_text(str(root_resolved))
        raise _refuse(key, f"it resolves outside the download root {where}")
    return candidate


def is_within(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` resolves (following symlinks) to ``root`` or somewhere below it.

    Both are resolved with ``Path.resolve()``; relative paths are relative to the current
    directory, not to ``root``. A path that cannot be resolved (symlink loop, NUL) counts as not
    within.
    """
    try:
        return Path(path).resolve().is_relative_to(Path(root).resolve())
    except (OSError, RuntimeError, ValueError):
        return False
