"""tui.safety: escaping untrusted text for display, and mapping object keys to safe local paths."""

from __future__ import annotations

import os
import random
import re
import unicodedata
from pathlib import Path

import pytest
from rich.markup import render as rich_render
from textual.markup import to_content

from tui.errors import ExitCode, UnsafePathError, UsageError, exit_code_for, one_line
from tui.safety import (
    display_text,
    escape_markup,
    escape_rich_markup,
    is_within,
    safe_local_path,
)

C0 = [chr(c) for c in range(0x20)]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]]
INVISIBLE = [chr(c) for c in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x180E, 0x00AD)]
EXTRA = [chr(c) for c in (0x2028, 0x2029, 0x2061, 0x2064, 0x206A, 0x206F, 0xFFF9, 0xFFFB)]
ALL_UNSAFE = [*C0, "\x7f", *C1, *BIDI, *INVISIBLE, *EXTRA]


def _expected_escape(ch: str) -> str:
    short = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    if ch in short:
        return short[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# --------------------------------------------------------------------------------------------------
# display_text


@pytest.mark.parametrize("ch", ALL_UNSAFE, ids=lambda ch: f"U+{ord(ch):04X}")
def test_every_unsafe_character_is_escaped(ch: str) -> None:
    out = display_text(f"a{ch}b")
    assert out == f"a{_expected_escape(ch)}b"
    assert ch not in out
    assert out.isascii() and out.isprintable()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b", r"\x1b"),
        ("\x7f", r"\x7f"),
        ("\x00", r"\x00"),
        ("\x9b", r"\x9b"),
        ("\u202e", r"\u202e"),
        ("\u200b", r"\u200b"),
        ("\ufeff", r"\ufeff"),
        ("\xad", r"\xad"),
        ("\n", r"\n"),
        ("\r", r"\r"),
        ("\t", r"\t"),
    ],
)
def test_escape_spelling(raw: str, shown: str) -> None:
    assert display_text(raw) == shown


def test_bidi_spoof_is_visible() -> None:
    assert display_text("invoice\u202egpj.exe") == r"invoice\u202egpj.exe"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]52;c;aGVsbG8=\x07", r"\x1b]52;c;aGVsbG8=\x07"),  # OSC 52: write the clipboard
        ("\x1b[2J", r"\x1b[2J"),  # clear screen
        (
            "\x1b]8;;https://evil\x1b\\link\x1b]8;;\x1b\\",
            "\\x1b]8;;https://evil\\x1b\\link\\x1b]8;;\\x1b\\",
        ),
        ("\x9b2J", r"\x9b2J"),  # 8-bit CSI
    ],
)
def test_terminal_escape_sequences_are_neutralised(raw: str, shown: str) -> None:
    out = display_text(raw)
    assert out == shown
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out


def test_lone_surrogates_from_fsdecode() -> None:
    name = os.fsdecode(b"caf\xe9-\xff.txt")
    assert "\udce9" in name  # sanity: surrogateescape left lone surrogates
    out = display_text(name)
    assert out == r"caf\udce9-\udcff.txt"
    out.encode("utf-8")  # no lone surrogates left: never a UnicodeEncodeError when printed


def test_no_control_format_or_surrogate_survives_any_code_point() -> None:
    everything = "".join(chr(c) for c in range(0x110000))
    out = display_text(everything)
    out.encode("utf-8")
    survivors = {ch for ch in out if unicodedata.category(ch) in ("Cc", "Cs")}
    assert survivors == set()
    for ch in ALL_UNSAFE:
        assert ch not in out


@pytest.mark.parametrize(
    "text",
    [
        "plain/key.txt",
        "📁 photos/🐱 cat 👍🏽 🇯🇵.jpg",
        "日本語/中文/한국어.txt",
        "Ελληνικά и кириллица",
        unicodedata.normalize("NFD", "café Ångström naïve"),
        "e\u0301\u0302 stacked combining",
        "[@click=app.quit]x",
        "[bold]not markup[/bold] ] [",
        "trailing spaces  ",
        "non\u00a0breaking and\u3000ideographic space",
        "back\\slash\\",
    ],
)
def test_safe_text_passes_unchanged(text: str) -> None:
    assert display_text(text) == text


def test_nfd_is_not_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "é")
    assert len(nfd) == 2
    assert display_text(nfd) == nfd != unicodedata.normalize("NFC", nfd)


def test_brackets_come_back_literally() -> None:
    out = display_text("[@click=app.quit]x")
    assert out == "[@click=app.quit]x"
    assert "[" in out and "]" in out


@pytest.mark.parametrize("text", ["a\x1bb", "\\x1b", "a\\b\nc", "\u202e[x]\\", "caf\udce9", "x" * 50 + "\x00"])
def test_display_text_is_idempotent(text: str) -> None:
    once = display_text(text)
    assert display_text(once) == once


def test_backslash_stays_a_single_backslash() -> None:
    assert display_text("a\\b") == "a\\b"
    assert display_text("a\\nb") == "a\\nb"  # a literal backslash-n looks like an escaped LF: by design


class TestMaxLen:
    def test_short_text_is_untouched(self) -> None:
        assert display_text("abc", max_len=3) == "abc"
        assert display_text("abc", max_len=10) == "abc"

    def test_long_text_is_cut_with_ellipsis(self) -> None:
        out = display_text("abcdefgh", max_len=5)
        assert out == "abcd…"
        assert len(out) == 5

    def test_limit_applies_to_the_escaped_result(self) -> None:
        # "\x00" * 3 -> 12 visible characters
        out = display_text("\x00\x00\x00", max_len=9)
        assert len(out) <= 9
        assert out == r"\x00\x00…"

    def test_cut_never_splits_an_escape(self) -> None:
        out = display_text("ab\x1bcd", max_len=5)
        assert out == "ab…"
        assert display_text("ab\x1bcd", max_len=7) == "ab\\x1b…"

    def test_tiny_limits(self) -> None:
        assert display_text("abc", max_len=1) == "…"
        assert display_text("abc", max_len=0) == ""
        assert display_text("", max_len=0) == ""
        with pytest.raises(ValueError):
            display_text("abc", max_len=-1)

    @pytest.mark.parametrize("limit", range(0, 30))
    def test_result_never_exceeds_limit(self, limit: int) -> None:
        text = "k\x1b[2J\u202e📁日本\n" * 3
        out = display_text(text, max_len=limit)
        assert len(out) <= limit
        full = display_text(text)
        if len(full) > limit and limit > 0:
            assert out.endswith("…")
            assert full.startswith(out[:-1])


# --------------------------------------------------------------------------------------------------
# Markup escaping


def _textual_plain_and_spans(markup: str) -> tuple[str, list[object]]:
    content = to_content(markup)
    return content.plain, list(content.spans)


def test_escape_markup_click_action_under_rich() -> None:
    text = "[@click=app.quit]x"
    out = escape_markup(text)
    assert out == "\\[@click=app.quit]x"
    rendered = rich_render(out)
    assert rendered.plain == display_text(text)
    assert rendered.spans == []


def test_escape_markup_click_action_under_textual() -> None:
    plain, spans = _textual_plain_and_spans(escape_markup("[@click=app.quit]x"))
    assert plain == "[@click=app.quit]x"
    assert spans == []


@pytest.mark.parametrize(
    "text",
    [
        # Rich's escape pattern (reused by textual.markup.escape) leaves these alone, yet Textual
        # parses them as tags with an action or a style.
        "[B @click=app.quit]x",
        "[ @click=app.quit]x",
        "[$accent @click=app.quit]x",
        "[Bold link='https://evil.example']x",
        "[\t@click=app.quit]x",
        "a\\[b]c",
        "\\[@click=app.quit]x\\",
    ],
)
def test_escape_markup_defeats_textual_tags(text: str) -> None:
    plain, spans = _textual_plain_and_spans(escape_markup(text))
    assert plain == _textual_expected(text)
    assert spans == []


def test_escape_markup_escapes_controls_too() -> None:
    out = escape_markup("\x1b[2J[b]")
    assert "\x1b" not in out
    assert _textual_plain_and_spans(out) == (r"\x1b[2J[b]", [])


def _random_texts(count: int) -> list[str]:
    rng = random.Random(20240611)
    alphabet = "[]\\/@=#$ bBx:\x1b\n\u202e'"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14))) for _ in range(count)]


#: a backslash right before a '[' that the text leaves open at its end (see escape_rich_markup)
_RICH_OPEN_AFTER_BACKSLASH = re.compile(r"\\\[(?:[a-z#/@][^\[\]]*)?\Z")


def _textual_expected(text: str) -> str:
    shown = display_text(text)
    return shown[:-1] + "\\x5c" if shown.endswith("\\") else shown


@pytest.mark.parametrize("template", ["{}", "[bold]{}[/bold]", "[@click=app.bell]{}[/] tail", "a [i]{}[/i][b]z[/b]"])
def test_escape_markup_round_trips_through_textual(template: str) -> None:
    reference = to_content(template.format("PLACEHOLDER"))
    for text in _random_texts(2000):
        content = to_content(template.format(escape_markup(text)))
        assert content.plain == reference.plain.replace("PLACEHOLDER", _textual_expected(text)), text
        if text:  # (an empty span is dropped)
            styles = [str(s.style) for s in content.spans]
            assert styles == [str(s.style) for s in reference.spans], text


def test_escape_markup_trailing_backslash_cannot_swallow_the_next_tag() -> None:
    content = to_content(f"[bold]{escape_markup('dir' + chr(92))}[/bold]")
    assert content.plain == "dir\\x5c"
    assert [str(s.style) for s in content.spans] == ["bold"]


def test_escape_rich_markup_agrees_with_rich_escape_on_ordinary_text() -> None:
    from rich.markup import escape as rich_escape

    for text in ["[@click=app.quit]x", "a[b]c", "[B] [1] [x]", "x\\", "plain", "[/]", "[#f00]x"]:
        assert escape_rich_markup(text) == rich_escape(display_text(text)), text


@pytest.mark.parametrize("template", ["[bold]{}[/bold]", "[@click=app.bell]{}[/]", "x[i]{}[/i]"])
def test_escape_rich_markup_round_trips_through_rich(template: str) -> None:
    extras = ["[@click=app.quit]x", "x\\", "x\\\\\\", "a\\[b]c", "b[/\\[", "[bold"]
    reference = rich_render(template.format("PLACEHOLDER"), emoji=False)
    for text in [*_random_texts(2000), *extras]:
        rendered = rich_render(template.format(escape_rich_markup(text)), emoji=False)
        if text:  # (an empty span is dropped)
            styles = [str(s.style) for s in rendered.spans]
            assert styles == [str(s.style) for s in reference.spans], text
        if _RICH_OPEN_AFTER_BACKSLASH.search(display_text(text)):
            continue  # documented: this backslash shows doubled, the price of staying safe
        assert rendered.plain == reference.plain.replace("PLACEHOLDER", display_text(text)), text


def test_escape_rich_markup_open_bracket_after_backslash_stays_safe() -> None:
    # "\\[bold" + "]" from the caller: one backslash would be literal and the tag real.
    rendered = rich_render(escape_rich_markup("a\\[bold") + "] tail")
    assert rendered.spans == []
    assert rendered.plain == "a\\[bold] tail"


def test_escape_rich_markup_click_action() -> None:
    text = "[@click=app.quit]x"
    out = escape_rich_markup(text)
    assert out == "\\[@click=app.quit]x"
    rendered = rich_render(out)
    assert rendered.plain == display_text(text) == text
    assert rendered.spans == []


def test_escape_rich_markup_open_bracket_closed_by_following_markup() -> None:
    # rich.markup.escape("x[bold") leaves the '[' alone, and "] tail" after it would close a tag.
    rendered = rich_render(escape_rich_markup("x[bold") + "] tail")
    assert rendered.plain == "x[bold] tail"
    assert rendered.spans == []


def test_markup_escapers_honour_max_len() -> None:
    assert escape_markup("[abcdef]", max_len=4) == "\\[ab…"
    assert escape_rich_markup("[abcdef]", max_len=4) == "\\[ab…"


# --------------------------------------------------------------------------------------------------
# safe_local_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    dst = tmp_path / "dst"
    dst.mkdir()
    return dst


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../x",
        "..",
        ".",
        "./x",
        "/etc/x",
        "/",
        "a/../../x",
        "a/..",
        "a/./b",
        "a//b",
        "a/b//",
        "//",
        "a\\b",
        "..\\x",
        "a\x00b",
        "\x00",
    ],
)
def test_unsafe_keys_are_refused(root: Path, key: str) -> None:
    with pytest.raises(UnsafePathError) as info:
        safe_local_path(root, key)
    assert isinstance(info.value, UsageError)
    assert exit_code_for(info.value) == ExitCode.USAGE == 2


def test_refusal_message_is_one_safe_line_naming_the_key(root: Path) -> None:
    key = "../\x1b[2J\nevil\u202e"
    with pytest.raises(UnsafePathError) as info:
        safe_local_path(root, key)
    message = str(info.value)
    assert display_text(key) in message
    assert "\x1b" not in message and "\n" not in message and "\u202e" not in message
    assert one_line(info.value) == message


def test_symlink_to_sibling_with_common_prefix_is_refused(tmp_path: Path, root: Path) -> None:
    sibling = tmp_path / "dst2"
    sibling.mkdir()
    (root / "link").symlink_to(Path("..") / "dst2")
    assert (root / "link" / "x").resolve().parent == sibling.resolve()  # sanity
    with pytest.raises(UnsafePathError, match="outside"):
        safe_local_path(root, "link/x")
    with pytest.raises(UnsafePathError):
        safe_local_path(root, "link/")


def test_symlink_to_absolute_outside_is_refused(tmp_path: Path, root: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "abs").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        safe_local_path(root, "abs/deep/file.txt")


def test_symlink_loop_is_refused_or_contained(root: Path) -> None:
    (root / "loop").symlink_to("loop")
    try:
        path = safe_local_path(root, "loop/x")
    except UnsafePathError:
        return
    assert path == root.resolve() / "loop" / "x"  # Python >= 3.13 resolves loops leniently


def test_sibling_prefix_is_not_within(tmp_path: Path, root: Path) -> None:
    sibling = tmp_path / "dst2"
    sibling.mkdir()
    assert not is_within(root, sibling / "x")
    assert not is_within(root, tmp_path)
    assert is_within(root, root)
    assert is_within(root, root / "a" / "b")
    assert is_within(str(root), os.fspath(root / "a"))


def test_is_within_follows_symlinks(tmp_path: Path, root: Path) -> None:
    (tmp_path / "dst2").mkdir()
    (root / "link").symlink_to(Path("..") / "dst2")
    assert not is_within(root, root / "link" / "x")


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("a/b/c.txt", ("a", "b", "c.txt")),
        ("file", ("file",)),
        ("dir/", ("dir",)),
        ("a/b/", ("a", "b")),
        ("日本語/ファイル.txt", ("日本語", "ファイル.txt")),
        ("📁/🐱.jpg", ("📁", "🐱.jpg")),
        (
            unicodedata.normalize("NFD", "café/é"),
            tuple(unicodedata.normalize("NFD", "café/é").split("/")),
        ),
        ("trailing space /x ", ("trailing space ", "x ")),
        ("   ", ("   ",)),
        ("...", ("...",)),
        (".hidden/a..b", (".hidden", "a..b")),
        ("a:b/[x]", ("a:b", "[x]")),
    ],
)
def test_safe_keys_map_under_root(root: Path, key: str, parts: tuple[str, ...]) -> None:
    path = safe_local_path(root, key)
    assert path == root.resolve().joinpath(*parts)
    assert path.is_absolute()
    assert is_within(root, path)


def test_root_given_as_str_and_relative_path(tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert safe_local_path(str(root), "a/b") == root.resolve() / "a" / "b"
    monkeypatch.chdir(tmp_path)
    path = safe_local_path("dst", "a/b.txt")
    assert path == (tmp_path / "dst").resolve() / "a" / "b.txt"
    assert path.is_absolute()
    assert safe_local_path(Path("dst"), "x/") == (tmp_path / "dst").resolve() / "x"
    with pytest.raises(UnsafePathError):
        safe_local_path("dst", "../dst2/x")


def test_root_need_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    assert safe_local_path(missing, "a/b") == missing.resolve() / "a" / "b"


def test_symlink_inside_root_is_kept_in_returned_path(root: Path) -> None:
    real = root / "real"
    real.mkdir()
    (root / "link").symlink_to("real")
    path = safe_local_path(root, "link/x")
    # Not resolved: the caller can still see the symlink and refuse to write through it.
    assert path == root.resolve() / "link" / "x"
    assert path.parent.is_symlink()


def test_symlinked_root_is_resolved(tmp_path: Path, root: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    assert safe_local_path(alias, "a") == root.resolve() / "a"


def test_local_write_errors_say_what_happened_with_the_documented_exit_code() -> None:
    import errno

    from tui.errors import ExitCode, exit_code_for, one_line, os_error

    cases = {
        errno.ENOSPC: ("no space left", ExitCode.PARTIAL),
        errno.EFBIG: ("too large", ExitCode.PARTIAL),
        errno.ENAMETOOLONG: ("name is too long", ExitCode.PARTIAL),
        errno.EROFS: ("read-only", ExitCode.PARTIAL),
        errno.EACCES: ("permission denied", ExitCode.AUTH),
        errno.ENOENT: ("No such file", ExitCode.NOT_FOUND),
    }
    for code, (words, exit_code) in cases.items():
        err = os_error(
            "put /x/y",
            FileNotFoundError(code, os.strerror(code)) if code == errno.ENOENT else OSError(code, os.strerror(code)),
        )
        assert words.lower() in one_line(err).lower(), (code, one_line(err))
        assert one_line(err).startswith("put /x/y: "), one_line(err)
        assert exit_code_for(err) == exit_code, code
