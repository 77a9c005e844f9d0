"""Keys are untrusted: terminal escapes and bidi overrides are shown escaped, JSON keeps them exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli

ESC = "\x1b"
RLO = "\u202e"
EVIL_KEY = f"red{ESC}[31mtext/evil{RLO}gpj.exe"
#: CR and U+2028 would forge a line (moto cannot store LF in a key); U+009B is the one-byte C1 CSI
NEWLINE_KEY = "line1\rfake\u2028line\x9b2J"


def test_control_and_bidi_characters_are_escaped(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("evil")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key=EVIL_KEY, Body=b"evil")
    moto_s3.put_object(Bucket=bucket, Key=NEWLINE_KEY, Body=b"nl")
    keys = {o["Key"] for o in moto_s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {EVIL_KEY, NEWLINE_KEY}

    text, recursive, as_json, missing, download = moto_cli.run_many(
        ["ls", f"s3://{bucket}"],
        ["ls", "-r", f"s3://{bucket}"],
        ["ls", "-r", "--json", f"s3://{bucket}"],
        ["ls", f"s3://{bucket}/no{ESC}]52;c;aGk={ESC}\\such{RLO}key"],
        ["cp", "-r", f"s3://{bucket}/", "dl/"],
    )
    for r in (text, recursive, as_json, missing, download):
        for stream in (r.stdout, r.stderr):
            for ch in (ESC, RLO, "\r", "\u2028", "\x9b"):
                assert ch not in stream, r

    text.check(0)
    assert len(text.stdout_lines) == 2, text  # CR / U+2028 in a key do not forge a third line
    assert any(line.endswith("PRE red\\x1b[31mtext/") for line in text.stdout_lines), text

    recursive.check(0)
    assert len(recursive.stdout_lines) == 2, recursive
    shown = {line.split(maxsplit=3)[-1] for line in recursive.stdout_lines}
    assert any(s.endswith("red\\x1b[31mtext/evil\\u202egpj.exe") for s in shown), recursive
    assert any(s.endswith("line1\\rfake\\u2028line\\x9b2J") for s in shown), recursive

    as_json.check(0)
    assert as_json.stdout.isascii(), as_json
    rows = [json.loads(line) for line in as_json.stdout_lines]
    assert sorted(row["key"] for row in rows) == sorted([EVIL_KEY, NEWLINE_KEY]), as_json

    # an error message that echoes the typed location escapes it too, and stays one line
    line = missing.one_error_line(4)
    assert "\\x1b" in line and "\\u202e" in line, missing

    # a download keeps the exact name on disk while its progress lines show it escaped
    download.check(0)
    assert len(download.stdout_lines) == 2, download
    assert (tmp_path / "dl" / EVIL_KEY).read_bytes() == b"evil"
    assert (tmp_path / "dl" / NEWLINE_KEY).read_bytes() == b"nl"
