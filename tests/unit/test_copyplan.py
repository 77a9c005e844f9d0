"""Where F5/F6 put what (tui.ui.copyplan): folders as themselves, copy-as for one entry onto a name, never a folder
into itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.errors import UsageError
from tui.locations import Location, parse_location
from tui.ui.copyplan import Batch, plan


def loc(text: str) -> Location:
    return parse_location(text, known_remotes={})


def test_folders_go_as_themselves_files_beside_them() -> None:
    got = plan([loc("/src/a.txt")], [loc("/src/bigset/"), loc("/src/two/")], loc("s3://bkt/incoming/"))
    assert got == [
        Batch([loc("/src/a.txt")], loc("s3://bkt/incoming/")),
        Batch([loc("/src/bigset/")], loc("s3://bkt/incoming/bigset/")),
        Batch([loc("/src/two/")], loc("s3://bkt/incoming/two/")),
    ]
    assert got[1].dst.is_prefix and got[2].dst.key == "incoming/two/"


def test_one_entry_onto_a_name_is_copied_as_that_name() -> None:
    assert plan([loc("s3://bkt/x.txt")], [], loc("s3://bkt/y.txt")) == [
        Batch([loc("s3://bkt/x.txt")], loc("s3://bkt/y.txt"), False)
    ]
    (batch,) = plan([], [loc("s3://bkt/set/")], loc("s3://cbk/renamed"))
    assert batch.dst.key == "renamed/" and batch.recursive


def test_a_bucket_root_is_a_folder() -> None:
    (batch,) = plan([], [loc("/src/bigset/")], loc("s3://bkt"))
    assert batch.dst.bucket == "bkt" and batch.dst.key == "bigset/"


def test_never_into_itself(tmp_path: Path) -> None:
    (tmp_path / "set" / "inner").mkdir(parents=True)
    with pytest.raises(UsageError, match="into itself"):
        plan([], [loc("s3://bkt/set/")], loc("s3://bkt/set/inner/"))
    with pytest.raises(UsageError, match="into itself"):
        plan([], [loc(f"{tmp_path}/set/")], loc(f"{tmp_path}/set/inner/"))
    # a sibling whose name starts the same is not inside
    assert plan([], [loc("s3://bkt/set/")], loc("s3://bkt/settled/"))[0].dst.key == "settled/set/"
    # another bucket is not inside
    assert plan([], [loc("s3://bkt/set/")], loc("s3://cbk/set/"))[0].dst.key == "set/set/"
