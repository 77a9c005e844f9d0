"""tui.transfer.journal: the sqlite resume journal for multipart uploads."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tui.errors import StoreError, one_line
from tui.transfer.journal import (
    FILE_NAME,
    SCHEMA_VERSION,
    Journal,
    JournalUpload,
    default_path,
    owner_alive,
    owner_token,
    safe_endpoint,
)

MiB = 1024 * 1024
SOURCE = "/data/big.iso"


def _identity(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "remote": "s3",
        "bucket": "bkt",
        "key": "dir/big.iso",
        "source": SOURCE,
        "size": 100 * MiB,
        "mtime_ns": 1_700_000_000_123_456_789,
        "part_size": 8 * MiB,
    }
    values.update(overrides)
    return values


def _start(
    journal: Journal, upload_id: str = "UPLOAD-1", endpoint: str = "http://127.0.0.1:9000", **overrides: Any
) -> JournalUpload:
    """A started upload, then released (as a run that was interrupted leaves it): ``find`` may hand it out."""
    upload = journal.start(endpoint=endpoint, upload_id=upload_id, **_identity(**overrides))
    journal.release(upload)
    return upload


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "nested" / FILE_NAME


@pytest.fixture
def journal(path: Path) -> Iterator[Journal]:
    with Journal(path) as j:
        yield j


def test_round_trip(journal: Journal, path: Path) -> None:
    before = datetime.now(UTC)
    upload = _start(journal)
    assert upload.upload_id == "UPLOAD-1"
    assert upload.endpoint == "http://127.0.0.1:9000"
    assert upload.created.tzinfo is not None
    assert before - timedelta(seconds=1) <= upload.created <= datetime.now(UTC) + timedelta(seconds=1)

    found = journal.find(**_identity())
    assert found == upload

    journal.part_done(upload, 1, '"etag-1"', 8 * MiB)
    journal.part_done(upload, 3, '"etag-3"', 8 * MiB)
    assert journal.parts(upload) == {1: ('"etag-1"', 8 * MiB), 3: ('"etag-3"', 8 * MiB)}

    # a fresh instance reads back the same thing
    journal.close()
    with Journal(path) as again:
        assert again.find(**_identity()) == upload
        assert again.parts(upload) == {1: ('"etag-1"', 8 * MiB), 3: ('"etag-3"', 8 * MiB)}


def test_missing_row_is_none(journal: Journal) -> None:
    assert journal.find(**_identity()) is None
    assert journal.unfinished() == []


@pytest.mark.parametrize(
    "change",
    [
        {"size": 100 * MiB + 1},
        {"mtime_ns": 1_700_000_000_123_456_790},
        {"part_size": 16 * MiB},
        {"remote": "other"},
        {"bucket": "other"},
        {"key": "dir/other.iso"},
        {"source": "/data/other.iso"},
    ],
)
def test_find_mismatch(journal: Journal, change: dict[str, Any]) -> None:
    upload = _start(journal)
    assert journal.find(**_identity(**change)) is None
    # the old row stays (for `transfers --abort`)
    assert journal.unfinished() == [upload]


def test_changed_source_keeps_the_old_upload(journal: Journal) -> None:
    old = _start(journal, upload_id="OLD")
    journal.part_done(old, 1, "e1", 8 * MiB)
    new = _start(journal, upload_id="NEW", size=200 * MiB)
    assert new.id != old.id
    assert {u.upload_id for u in journal.unfinished()} == {"OLD", "NEW"}
    assert journal.parts(old) == {1: ("e1", 8 * MiB)}
    assert journal.parts(new) == {}


def test_same_source_twice_is_two_uploads(journal: Journal) -> None:
    """Two uploads of one file to one key (two processes) are two rows: neither overwrites the other's."""
    old = _start(journal, upload_id="OLD", endpoint="http://a:1")
    journal.part_done(old, 1, "e1", 8 * MiB)
    new = _start(journal, upload_id="NEW", endpoint="http://b:2")
    assert [u.upload_id for u in journal.unfinished()] == ["OLD", "NEW"]
    assert journal.parts(old) == {1: ("e1", 8 * MiB)}
    assert journal.parts(new) == {}
    # find claims the oldest free one, then the next; then none is left to claim
    assert journal.find(**_identity()) == old
    assert journal.find(**_identity()) == new
    assert journal.find(**_identity()) is None
    journal.finish(old)
    assert journal.unfinished() == [new]


def test_part_done_is_idempotent(journal: Journal) -> None:
    upload = _start(journal)
    journal.part_done(upload, 2, "first", 8 * MiB)
    journal.part_done(upload, 2, "first", 8 * MiB)
    assert journal.parts(upload) == {2: ("first", 8 * MiB)}
    journal.part_done(upload, 2, "second", 4 * MiB)
    assert journal.parts(upload) == {2: ("second", 4 * MiB)}


def test_part_done_validates(journal: Journal) -> None:
    upload = _start(journal)
    with pytest.raises(ValueError):
        journal.part_done(upload, 0, "e", 1)
    with pytest.raises(ValueError):
        journal.part_done(upload, 1, "e", -1)


def test_finish_clears(journal: Journal, path: Path) -> None:
    upload = _start(journal)
    other = _start(journal, upload_id="OTHER", key="dir/other.iso")
    journal.part_done(upload, 1, "e1", 8 * MiB)
    journal.part_done(other, 1, "o1", 8 * MiB)
    journal.finish(upload)
    journal.finish(upload)  # idempotent
    assert journal.find(**_identity()) is None
    assert journal.parts(upload) == {}
    assert journal.unfinished() == [other]
    assert journal.parts(other) == {1: ("o1", 8 * MiB)}
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM parts WHERE upload = ?", (upload.id,)).fetchone() == (0,)


def test_unfinished_lists_oldest_first(journal: Journal) -> None:
    a = _start(journal, upload_id="A", key="a")
    b = _start(journal, upload_id="B", key="b", remote="work")
    c = _start(journal, upload_id="C", key="c", bucket="other")
    assert journal.unfinished() == [a, b, c]
    journal.finish(b)
    assert journal.unfinished() == [a, c]


def test_two_instances_see_each_other(path: Path) -> None:
    with Journal(path) as one, Journal(path) as two:
        upload = _start(one)
        assert two.find(**_identity()) == upload
        two.part_done(upload, 1, "e1", 8 * MiB)
        assert one.parts(upload) == {1: ("e1", 8 * MiB)}
        one.part_done(upload, 2, "e2", 8 * MiB)
        assert two.parts(upload) == {1: ("e1", 8 * MiB), 2: ("e2", 8 * MiB)}
        two.finish(upload)
        assert one.unfinished() == []
        assert one.find(**_identity()) is None


def test_wal_mode_and_schema_version(journal: Journal, path: Path) -> None:
    _start(journal)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_threads_share_one_journal(journal: Journal) -> None:
    upload = _start(journal)
    errors: list[BaseException] = []

    def work(first: int) -> None:
        try:
            for number in range(first, first + 50):
                journal.part_done(upload, number, f"e{number}", 1)
        except (StoreError, sqlite3.Error) as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(1 + 50 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(journal.parts(upload)) == list(range(1, 201))


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (
            "https://AKIAEXAMPLE:s3cr3t@minio.example.com:9000/base?X-Amz-Signature=abc#frag",
            "https://minio.example.com:9000/base",
        ),
        ("http://user@127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("https://s3.example.com/?token=s3cr3t", "https://s3.example.com/"),
        ("https://s3.example.com", "https://s3.example.com"),
        ("", ""),
    ],
)
def test_endpoint_userinfo_and_query_stripped(journal: Journal, path: Path, given: str, stored: str) -> None:
    upload = _start(journal, endpoint=given)
    assert upload.endpoint == stored
    assert journal.unfinished()[0].endpoint == stored
    journal.close()
    raw = b"".join(p.read_bytes() for p in path.parent.iterdir())  # the database, and a WAL if one is left
    for secret in (b"s3cr3t", b"AKIAEXAMPLE", b"X-Amz-Signature", b"frag", b"user@"):
        assert secret not in raw


def test_safe_endpoint_rejects_what_it_cannot_clean() -> None:
    with pytest.raises(ValueError):
        safe_endpoint("user:s3cr3t@host:9000")  # no scheme: urlsplit sees no netloc
    assert safe_endpoint("  https://h:1/p  ") == "https://h:1/p"


def test_relative_source_is_made_absolute(journal: Journal, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    upload = _start(journal, source="big.iso")
    assert upload.source == str(tmp_path / "big.iso")
    assert journal.find(**_identity(source=str(tmp_path / "big.iso"))) == upload
    journal.release(upload)
    assert journal.find(**_identity(source="big.iso")) == upload


def test_file_permissions(journal: Journal, path: Path) -> None:
    _start(journal)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0


def test_existing_loose_permissions_are_tightened(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.touch(mode=0o644)
    path.chmod(0o644)
    Journal(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_corrupt_file_is_a_store_error(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, just some junk " * 200)
    with pytest.raises(StoreError) as info:
        Journal(path)
    message = one_line(info.value)
    assert str(path) in message
    assert "\n" not in str(info.value)


def test_newer_schema_is_a_store_error(path: Path) -> None:
    Journal(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        Journal(path)


def test_unusable_directory_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError) as info:
        Journal(blocker / FILE_NAME)
    assert str(blocker / FILE_NAME) in str(info.value)


def test_closed_journal_raises(path: Path) -> None:
    journal = Journal(path)
    journal.close()
    journal.close()  # idempotent
    with pytest.raises(StoreError):
        journal.unfinished()


def test_default_path_is_in_the_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLOUDPANE_STATE_DIR", str(tmp_path / "xdg-state"))
    assert default_path() == tmp_path / "xdg-state" / FILE_NAME
    with Journal() as journal:
        assert journal.path == tmp_path / "xdg-state" / FILE_NAME
        _start(journal)
    assert (tmp_path / "xdg-state" / FILE_NAME).is_file()


# --- one owner per upload; intents ---------------------------------------------------------------------------


def _set_owner(path: Path, upload: JournalUpload, owner: str) -> None:
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE uploads SET owner = ? WHERE id = ?", (owner, upload.id))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_an_upload_owned_by_a_live_process_is_not_handed_out(journal: Journal, path: Path) -> None:
    upload = _start(journal)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _set_owner(path, upload, owner_token(other.pid))
        assert owner_alive(owner_token(other.pid))
        assert journal.find(**_identity()) is None, "another live process's upload was handed out"
    finally:
        other.kill()
        other.wait()
    # once that process is gone the upload is free for a resume, and is claimed by this process
    assert not owner_alive(owner_token(other.pid))
    found = journal.find(**_identity())
    assert found is not None and found.id == upload.id and found.owner == owner_token()
    assert journal.unfinished()[0].owner == owner_token()


def test_a_reused_pid_is_not_the_owner(journal: Journal, path: Path) -> None:
    upload = _start(journal)
    # this very pid, but a process that started at another time: the pid was reused
    _set_owner(path, upload, f"{os.getpid()}:1")
    assert not owner_alive(f"{os.getpid()}:1")
    assert journal.find(**_identity()) is not None
    assert not owner_alive(f"{_dead_pid()}:")
    assert not owner_alive("")


def test_an_intent_is_kept_until_started_or_finished(journal: Journal, path: Path) -> None:
    intent = journal.intend(endpoint="http://e:1", md5="ab" * 16, **_identity())
    assert intent.upload_id is None and intent.md5 == "ab" * 16
    assert journal.find(**_identity()) is None, "an intent has no upload to resume"
    assert [u.id for u in journal.unfinished()] == [intent.id]
    # our own intent, in use by this Journal: not an orphan
    assert journal.intents() == []
    started = journal.started(intent, "UP-1")
    assert started.upload_id == "UP-1"
    journal.part_done(started, 1, "e1", 8 * MiB)
    assert journal.parts(started) == {1: ("e1", 8 * MiB)}
    assert journal.upload_ids() == {"UP-1"}
    assert journal.unfinished()[0].md5 == "ab" * 16


def test_intents_of_dead_processes_are_listed(journal: Journal, path: Path) -> None:
    mine = journal.intend(endpoint="", **_identity())
    with Journal(path) as other:
        orphan = other.intend(endpoint="", **_identity(key="k2"))
        _set_owner(path, orphan, f"{_dead_pid()}:")
    assert [i.id for i in journal.intents()] == [orphan.id]
    assert [i.id for i in journal.intents(key="k2")] == [orphan.id]
    assert journal.intents(key=mine.key) == []
    journal.finish(orphan)
    assert journal.intents() == []
    assert [u.id for u in journal.unfinished()] == [mine.id]


def test_a_version_1_journal_is_migrated_with_its_parts(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as raw:
        raw.execute(
            "CREATE TABLE uploads (id INTEGER PRIMARY KEY, remote TEXT NOT NULL, endpoint TEXT NOT NULL, bucket TEXT"
            " NOT NULL, key TEXT NOT NULL, upload_id TEXT NOT NULL, source TEXT NOT NULL, size INTEGER NOT NULL,"
            " mtime_ns INTEGER NOT NULL, part_size INTEGER NOT NULL, created TEXT NOT NULL,"
            " UNIQUE (remote, bucket, key, source, size, mtime_ns, part_size))"
        )
        raw.execute(
            "CREATE TABLE parts (upload INTEGER NOT NULL REFERENCES uploads (id) ON DELETE CASCADE, number INTEGER"
            " NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (upload, number)) WITHOUT ROWID"
        )
        ident = _identity()
        raw.execute(
            "INSERT INTO uploads VALUES (7, 's3', '', ?, ?, 'OLD-UP', ?, ?, ?, ?, '2026-01-01T00:00:00+00:00')",
            (ident["bucket"], ident["key"], ident["source"], ident["size"], ident["mtime_ns"], ident["part_size"]),
        )
        raw.execute("INSERT INTO parts VALUES (7, 1, 'e1', 8)")
        raw.execute("PRAGMA user_version = 1")
    with Journal(path) as journal:
        found = journal.find(**_identity())  # no owner recorded: free to resume
        assert found is not None and (found.id, found.upload_id, found.md5, found.kind) == (7, "OLD-UP", None, "s3")
        assert journal.parts(found) == {1: ("e1", 8)}
        assert SCHEMA_VERSION == 3
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (3,)


def test_a_version_2_journal_gets_a_kind_and_keeps_its_rows(path: Path) -> None:
    """Schema 3 adds the row's kind (s3 or azure); every row of a v2 file was an S3 upload."""
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as raw:
        raw.execute(
            "CREATE TABLE uploads (id INTEGER PRIMARY KEY, remote TEXT NOT NULL, endpoint TEXT NOT NULL, bucket TEXT"
            " NOT NULL, key TEXT NOT NULL, upload_id TEXT, source TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns"
            " INTEGER NOT NULL, part_size INTEGER NOT NULL, created TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '',"
            " md5 TEXT)"
        )
        raw.execute("CREATE INDEX uploads_by_target ON uploads (remote, bucket, key)")
        raw.execute(
            "CREATE TABLE parts (upload INTEGER NOT NULL REFERENCES uploads (id) ON DELETE CASCADE, number INTEGER"
            " NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (upload, number)) WITHOUT ROWID"
        )
        ident = _identity()
        raw.execute(
            "INSERT INTO uploads VALUES (9, 's3', '', ?, ?, 'V2-UP', ?, ?, ?, ?, '2026-01-01T00:00:00+00:00', '',"
            " 'abc')",
            (ident["bucket"], ident["key"], ident["source"], ident["size"], ident["mtime_ns"], ident["part_size"]),
        )
        raw.execute("INSERT INTO parts VALUES (9, 2, 'e2', 8)")
        raw.execute("PRAGMA user_version = 2")
    with Journal(path) as journal:
        found = journal.find(**_identity())
        assert found is not None and (found.id, found.upload_id, found.md5, found.kind) == (9, "V2-UP", "abc", "s3")
        assert journal.parts(found) == {2: ("e2", 8)}
        # an Azure store's journal_target marks its endpoint: the row is an Azure one, the URL stored without it
        azure = journal.intend(**{**_identity(key="az-key"), "endpoint": "azure+http://127.0.0.1:1/acct"})
        assert (azure.kind, azure.endpoint) == ("azure", "http://127.0.0.1:1/acct")
        assert {(u.key, u.kind, u.endpoint) for u in journal.unfinished()} == {
            (ident["key"], "s3", ""),
            ("az-key", "azure", "http://127.0.0.1:1/acct"),
        }
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (3,)
