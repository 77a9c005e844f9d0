"""The resume journal for multipart uploads: a small sqlite file in the state directory.

An upload is identified by where it goes (remote, bucket, key), where it comes from (the source's absolute path,
size and mtime) and how it is cut (the part size). Re-running an interrupted upload of the same source finds its
row (``Journal.find``), checks the parts recorded here against the server's ListParts, and sends only the missing
ones; a successful upload removes its row (``Journal.finish``). A source that changed since (another size or mtime)
or a different part size does not match: its old row stays, listed by ``Journal.unfinished`` until
``cloudpane transfers --abort`` aborts it on the server.

What is stored: the remote's *name*, the endpoint URL without userinfo, query or fragment, bucket, key, the
multipart upload id, the source path, size and mtime, the part size, and each finished part's number, ETag and
size. Never credentials and never presigned URLs; the file is created with mode 0o600 all the same.

Concurrency: one ``Journal`` may be shared by asyncio tasks on one thread, or by threads (a lock serialises its
statements); several processes may use the same file (WAL mode, a 5 s busy timeout). Every call is a handful of
tiny statements, cheap enough to make synchronously from the event loop.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from tui.errors import StoreError

#: the journal's file name inside the state directory
FILE_NAME = "transfers.sqlite3"
#: the schema this code reads and writes (``PRAGMA user_version``)
SCHEMA_VERSION = 1
#: how long to wait for another process's write lock, in milliseconds
BUSY_TIMEOUT_MS = 5000

_SCHEMA = (
    # One row per unfinished multipart upload. The UNIQUE key is the upload's whole identity: a row for the same
    # destination and source path but another size, mtime or part size is a different (stale) upload and is kept
    # so that `transfers --abort` can still abort it on the server.
    """
    CREATE TABLE uploads (
        id        INTEGER PRIMARY KEY,
        remote    TEXT    NOT NULL,
        endpoint  TEXT    NOT NULL,
        bucket    TEXT    NOT NULL,
        key       TEXT    NOT NULL,
        upload_id TEXT    NOT NULL,
        source    TEXT    NOT NULL,
        size      INTEGER NOT NULL,
        mtime_ns  INTEGER NOT NULL,
        part_size INTEGER NOT NULL,
        created   TEXT    NOT NULL,
        UNIQUE (remote, bucket, key, source, size, mtime_ns, part_size)
    )
    """,
    """
    CREATE TABLE parts (
        upload INTEGER NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        etag   TEXT    NOT NULL,
        size   INTEGER NOT NULL,
        PRIMARY KEY (upload, number)
    ) WITHOUT ROWID
    """,
)

_COLUMNS = "id, remote, endpoint, bucket, key, upload_id, source, size, mtime_ns, part_size, created"

_Row = tuple[int, str, str, str, str, str, str, int, int, int, str]


@dataclass(frozen=True, slots=True)
class JournalUpload:
    """One unfinished multipart upload as the journal records it."""

    id: int
    remote: str  # the remote's name (e.g. "s3" or a profile name), never credentials
    endpoint: str  # the endpoint URL without userinfo, query or fragment ("" for the provider's default)
    bucket: str
    key: str
    upload_id: str
    source: str  # absolute local path of the source file
    size: int
    mtime_ns: int
    part_size: int
    created: datetime  # UTC


def safe_endpoint(endpoint: str) -> str:
    """``endpoint`` without userinfo (``user:secret@``), query string or fragment: nothing secret-looking is stored.

    Raises ``ValueError`` if an ``@`` is left after stripping (an endpoint too malformed to clean with certainty).
    """
    text = endpoint.strip()
    if not text:
        return ""
    parts = urllib.parse.urlsplit(text)
    netloc = parts.netloc.rpartition("@")[2]
    cleaned = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    if "@" in cleaned:
        raise ValueError("endpoint URL looks like it holds credentials; not stored in the transfer journal")
    return cleaned


def default_path() -> Path:
    """``<state dir>/transfers.sqlite3`` (``$CLOUDPANE_STATE_DIR``, else ``~/.local/state/cloudpane``)."""
    from tui.config import state_dir

    return state_dir() / FILE_NAME


def _source_path(source: str) -> str:
    # the same normalisation in find() and start(), so a relative path still matches its absolute row
    return os.path.abspath(source)


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction, taken at once (``BEGIN IMMEDIATE``) so that the busy timeout applies to it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _upload(row: _Row) -> JournalUpload:
    created = datetime.fromisoformat(row[10])
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return JournalUpload(
        id=row[0],
        remote=row[1],
        endpoint=row[2],
        bucket=row[3],
        key=row[4],
        upload_id=row[5],
        source=row[6],
        size=row[7],
        mtime_ns=row[8],
        part_size=row[9],
        created=created,
    )


class Journal:
    """The resume journal (see the module docstring). Use as a context manager or call ``close()``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = default_path() if path is None else path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            self._create_file()
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,  # autocommit; transactions are explicit (BEGIN IMMEDIATE)
                check_same_thread=False,
            )
        except (OSError, sqlite3.Error) as exc:
            raise self._error("cannot open", exc) from exc
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except (sqlite3.Error, StoreError) as exc:
            conn.close()
            if isinstance(exc, StoreError):
                raise
            raise self._error("cannot read", exc) from exc
        self._conn = conn

    # --- opening -----------------------------------------------------------------------------------

    def _error(self, what: str, exc: BaseException) -> StoreError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return StoreError(f"{what} the transfer journal {self.path}: {reason}")

    def _create_file(self) -> None:
        """Create the parent directories and an empty file with mode 0o600, before sqlite creates it 0o644."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # tighten a file left with wider permissions; another user's file is not ours to change
            if os.fstat(fd).st_mode & 0o077:
                with contextlib.suppress(OSError):
                    os.fchmod(fd, 0o600)
        finally:
            os.close(fd)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = self._user_version(conn)
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the transfer journal {self.path} was written by a newer cloudpane (schema {version}); "
                "upgrade cloudpane or remove the file"
            )
        with _transaction(conn):
            version = self._user_version(conn)  # another process may have created it meanwhile
            if version == 0:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def _user_version(conn: sqlite3.Connection) -> int:
        row = conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    # --- helpers -----------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the transfer journal {self.path} is closed")
        return self._conn

    def _fail(self, exc: sqlite3.Error) -> StoreError:
        return self._error("cannot update", exc)

    # --- the API -----------------------------------------------------------------------------------

    def find(
        self, *, remote: str, bucket: str, key: str, source: str, size: int, mtime_ns: int, part_size: int
    ) -> JournalUpload | None:
        """The unfinished upload of this very source (path, size, mtime) to this destination with this part size,
        or None. A changed source or another part size does not match; its row stays for ``transfers --abort``."""
        with self._lock:
            try:
                row = (
                    self._connection()
                    .execute(
                        f"SELECT {_COLUMNS} FROM uploads WHERE remote = ? AND bucket = ? AND key = ? AND source = ?"
                        " AND size = ? AND mtime_ns = ? AND part_size = ?",
                        (remote, bucket, key, _source_path(source), size, mtime_ns, part_size),
                    )
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return None if row is None else _upload(row)

    def start(
        self,
        *,
        remote: str,
        endpoint: str,
        bucket: str,
        key: str,
        upload_id: str,
        source: str,
        size: int,
        mtime_ns: int,
        part_size: int,
    ) -> JournalUpload:
        """Record a newly created multipart upload, with no parts yet.

        A row with the same identity (remote, bucket, key, source path, size, mtime, part size) is *replaced*,
        its recorded parts dropped: that is a restart after the server no longer knew the old upload id. Rows
        for the same destination and source path with another size, mtime or part size (a changed source) are
        left alone, so ``transfers --abort`` can still abort those uploads on the server.

        The endpoint is stored without userinfo, query or fragment (``safe_endpoint``).
        """
        if size < 0 or part_size <= 0:
            raise ValueError(f"invalid size {size} or part size {part_size}")
        if not upload_id:
            raise ValueError("empty upload id")
        clean_endpoint = safe_endpoint(endpoint)
        path = _source_path(source)
        created = datetime.now(UTC)
        identity = (remote, bucket, key, path, size, mtime_ns, part_size)
        with self._lock:
            conn = self._connection()
            try:
                with _transaction(conn):
                    # explicit delete of the parts: not relying on PRAGMA foreign_keys for the cascade
                    conn.execute(
                        "DELETE FROM parts WHERE upload IN (SELECT id FROM uploads WHERE remote = ? AND bucket = ?"
                        " AND key = ? AND source = ? AND size = ? AND mtime_ns = ? AND part_size = ?)",
                        identity,
                    )
                    row = conn.execute(
                        f"INSERT INTO uploads ({_COLUMNS.removeprefix('id, ')})"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (remote, bucket, key, source, size, mtime_ns, part_size) DO UPDATE SET"
                        " endpoint = excluded.endpoint, upload_id = excluded.upload_id, created = excluded.created"
                        " RETURNING id",
                        (
                            remote,
                            clean_endpoint,
                            bucket,
                            key,
                            upload_id,
                            path,
                            size,
                            mtime_ns,
                            part_size,
                            created.isoformat(),
                        ),
                    ).fetchone()
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return JournalUpload(
            id=int(row[0]),
            remote=remote,
            endpoint=clean_endpoint,
            bucket=bucket,
            key=key,
            upload_id=upload_id,
            source=path,
            size=size,
            mtime_ns=mtime_ns,
            part_size=part_size,
            created=created,
        )

    def part_done(self, upload: JournalUpload, number: int, etag: str, size: int) -> None:
        """Record part ``number`` (1-based) as uploaded; recording it again overwrites (idempotent).

        Does nothing if the upload is no longer in the journal (finished, or replaced by ``start`` with a new
        upload id, perhaps by another process): a stale handle never writes into another upload's parts.
        """
        if number < 1 or size < 0:
            raise ValueError(f"invalid part number {number} or size {size}")
        with self._lock:
            try:
                self._connection().execute(
                    "INSERT INTO parts (upload, number, etag, size)"
                    " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM uploads WHERE id = ? AND upload_id = ?)"
                    " ON CONFLICT (upload, number) DO UPDATE SET etag = excluded.etag, size = excluded.size",
                    (upload.id, number, etag, size, upload.id, upload.upload_id),
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc

    def parts(self, upload: JournalUpload) -> dict[int, tuple[str, int]]:
        """The parts recorded for ``upload``: number -> (ETag, size). Empty if the upload is no longer there."""
        with self._lock:
            try:
                rows = (
                    self._connection()
                    .execute(
                        "SELECT p.number, p.etag, p.size FROM parts p JOIN uploads u ON u.id = p.upload"
                        " WHERE u.id = ? AND u.upload_id = ? ORDER BY p.number",
                        (upload.id, upload.upload_id),
                    )
                    .fetchall()
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return {int(number): (str(etag), int(size)) for number, etag, size in rows}

    def finish(self, upload: JournalUpload) -> None:
        """Forget ``upload`` and its parts (after it completed, or was aborted). Idempotent."""
        with self._lock:
            conn = self._connection()
            try:
                with _transaction(conn):
                    conn.execute(
                        "DELETE FROM parts WHERE upload IN (SELECT id FROM uploads WHERE id = ? AND upload_id = ?)",
                        (upload.id, upload.upload_id),
                    )
                    conn.execute("DELETE FROM uploads WHERE id = ? AND upload_id = ?", (upload.id, upload.upload_id))
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc

    def unfinished(self) -> list[JournalUpload]:
        """Every upload still in the journal, oldest first."""
        with self._lock:
            try:
                rows = self._connection().execute(f"SELECT {_COLUMNS} FROM uploads ORDER BY created, id").fetchall()
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return [_upload(row) for row in rows]

    def close(self) -> None:
        """Close the file. Idempotent; any later call raises ``StoreError``."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
