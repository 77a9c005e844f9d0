"""``backup --delete`` goes through the same delete gate as ``sync``: ``--max-delete`` takes a number or a
percentage of the destination, and ``--force`` lifts the refusal of an empty source too (the user means it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.sync.conftest import Cli, keys, write_tree

FILES = {f"{name}.txt": name.encode() * 100 for name in ("a", "b", "c", "d")}


def _backed_up(cli: Cli, bucket: Callable[..., str], tmp_path: Path) -> tuple[str, Path, str]:
    b = bucket("gate", versioned=False)
    src = tmp_path / "src"
    write_tree(src, FILES)
    cli.run("backup", src, f"s3://{b}/p").check(0)
    return b, src, f"s3://{b}/p"


def test_max_delete_as_a_percentage(cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path) -> None:
    b, src, dst = _backed_up(cli, bucket, tmp_path)
    (src / "a.txt").unlink()
    (src / "b.txt").unlink()
    low = cli.run("backup", "--delete", "--max-delete", "25%", src, dst)
    assert "refusing to delete 2 of 4 object(s) at the destination (limit 1)" in low.one_error_line(5), low
    assert keys(s3, b, "p/") == sorted(FILES)
    ok = cli.run("backup", "--delete", "--max-delete", "50%", src, dst).check(0)
    assert ok.summary()["deleted"] == 2, ok
    assert keys(s3, b, "p/") == ["c.txt", "d.txt"]


def test_force_empties_the_destination_from_an_empty_source(
    cli: Cli, s3: Any, bucket: Callable[..., str], tmp_path: Path
) -> None:
    b, _src, dst = _backed_up(cli, bucket, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = cli.run("backup", "--delete", empty, dst)
    line = refused.one_error_line(5)
    assert "refusing to delete 4 object(s): the source is empty" in line and "--force" in line, refused
    forced = cli.run("backup", "--delete", "--force", empty, dst).check(0)
    assert forced.summary()["deleted"] == 4, forced
    assert keys(s3, b, "p/") == []
