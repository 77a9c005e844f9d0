"""The error tree and exit codes.

One mapping from exception to exit code (``exit_code_for``) and to the one line a user sees (``one_line``). The
exit codes are an API: scripts depend on them (see README, "Exit codes").
"""

from __future__ import annotations

import errno
from enum import IntEnum

from tui.text import display_text


class ExitCode(IntEnum):
    OK = 0
    PARTIAL = 1  # some items failed, the rest done
    USAGE = 2  # usage or bad input
    AUTH = 3  # credentials or permission
    NOT_FOUND = 4
    CONFLICT = 5  # precondition failed, destination newer, bucket not empty
    INTERRUPTED = 130


class CloudpaneError(Exception):
    """Base of every error cloudpane reports to a user. ``str(err)`` is one line, untrusted parts included."""

    exit_code: ExitCode = ExitCode.PARTIAL
    #: whether retrying the same request may succeed (throttling, 5xx, resets)
    retryable: bool = False


class UsageError(CloudpaneError):
    exit_code = ExitCode.USAGE


class LocationError(UsageError):
    """What the user typed is not a location we understand."""


class UnsafePathError(UsageError):
    """A key that would write outside a download root, or is otherwise not a safe local path."""


class AuthError(CloudpaneError):
    exit_code = ExitCode.AUTH


class NotFoundError(CloudpaneError):
    exit_code = ExitCode.NOT_FOUND


class ConflictError(CloudpaneError):
    exit_code = ExitCode.CONFLICT


class PreconditionFailed(ConflictError):
    pass


class SourceChangedError(ConflictError):
    pass


class UnsupportedError(CloudpaneError):
    """The store cannot do this (e.g. versions on a server without versioning)."""

    exit_code = ExitCode.USAGE


class TransientError(CloudpaneError):
    """Throttling, a 5xx, a reset or a truncated body: worth another try."""

    retryable = True
    #: seconds the server asked us to wait (its ``Retry-After`` header), when it said
    retry_after: float | None = None


class StoreError(CloudpaneError):
    """Any other failure a store reports."""


def exit_code_for(exc: BaseException) -> ExitCode:
    if isinstance(exc, CloudpaneError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.PARTIAL


def one_line(exc: BaseException) -> str:
    """The message for a user: one line, control characters escaped, never a traceback."""
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, CloudpaneError):
        text = f"{type(exc).__name__}: {text}"
    return display_text(" ".join(text.split()))


#: what a failed local write says, by errno (the rest say the system's own words)
_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "the file is too large for this file system (or the process's file size limit)",
    errno.ENAMETOOLONG: "the name is too long for the local file system",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error",
}


def os_error(what: str, exc: OSError) -> CloudpaneError:
    """One error of the tree for a failed local operation, with a message a person can act on."""
    reason = _WRITE_ERRORS.get(exc.errno or 0) or exc.strerror or type(exc).__name__
    err: CloudpaneError
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        err = NotFoundError(f"{what}: {reason}")
    elif exc.errno in (errno.EACCES, errno.EPERM):
        err = AuthError(f"{what}: {reason}")
    else:
        err = StoreError(f"{what}: {reason}")
    err.__cause__ = exc
    return err
