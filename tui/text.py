"""Untrusted text made safe to show: :func:`display_text` (see ``tui.safety`` for the whole story).

A leaf module (standard library only, no ``tui`` imports), so that ``tui.errors`` can escape its messages and
``tui.safety`` can raise ``tui.errors`` exceptions without an import cycle.
"""

from __future__ import annotations

__all__ = ["display_text"]


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
