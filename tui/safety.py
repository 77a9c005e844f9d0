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

__all__ = [
    "display_text",
    "escape_markup",
    "escape_rich_markup",
    "is_within",
    "safe_local_path",
]

# --------------------------------------------------------------------------------------------------
# display_text


def _visible_escape(code: int) -> str:
    """Python-literal spelling of a code point: ``\\n``, ``\\x1b``, ``\\u202e``."""
    short = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}.get(code)
    if short is not None:
        return short
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _build_escape_table() -> dict[int, str]:
    codes: list[int] = []
    codes += range(0x00, 0x20)  # C0 controls (incl. TAB, LF, CR, ESC)
    codes.append(0x7F)  # DEL
    codes += range(0x80, 0xA0)  # C1 controls (incl. CSI 0x9b, OSC 0x9d, NEL 0x85)
    # Bidi controls: embeddings/overrides, isolates, marks.
    codes += range(0x202A, 0x202F)  # LRE RLE PDF LRO RLO
    codes += range(0x2066, 0x206A)  # LRI RLI FSI PDI
    codes += (0x200E, 0x200F, 0x061C)  # LRM RLM ALM
    # Zero-width and invisible characters.
    codes += range(0x200B, 0x200E)  # ZWSP ZWNJ ZWJ
    codes += (0x2060, 0xFEFF, 0x180E)  # word joiner, BOM/ZWNBSP, Mongolian vowel separator
    codes.append(0x00AD)  # soft hyphen
    # Beyond the usual lists: also invisible, or line-breaking (str.splitlines() splits on these).
    codes += (0x2028, 0x2029)  # line / paragraph separator
    codes += range(0x2061, 0x2065)  # invisible function application, times, separator, plus
    codes += range(0x206A, 0x2070)  # deprecated format characters (invisible)
    codes += range(0xFFF9, 0xFFFC)  # interlinear annotation anchors
    # Lone surrogates (os.fsdecode with surrogateescape): not encodable, shown as \udcXX.
    codes += range(0xD800, 0xE000)
    return {code: _visible_escape(code) for code in codes}


#: code point -> its visible escape, for ``str.translate``
_ESCAPES: dict[int, str] = _build_escape_table()


def display_text(s: str, *, max_len: int | None = None) -> str:
    """Return ``s`` with every control, bidi, invisible and surrogate character shown as an escape.

    Escaped (spelled the way a Python literal would spell them):

    * C0 controls U+0000-U+001F, DEL U+007F and C1 controls U+0080-U+009F, e.g. ``\\x1b``,
      ``\\x7f``, ``\\x9b``; TAB, LF and CR are shown as ``\\t``, ``\\n``, ``\\r``;
    * bidi controls U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C, e.g. ``\\u202e``;
    * zero-width and invisible characters U+200B-U+200D, U+2060, U+FEFF, U+180E, U+00AD
      (``\\xad``), U+2061-U+2064, U+206A-U+206F, U+FFF9-U+FFFB, and the line/paragraph
      separators U+2028, U+2029. Escaping U+200D (zero-width joiner) shows joined emoji sequences
      as their parts;
    * lone surrogates U+D800-U+DFFF, as left by ``os.fsdecode`` for undecodable bytes, e.g.
      ``\\udcff``. The result therefore always encodes as UTF-8.

    Everything else passes through unchanged, including emoji, CJK, combining accents (no
    normalisation) and ``[``/``]``. The result is plain text, not markup: show it as Textual
    ``Content``/Rich ``Text``, or run it through :func:`escape_markup` first if a markup string is
    unavoidable.

    **Backslashes are not escaped**: a backslash stays a single backslash. So the output is
    ambiguous for the (rare) key that literally contains, say, the four characters ``\\x1b`` -- it
    looks the same as a key holding a real ESC. We accept that: doubling backslashes would make
    Windows-style keys like ``a\\b`` read wrongly, and -- more important -- keeping them makes
    ``display_text`` idempotent (``display_text(display_text(s)) == display_text(s)``), so text
    assembled from already-escaped parts (an error message naming a key, later passed through
    :func:`tui.errors.one_line`) is never double-escaped. Code that needs the exact key must use the
    key itself, never the displayed string.

    If ``max_len`` is given, the *result* is cut to at most ``max_len`` characters (code points, not
    terminal cells), ending in ``…`` when anything was cut. The cut never splits an escape.
    """
    out = s.translate(_ESCAPES)
    if max_len is None or len(out) <= max_len:
        return out
    if max_len < 0:
        raise ValueError(f"max_len must be >= 0, not {max_len}")
    if max_len == 0:
        return ""
    budget = max_len - 1  # room left for the ellipsis
    kept: list[str] = []
    used = 0
    for ch in s:
        piece = _ESCAPES.get(ord(ch), ch)
        if used + len(piece) > budget:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + "…"


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
