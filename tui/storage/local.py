"""The local filesystem as a store: keys are ``/``-separated paths relative to a root directory.

Every key goes through ``safe_local_path``, so no key (from a listing of another store, say) can write outside the
root. Writes go to a temporary name in the destination directory and are renamed at the end.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import hashlib
import os
import shutil
import stat as stat_mod
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from tui.errors import (
    ConflictError,
    NotFoundError,
    PreconditionFailed,
    StoreError,
    UnsafePathError,
    UnsupportedError,
    UsageError,
    os_error,
)
from tui.safety import display_text, safe_local_path
from tui.storage.base import Entry, Features, ObjectInfo, Page, PartResult, PutResult, utf8_key
from tui.storage.meta import MTIME_KEY, parse_mtime, parse_mtime_ns

LOCAL_FEATURES = Features(
    user_metadata=False,
    key_is_path=True,
    server_side_copy=True,
    conditional_writes=True,
    checks_md5=True,
    multipart=True,
    folder_markers=True,
    max_parts=1_000_000,
    min_part_size=1,
)
TMP_MARK = ".cloudpane-tmp-"
DEFAULT_PART_SIZE = 8 * 1024 * 1024
#: a temporary file of the old form (no pid in its name) older than this is a leftover of a killed run
STALE_TMP_SECONDS = 3600


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=UTC)


def _check_md5(data: bytes | bytearray, content_md5: str | None, what: str) -> None:
    if content_md5 and base64.b64encode(hashlib.md5(data).digest()).decode() != content_md5:
        raise StoreError(f"{what}: BadDigest: the Content-MD5 does not match the data")


def _tmp_path(final: Path) -> Path:
    """A temporary name beside ``final`` that names its process (``name.cloudpane-tmp-PID-RANDOM``), within the
    255-byte limit of a file name. The next run into that folder removes it if its process is gone."""
    _sweep(final.parent)
    tail = f"{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    name = os.fsencode(final.name)[: 255 - len(tail)]
    return final.with_name(os.fsdecode(name.decode("utf-8", "ignore").encode()) + tail)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


#: folders already swept by this process
_SWEPT: set[str] = set()


def _sweep(folder: Path) -> None:
    """Remove the temporary files that killed runs (``kill -9``, a power cut) left in ``folder``: those of a
    process that is no longer alive, and old-form ones (no pid) older than an hour. Once per folder a process."""
    where = os.fspath(folder)
    if where in _SWEPT:
        return
    _SWEPT.add(where)
    try:
        it = os.scandir(folder)
    except OSError:
        return
    now = time.time()
    with it:
        for de in it:
            mark = de.name.rfind(TMP_MARK)
            if mark < 0:
                continue
            tail = de.name[mark + len(TMP_MARK) :]
            pid_text, sep, _rand = tail.partition("-")
            try:
                if not de.is_file(follow_symlinks=False):
                    continue
                if sep and pid_text.isdigit():
                    stale = not _pid_alive(int(pid_text))
                else:
                    stale = now - de.stat(follow_symlinks=False).st_mtime > STALE_TMP_SECONDS
                if stale:
                    os.unlink(de.path)
            except OSError:
                continue


def _finish(tmp: Path, final: Path, metadata: dict[str, str] | None, *, exclusive: bool) -> None:
    """Set the mtime from metadata, then move the finished file into place (atomically)."""
    raw = (metadata or {}).get(MTIME_KEY)
    ns = parse_mtime_ns(raw) if raw else None
    when = parse_mtime(raw) if raw and ns is None else None
    if ns is not None:
        os.utime(tmp, ns=(ns, ns))
    elif when is not None:
        ts = when.timestamp()
        os.utime(tmp, (ts, ts))
    if exclusive:
        try:
            os.link(tmp, final)
        except FileExistsError as exc:
            raise PreconditionFailed(f"put {display_text(str(final))}: the file exists") from exc
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS):
                raise
            # a file system without hard links (FAT, exFAT, some FUSE mounts): check, then rename (not atomic)
            if os.path.lexists(final):
                raise PreconditionFailed(f"put {display_text(str(final))}: the file exists") from exc
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
    else:
        if final.is_dir() and not final.is_symlink():
            raise ConflictError(f"put {display_text(str(final))}: a directory is in the way")
        os.replace(tmp, final)


class LocalWriter:
    """Parts are written at their offsets into one temporary file (``pwrite``), renamed on ``complete``."""

    def __init__(self, final: Path, part_size: int, metadata: dict[str, str] | None) -> None:
        self._final = final
        self._tmp = _tmp_path(final)
        self._part_size = part_size
        self._metadata = metadata
        self._fd: int | None = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.created_dirs: list[Path] = []

    @property
    def upload_id(self) -> str | None:
        return None

    async def write_part(self, number: int, data: bytes | bytearray, *, content_md5: str | None = None) -> PartResult:
        if self._fd is None:
            raise StoreError(f"write {display_text(str(self._final))}: the upload is closed")
        fd, offset, what = self._fd, (number - 1) * self._part_size, f"write {display_text(str(self._final))}"

        def write() -> None:
            # in the worker thread: the event loop never hashes or copies a part
            _check_md5(data, content_md5, what)
            view = memoryview(data)
            pos = 0
            while pos < len(view):
                pos += os.pwrite(fd, view[pos:], offset + pos)

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            raise os_error(what, exc) from exc
        # a local file has no part ETags; the caller verifies the whole file against the source's MD5
        return PartResult(number, "", len(data))

    async def complete(self, parts: list[PartResult]) -> PutResult:
        return await self._complete(parts, exclusive=False)

    async def complete_if_absent(self, parts: list[PartResult]) -> PutResult:
        """Complete only if nothing is at the final name yet (a file created meanwhile is PreconditionFailed)."""
        return await self._complete(parts, exclusive=True)

    async def _complete(self, parts: list[PartResult], *, exclusive: bool) -> PutResult:
        if self._fd is None:
            raise StoreError(f"write {display_text(str(self._final))}: the upload is closed")
        fd, self._fd = self._fd, None
        size = sum(p.size for p in parts)

        def finish() -> None:
            try:
                os.ftruncate(fd, size)
                os.fsync(fd)
            finally:
                os.close(fd)
            _finish(self._tmp, self._final, self._metadata, exclusive=exclusive)

        try:
            await asyncio.to_thread(finish)
        except BaseException as exc:
            self._tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise os_error(f"write {display_text(str(self._final))}", exc) from exc
            raise
        return PutResult()

    async def abort(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        self._tmp.unlink(missing_ok=True)
        for folder in self.created_dirs:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                break
        self.created_dirs = []


class LocalStore:
    """A directory tree. ``root`` is the container; ``LocalStore(Path("/"))`` reaches every absolute path."""

    features = LOCAL_FEATURES

    def __init__(
        self,
        root: Path | str,
        *,
        symlinks: Literal["files", "skip", "follow"] = "files",
        no_symlink_writes: bool = False,
    ) -> None:
        """``symlinks``: what a listing does with links: ``files`` lists links to files (not to folders), ``skip``
        leaves every link out (backups), ``follow`` follows all (loops are detected by device and inode).
        ``no_symlink_writes``: refuse keys whose path goes through a symlink inside the root (restores)."""
        self.root = Path(root).expanduser().absolute()
        self.symlinks = symlinks
        self.no_symlink_writes = no_symlink_writes
        #: folders a listing could not read (each one fails a backup's deletes and counts as failed)
        self.listing_errors: list[str] = []
        #: symlinks that --follow-symlinks did not follow because they lead outside the root (reported, not errors)
        self.skipped_links: list[str] = []
        #: symlinks a listing left out (``symlinks="skip"``): a backup counts them in its summary
        self.skipped_symlinks = 0
        self._real_root: str | None = None

    @property
    def url(self) -> str:
        return str(self.root)

    def read_path(self, key: str) -> Path:
        """The path to read ``key`` from. Following symlinks (backups with --follow-symlinks) may lead outside the
        root on purpose: then only the key's form is checked, not where it resolves."""
        if self.symlinks != "follow" or key in ("", "/"):
            return self.path(key)
        parts = key.rstrip("/").split("/")
        if key.startswith("/") or "\x00" in key or "\\" in key or any(p in ("", ".", "..") for p in parts):
            return self.path(key)  # raises the usual one-line refusal
        return self.root.joinpath(*parts)

    def path(self, key: str) -> Path:
        """The local path of a key; refuses keys that would leave the root (``..``, absolute, NUL, ...)."""
        if key in ("", "/"):
            return self.root
        return safe_local_path(self.root, key)

    def write_path(self, key: str) -> Path:
        """The path to write ``key`` to. With ``no_symlink_writes`` (every download, restore and sync into a
        directory) no component below the root may be a symlink: a link planted in the destination
        (``dl/sub -> /etc``) is refused, never written through. The root itself is the user's choice."""
        if key in ("", "/"):
            return self.root
        if self.no_symlink_writes:
            parts = key.rstrip("/").split("/")
            if not any(p in ("", ".", "..") for p in parts):  # malformed keys get safe_local_path's refusal
                probe = self.root.resolve()
                try:
                    for part in parts:
                        probe = probe / part
                        if probe.is_symlink():
                            raise UnsafePathError(
                                f"{display_text(key)}: refusing to write through the symlink {display_text(str(probe))}"
                            )
                except OSError as exc:  # a component too long for the file system, say
                    raise os_error(f"{display_text(key)}: cannot be a local name", exc) from exc
        return self.path(key)

    def key_of(self, path: Path) -> str:
        rel = path.absolute().relative_to(self.root).as_posix()
        return "" if rel == "." else rel

    def _inside(self, path: str) -> bool:
        """Whether ``path`` (a symlink) resolves to the root or below it."""
        if self._real_root is None:
            self._real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return real == self._real_root or real.startswith(self._real_root.rstrip("/") + "/")

    def _what(self, verb: str, key: str) -> str:
        return f"{verb} {display_text(str(self.root / key))}"

    # -- listing -------------------------------------------------------------------------------------------
    def _scan(self, dir_key: str) -> Page:
        """One directory's entries, sorted by key (directories sort as ``name/``, as S3 keys do)."""
        directory = self.read_path(dir_key)
        entries: Page = []
        try:
            it = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            # an unreadable folder: its files fail, the rest of the listing goes on
            self.listing_errors.append(f"{display_text(str(directory))}: {exc.strerror or exc}")
            return []
        with it:
            for de in it:
                if TMP_MARK in de.name:
                    continue
                name = de.name
                try:
                    link = de.is_symlink()
                    if link and self.symlinks == "skip":
                        self.skipped_symlinks += 1
                        continue
                    if link and self.symlinks == "follow" and not self._inside(de.path):
                        # --follow-symlinks never leaves the source root: a link to /etc is not a way to upload it
                        target = display_text(os.readlink(de.path))
                        self.skipped_links.append(
                            f"{display_text(str(directory / name))} -> {target}: the link leads outside "
                            f"{display_text(str(self.root))}"
                        )
                        continue
                    if de.is_dir(follow_symlinks=link and self.symlinks == "follow"):
                        entries.append(Entry(key=f"{dir_key}{name}/", is_prefix=True))
                    elif de.is_file(follow_symlinks=True):
                        st = de.stat(follow_symlinks=True)
                        entries.append(Entry(key=f"{dir_key}{name}", size=st.st_size, last_modified=_mtime(st)))
                except OSError:
                    continue  # vanished or unreadable while listing
        entries.sort(key=lambda e: utf8_key(e.key))
        return entries

    async def list(self, prefix: str = "", *, recursive: bool = False, page_size: int = 1000) -> AsyncIterator[Page]:
        dir_key, _, _name = prefix.rpartition("/")
        dir_key = f"{dir_key}/" if dir_key else ""
        if dir_key:
            self.path(dir_key)  # validates the prefix
        page: Page = []
        if not recursive:
            for e in await asyncio.to_thread(self._scan, dir_key):
                if e.key.startswith(prefix):
                    page.append(e)
                    if len(page) >= page_size:
                        yield page
                        page = []
            if page:
                yield page
            return
        # depth first, in key order: a stack of sorted directory listings
        stack: list[Iterator[Entry]] = [iter(await asyncio.to_thread(self._scan, dir_key))]
        #: (device, inode) of each folder on the stack: a followed link to one of them is a loop. A link to a
        #: folder elsewhere in the tree is listed under both names (as rclone -L does), never instead of it.
        ancestors: list[tuple[int, int]] = []
        if self.symlinks == "follow":
            st = os.stat(self.read_path(dir_key))
            ancestors.append((st.st_dev, st.st_ino))
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                if ancestors and len(ancestors) > len(stack):
                    ancestors.pop()
                continue
            if not entry.key.startswith(prefix):
                continue
            if entry.is_prefix:
                if self.symlinks == "follow":
                    try:
                        st = os.stat(self.read_path(entry.key))
                    except OSError:
                        continue
                    if (st.st_dev, st.st_ino) in ancestors:
                        continue  # a symlink loop
                    ancestors.append((st.st_dev, st.st_ino))
                stack.append(iter(await asyncio.to_thread(self._scan, entry.key)))
                continue
            page.append(entry)
            if len(page) >= page_size:
                yield page
                page = []
        if page:
            yield page

    # -- objects -------------------------------------------------------------------------------------------
    async def stat(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        if version_id:
            raise UnsupportedError(f"{self._what('stat', key)}: local files have no versions")
        path = self.read_path(key)
        try:
            st = await asyncio.to_thread(os.stat, path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NotFoundError(f"{self._what('stat', key)}: no such file") from exc
        except PermissionError as exc:
            raise StoreError(f"{self._what('stat', key)}: permission denied") from exc
        except OSError as exc:
            raise os_error(self._what("stat", key), exc) from exc
        if stat_mod.S_ISDIR(st.st_mode) and not key.endswith("/") and key:
            raise NotFoundError(f"{self._what('stat', key)}: is a directory")
        return ObjectInfo(
            key=key,
            size=0 if stat_mod.S_ISDIR(st.st_mode) else st.st_size,
            last_modified=_mtime(st),
            mode=st.st_mode,
            mtime_ns=st.st_mtime_ns,
        )

    async def read(
        self,
        key: str,
        *,
        start: int = 0,
        end: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
        chunk_size: int = 1024 * 1024,
    ) -> AsyncIterator[bytes]:
        if version_id:
            raise UnsupportedError(f"{self._what('read', key)}: local files have no versions")
        path = self.read_path(key)
        if key.endswith("/") and path.is_dir():
            return  # a folder marker holds no bytes
        try:
            f = await asyncio.to_thread(open, path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NotFoundError(f"{self._what('read', key)}: no such file") from exc
        except PermissionError as exc:
            raise StoreError(f"{self._what('read', key)}: permission denied") from exc
        except OSError as exc:
            raise os_error(self._what("read", key), exc) from exc
        try:
            if start:
                f.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                n = chunk_size if remaining is None else min(chunk_size, remaining)
                try:
                    chunk = await asyncio.to_thread(f.read, n)
                except OSError as exc:
                    raise os_error(self._what("read", key), exc) from exc
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            f.close()

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        content_md5: str | None = None,
        if_none_match: bool = False,
    ) -> PutResult:
        path = self.write_path(key)
        what = self._what("put", key)
        _check_md5(data, content_md5, what)
        if key.endswith("/"):
            try:
                await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
            except FileExistsError as exc:
                raise ConflictError(f"{what}: a file is in the way of the directory") from exc
            except OSError as exc:
                raise os_error(what, exc) from exc
            return PutResult()

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = _tmp_path(path)
            try:
                with open(tmp, "xb") as f:
                    f.write(data)
                _finish(tmp, path, metadata, exclusive=if_none_match)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

        try:
            await asyncio.to_thread(write)
        except (NotADirectoryError, FileExistsError) as exc:
            raise ConflictError(f"{what}: a file is in the way of the directory") from exc
        except OSError as exc:
            raise os_error(what, exc) from exc
        return PutResult()

    async def open_writer(
        self,
        key: str,
        *,
        metadata: dict[str, str] | None = None,
        content_type: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> LocalWriter:
        path = self.write_path(key)
        if key.endswith("/") or not key:
            raise UsageError(f"{self._what('write', key)}: a file name is needed")

        def make() -> LocalWriter:
            created: list[Path] = []
            parent = path.parent
            while not parent.exists() and parent != self.root:
                created.append(parent)
                parent = parent.parent
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = LocalWriter(path, part_size, metadata)
            writer.created_dirs = created  # removed again (when still empty) if the upload is aborted
            return writer

        making = asyncio.ensure_future(asyncio.to_thread(make))
        try:
            return await asyncio.shield(making)
        except asyncio.CancelledError:
            # the thread runs on after a cancel (Ctrl-C): what it made, the temporary file and any new folders, goes
            with contextlib.suppress(Exception):
                await (await making).abort()
            raise
        except (NotADirectoryError, FileExistsError) as exc:
            raise ConflictError(f"{self._what('write', key)}: a file is in the way of the directory") from exc
        except OSError as exc:
            raise os_error(self._what("write", key), exc) from exc

    async def delete(self, key: str, *, version_id: str | None = None) -> None:
        if version_id:
            raise UnsupportedError(f"{self._what('delete', key)}: local files have no versions")
        path = self.path(key)

        def remove() -> None:
            if key.endswith("/"):
                path.rmdir()
            else:
                path.unlink()

        try:
            await asyncio.to_thread(remove)
        except FileNotFoundError:
            return  # S3 semantics: deleting what is not there succeeds
        except OSError as exc:
            if key.endswith("/") and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return  # the marker of a folder that still has files: S3 would delete just the marker
            raise StoreError(f"{self._what('delete', key)}: {exc.strerror or exc}") from exc

    async def copy(
        self,
        src_key: str,
        dst_key: str,
        *,
        src_version_id: str | None = None,
        metadata: dict[str, str] | None = None,
        src_container: str | None = None,
    ) -> PutResult:
        if src_container is not None and src_container != str(self.root):
            raise UnsupportedError(f"{self._what('copy', src_key)}: copies between local roots go through copy_object")
        if src_version_id:
            raise UnsupportedError(f"{self._what('copy', src_key)}: local files have no versions")
        src, dst = self.path(src_key), self.write_path(dst_key)

        def copy() -> None:
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = _tmp_path(dst)
            try:
                shutil.copy2(src, tmp)
                _finish(tmp, dst, metadata, exclusive=False)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

        try:
            await asyncio.to_thread(copy)
        except FileNotFoundError as exc:
            raise NotFoundError(f"{self._what('copy', src_key)}: no such file") from exc
        except OSError as exc:
            raise os_error(self._what("copy", src_key), exc) from exc
        return PutResult()

    async def list_versions(
        self, prefix: str = "", *, exact: bool = False, page_size: int = 1000
    ) -> AsyncIterator[Page]:
        raise UnsupportedError(f"{self._what('versions of', prefix)}: local files have no versions")
        yield []  # pragma: no cover - makes this an async generator

    async def presign(self, key: str, *, expires: timedelta, version_id: str | None = None) -> str:
        raise UnsupportedError(f"{self._what('presign', key)}: local files cannot be presigned")

    async def close(self) -> None:
        return None
