"""One lock per destination for backup and sync: a second run on the same place refuses (exit 5) and names the
pid that holds it.

A run also refuses while another holds a place inside or around its own (a backup into ``s3://b/bk/`` while
one into ``s3://b/bk/sub/`` runs), since its deletes would reach into the other's keys.

The lock is a file in the XDG state directory (``locks/<hash of the location>.lock``) held with ``flock``: the
kernel releases it when the holder exits, however it exits, so a dead holder's lock is simply taken (and said
so, when the file still names the pid that died without cleaning up). The file holds the pid and the location,
for the message; it is never unlinked (unlinking a lock file that another process has open is how two
processes end up holding "the" lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from tui.config import state_dir
from tui.errors import ConflictError, StoreError
from tui.safety import display_text


class LockHeld(ConflictError):
    """Another live process holds the lock (exit 5)."""


def lock_path(location: str, base: Path | None = None) -> Path:
    digest = hashlib.sha256(location.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return (base or state_dir()) / "locks" / f"{digest}.lock"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _read(fd: int) -> dict[str, object]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 64 * 1024)
    try:
        data = json.loads(raw.decode("utf-8", "replace")) if raw.strip() else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class DestinationLock:
    """``with DestinationLock(["s3://b/bk/"], verb="backup"):`` holds one lock per location (taken in a fixed
    order, all or none). ``on_note`` hears about stale locks that were taken over."""

    def __init__(
        self,
        locations: Iterable[str],
        *,
        verb: str,
        base: Path | None = None,
        on_note: Callable[[str], None] | None = None,
    ) -> None:
        self.locations = sorted(set(locations))
        self.verb = verb
        self.base = base
        self.on_note = on_note
        self._fds: list[int] = []

    def acquire(self) -> None:
        try:
            for location in self.locations:
                self._fds.append(self._take(location))
        except BaseException:
            self.release()
            raise

    def _take(self, location: str) -> int:
        path = lock_path(location, self.base)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot open the lock file {display_text(str(path))}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            pid = holder.get("pid")
            verb = holder.get("verb") or "backup or sync"
            raise LockHeld(
                f"{display_text(location)} is in use by another {display_text(str(verb))} "
                f"(pid {display_text(str(pid or 'unknown'))}, lock {display_text(str(path))}); try again when it ends"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot lock {display_text(str(path))}: {exc.strerror or exc}") from exc
        try:
            self._check_nested(location, path)
        except BaseException:
            os.close(fd)
            raise
        old = _read(fd)
        old_pid = old.get("pid")
        if isinstance(old_pid, int) and old_pid != os.getpid() and self.on_note is not None:
            state = "no longer running" if not pid_alive(old_pid) else "not holding it"
            self.on_note(f"took over the lock of {display_text(location)} left by pid {old_pid} ({state})")
        record = {"pid": os.getpid(), "verb": self.verb, "location": location, "since": int(time.time())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8", "surrogateescape"), 0)
        return fd

    def _check_nested(self, location: str, own: Path) -> None:
        """A run on a place inside ours (``s3://b/bk/sub/`` while we take ``s3://b/bk/``), or around it, holds
        another lock file: refuse as well. Each held lock file is probed with a non-blocking flock that is let go
        at once (two overlapping runs that start in the same instant may both refuse: the safe way round)."""
        for other in sorted(own.parent.glob("*.lock")):
            if other == own:
                continue
            try:
                fd = os.open(other, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                holder = _read(fd)
                theirs = holder.get("location")
                if not isinstance(theirs, str) or not (theirs.startswith(location) or location.startswith(theirs)):
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    verb = holder.get("verb") or "backup or sync"
                    raise LockHeld(
                        f"{display_text(location)} overlaps {display_text(theirs)}, in use by another "
                        f"{display_text(str(verb))} (pid {display_text(str(holder.get('pid') or 'unknown'))}); "
                        "try again when it ends"
                    ) from None
                except OSError:
                    continue
            finally:
                os.close(fd)  # also lets go of a probe that got the lock

    def release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # a clean end leaves no pid behind
            os.close(fd)  # closing releases the flock

    def __enter__(self) -> DestinationLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
