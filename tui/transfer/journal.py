"""The resume journal for multipart uploads: a small sqlite file in the state directory.

An upload is identified by where it goes (remote, bucket, key), where it comes from (the source's absolute path,
size and mtime) and how it is cut (the part size). Re-running an interrupted upload of the same source finds its
row (``Journal.find``), checks the parts recorded here against the server's ListParts, and sends only the missing
ones; a successful upload removes its row (``Journal.finish``). A source that changed since (another size or mtime)
or a different part size does not match: its old row stays, listed by ``Journal.unfinished`` until
``cloudpane transfers --abort`` aborts it on the server.

No untracked uploads: the row is written *before* CreateMultipartUpload (``Journal.intend``: an intent, no upload
id yet) and the id filled in once the server answered (``Journal.started``). A process killed in between leaves an
intent row; whoever finds it later (the next upload to that key, or ``transfers --abort``) aborts the server's
uploads of that key that started after the intent was written and are not journaled (``Journal.intents``).

One owner: a row records the process that owns it (pid and start time, so a reused pid is not mistaken for the
owner). ``find`` only hands out (and claims) a row whose owner is dead or is this process, and never a row this
``Journal`` holds already: a second live process uploading the same file starts its own upload.

What is stored: the remote's *name*, the endpoint URL without userinfo, query or fragment, bucket, key, the
multipart upload id, the source path, size and mtime, the part size, and each finished part's number, ETag and
size, and the destination's kind (``s3`` or ``azure``: an endpoint given as ``azure+<account URL>``, as
``AzureStore.journal_target`` gives it, is an Azure row; schema 3, older files are migrated with every row ``s3``).
Azure block uploads have no upload id on the service: theirs is synthetic (a nonce naming the blocks, and the
metadata to commit with). Never credentials and never presigned URLs; the file is created with mode 0o600 all
the same.

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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

from tui.errors import StoreError

#: the journal's file name inside the state directory
FILE_NAME = "transfers.sqlite3"
#: the schema this code reads and writes (``PRAGMA user_version``)
SCHEMA_VERSION = 3
#: a store's ``journal_target`` endpoint starting with this is an Azure account (the row's kind is "azure")
AZURE_PREFIX = "azure+"
#: how long to wait for another process's write lock, in milliseconds
BUSY_TIMEOUT_MS = 5000

_UPLOADS = """
    CREATE TABLE {name} (
        id        INTEGER PRIMARY KEY,
        remote    TEXT    NOT NULL,
        endpoint  TEXT    NOT NULL,
        bucket    TEXT    NOT NULL,
        key       TEXT    NOT NULL,
        upload_id TEXT,
        source    TEXT    NOT NULL,
        size      INTEGER NOT NULL,
        mtime_ns  INTEGER NOT NULL,
        part_size INTEGER NOT NULL,
        created   TEXT    NOT NULL,
        owner     TEXT    NOT NULL DEFAULT '',
        md5       TEXT,
        kind      TEXT    NOT NULL DEFAULT 's3'
    )
    """
_SCHEMA = (
    # One row per unfinished multipart upload, or per intent to start one (upload_id NULL). Several rows may share
    # an identity: two live processes uploading the same file each own their upload.
    _UPLOADS.format(name="uploads"),
    "CREATE INDEX uploads_by_target ON uploads (remote, bucket, key)",
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

_COLUMNS = "id, remote, endpoint, bucket, key, upload_id, source, size, mtime_ns, part_size, created, owner, md5, kind"

_Row = tuple[int, str, str, str, str, str | None, str, int, int, int, str, str, str | None, str]


def _start_time(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from /proc), "" where that cannot be known."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    # the command name (field 2) is in parentheses and may hold spaces: split after its closing one
    fields = raw[raw.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else ""


def _proc_state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    fields = raw[raw.rfind(b")") + 2 :].split()
    return fields[0].decode() if fields else ""


def owner_token(pid: int | None = None) -> str:
    """This process (or ``pid``) as the journal records an owner: ``pid:start time``."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{_start_time(pid)}"


def owner_alive(owner: str) -> bool:
    """Whether the process recorded as ``owner`` still runs (a zombie, or a reused pid, is not it)."""
    pid_text, _, started = owner.partition(":")
    if not pid_text.isdigit() or int(pid_text) <= 0:
        return False
    pid = int(pid_text)
    if owner == owner_token():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return False
    if _proc_state(pid) == "Z":
        return False
    return not started or _start_time(pid) in ("", started)


@dataclass(frozen=True, slots=True)
class JournalUpload:
    """One unfinished multipart upload as the journal records it."""

    id: int
    remote: str  # the remote's name (e.g. "s3" or a profile name), never credentials
    endpoint: str  # the endpoint URL without userinfo, query or fragment ("" for the provider's default)
    bucket: str
    key: str
    upload_id: str | None  # None: an intent, written before CreateMultipartUpload answered
    source: str  # absolute local path of the source file
    size: int
    mtime_ns: int
    part_size: int
    created: datetime  # UTC
    owner: str = ""  # the owning process: "pid:start time" (owner_token)
    md5: str | None = None  # the whole-file MD5 (hex) sent as md5chksum when the upload was created
    kind: Literal["s3", "azure"] = "s3"  # the destination's kind: "s3" or "azure" (a Location kind)


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
        owner=row[11],
        md5=row[12],
        kind="azure" if row[13] == "azure" else "s3",
    )


class Journal:
    """The resume journal (see the module docstring). Use as a context manager or call ``close()``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = default_path() if path is None else path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        #: rows this Journal has handed out (claimed, intended or started) and not finished or released
        self._held: set[int] = set()
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
        # a rebuilt table must not cascade-delete the parts of the old one
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            with _transaction(conn):
                version = self._user_version(conn)  # another process may have created it meanwhile
                if version == 0:
                    for statement in _SCHEMA:
                        conn.execute(statement)
                elif version in (1, 2):
                    self._rebuild(conn, version)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            conn.execute("PRAGMA foreign_keys = ON")

    @staticmethod
    def _rebuild(conn: sqlite3.Connection, version: int) -> None:
        """Bring a v1 or v2 file to v3; every existing row is an S3 upload (kind ``s3``)."""
        if version == 1:
            # v1 had a UNIQUE identity (one upload per source and destination), no owner, no intents
            conn.execute(_UPLOADS.format(name="uploads_v3"))
            conn.execute(
                "INSERT INTO uploads_v3 (id, remote, endpoint, bucket, key, upload_id, source, size, mtime_ns,"
                " part_size, created) SELECT id, remote, endpoint, bucket, key, upload_id, source, size,"
                " mtime_ns, part_size, created FROM uploads"
            )
            conn.execute("DROP TABLE uploads")
            conn.execute("ALTER TABLE uploads_v3 RENAME TO uploads")
            conn.execute("CREATE INDEX uploads_by_target ON uploads (remote, bucket, key)")
        else:
            # v2 had no kind: every row was an S3 upload (Azure uploads were not journaled)
            conn.execute("ALTER TABLE uploads ADD COLUMN kind TEXT NOT NULL DEFAULT 's3'")

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
        """The unfinished upload of this very source (path, size, mtime) to this destination with this part size
        that no other live process owns, claimed for this process; or None. A changed source or another part
        size does not match; its row stays for ``transfers --abort``. Intents (no upload id) are not returned."""
        me = owner_token()
        with self._lock:
            conn = self._connection()
            try:
                rows = conn.execute(
                    f"SELECT {_COLUMNS} FROM uploads WHERE remote = ? AND bucket = ? AND key = ? AND source = ?"
                    " AND size = ? AND mtime_ns = ? AND part_size = ? AND upload_id IS NOT NULL ORDER BY id",
                    (remote, bucket, key, _source_path(source), size, mtime_ns, part_size),
                ).fetchall()
                for row in rows:
                    found = _upload(row)
                    if found.id in self._held or (found.owner != me and owner_alive(found.owner)):
                        continue
                    # claim it: only if nobody else claimed it since we read it
                    with _transaction(conn):
                        claimed = conn.execute(
                            "UPDATE uploads SET owner = ? WHERE id = ? AND owner = ?", (me, found.id, found.owner)
                        ).rowcount
                    if claimed:
                        self._held.add(found.id)
                        return replace(found, owner=me)
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return None

    def intend(
        self,
        *,
        remote: str,
        endpoint: str,
        bucket: str,
        key: str,
        source: str,
        size: int,
        mtime_ns: int,
        part_size: int,
        md5: str | None = None,
    ) -> JournalUpload:
        """Record that this process is about to create a multipart upload (before CreateMultipartUpload), so that
        a kill before ``started`` still leaves a trace. The endpoint is stored without userinfo, query or fragment
        (``safe_endpoint``)."""
        if size < 0 or part_size <= 0:
            raise ValueError(f"invalid size {size} or part size {part_size}")
        kind: Literal["s3", "azure"] = "s3"
        if endpoint.startswith(AZURE_PREFIX):
            # an Azure store's journal_target marks its endpoint (the engine passes it through unchanged)
            kind, endpoint = "azure", endpoint[len(AZURE_PREFIX) :]
        clean_endpoint = safe_endpoint(endpoint)
        path = _source_path(source)
        created = datetime.now(UTC)
        me = owner_token()
        with self._lock:
            conn = self._connection()
            try:
                with _transaction(conn):
                    row = conn.execute(
                        "INSERT INTO uploads (remote, endpoint, bucket, key, upload_id, source, size, mtime_ns,"
                        " part_size, created, owner, md5, kind) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " RETURNING id",
                        (
                            remote,
                            clean_endpoint,
                            bucket,
                            key,
                            path,
                            size,
                            mtime_ns,
                            part_size,
                            created.isoformat(),
                            me,
                            md5,
                            kind,
                        ),
                    ).fetchone()
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
            self._held.add(int(row[0]))
        return JournalUpload(
            id=int(row[0]),
            remote=remote,
            endpoint=clean_endpoint,
            bucket=bucket,
            key=key,
            upload_id=None,
            source=path,
            size=size,
            mtime_ns=mtime_ns,
            part_size=part_size,
            created=created,
            owner=me,
            md5=md5,
            kind=kind,
        )

    def started(self, intent: JournalUpload, upload_id: str) -> JournalUpload:
        """Fill in the upload id the server gave for ``intent``."""
        if not upload_id:
            raise ValueError("empty upload id")
        with self._lock:
            try:
                self._connection().execute(
                    "UPDATE uploads SET upload_id = ? WHERE id = ? AND upload_id IS NULL", (upload_id, intent.id)
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return replace(intent, upload_id=upload_id)

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
        md5: str | None = None,
    ) -> JournalUpload:
        """Record a created multipart upload in one go (``intend`` then ``started``), owned by this process."""
        if not upload_id:
            raise ValueError("empty upload id")
        intent = self.intend(
            remote=remote,
            endpoint=endpoint,
            bucket=bucket,
            key=key,
            source=source,
            size=size,
            mtime_ns=mtime_ns,
            part_size=part_size,
            md5=md5,
        )
        return self.started(intent, upload_id)

    def intents(
        self, *, remote: str | None = None, bucket: str | None = None, key: str | None = None
    ) -> list[JournalUpload]:
        """Intent rows (no upload id) whose owner is dead: a process was killed between writing the intent and
        recording the upload id. Filtered by destination when given."""
        with self._lock:
            try:
                rows = (
                    self._connection()
                    .execute(f"SELECT {_COLUMNS} FROM uploads WHERE upload_id IS NULL ORDER BY created, id")
                    .fetchall()
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        found = [_upload(row) for row in rows]
        return [
            u
            for u in found
            if u.id not in self._held
            and not owner_alive(u.owner)
            and remote in (None, u.remote)
            and bucket in (None, u.bucket)
            and key in (None, u.key)
        ]

    def live_intents(self, *, remote: str, bucket: str, key: str) -> list[JournalUpload]:
        """Intents for this destination whose owner still runs (this process included): their upload may be on
        the server already, not yet journaled."""
        with self._lock:
            try:
                rows = (
                    self._connection()
                    .execute(
                        f"SELECT {_COLUMNS} FROM uploads WHERE upload_id IS NULL AND remote = ? AND bucket = ?"
                        " AND key = ? ORDER BY id",
                        (remote, bucket, key),
                    )
                    .fetchall()
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return [u for u in map(_upload, rows) if owner_alive(u.owner)]

    def upload_ids(self) -> set[str]:
        """Every upload id in the journal (whoever owns it)."""
        with self._lock:
            try:
                rows = (
                    self._connection().execute("SELECT upload_id FROM uploads WHERE upload_id IS NOT NULL").fetchall()
                )
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
        return {str(r[0]) for r in rows}

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
                    " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM uploads WHERE id = ? AND upload_id IS ?)"
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
                        " WHERE u.id = ? AND u.upload_id IS ? ORDER BY p.number",
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
                        "DELETE FROM parts WHERE upload IN (SELECT id FROM uploads WHERE id = ? AND upload_id IS ?)",
                        (upload.id, upload.upload_id),
                    )
                    conn.execute("DELETE FROM uploads WHERE id = ? AND upload_id IS ?", (upload.id, upload.upload_id))
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
            self._held.discard(upload.id)

    def release(self, upload: JournalUpload) -> None:
        """This Journal no longer uses ``upload`` (kept for a resume): another task or process may claim it once
        this process is gone."""
        with self._lock:
            self._held.discard(upload.id)

    def unfinished(self) -> list[JournalUpload]:
        """Every upload (and intent) still in the journal, oldest first."""
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
