"""What a backup leaves out: hidden files and folders, OS junk, and gitignore-style excludes.

Patterns follow gitignore (pathspec's GitIgnoreSpec): ``*.tmp``, ``build/``, ``/top-only``, ``!keep.tmp``. A
``.cloudpaneignore`` file in the source root adds its lines to ``--exclude``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pathspec import GitIgnoreSpec

from tui.errors import UsageError
from tui.safety import display_text

#: files and folders that operating systems leave behind (macOS, Windows)
OS_JUNK = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".Trashes", ".Spotlight-V100", ".fseventsd"})
IGNORE_FILE = ".cloudpaneignore"

#: why a key is left out of a backup (the summary counts each); symlinks are the local listing's own
SkipReason = Literal["hidden", "os_junk", "excluded", "symlink"]


class KeyFilter:
    """Decides, for a relative key (``a/b/c.txt``), whether it takes part in a backup."""

    def __init__(self, *, include_hidden: bool = False, excludes: Iterable[str] = (), skip_junk: bool = True) -> None:
        """``skip_junk=False`` (restores): bring back whatever the backup holds, OS junk and ignore files too."""
        self.include_hidden = include_hidden
        self.skip_junk = skip_junk
        patterns = [p for p in excludes if p.strip() and not p.lstrip().startswith("#")]
        try:
            self.spec = GitIgnoreSpec.from_lines(patterns) if patterns else None
        except (ValueError, TypeError) as exc:
            raise UsageError(f"bad --exclude pattern: {display_text(str(exc))}") from exc

    @classmethod
    def for_root(cls, root: Path | None, *, include_hidden: bool = False, excludes: Iterable[str] = ()) -> KeyFilter:
        """The filter for a local source root: ``excludes`` plus the root's ``.cloudpaneignore``."""
        lines = list(excludes)
        if root is not None:
            ignore = root / IGNORE_FILE
            if ignore.is_file():
                try:
                    lines += ignore.read_text(encoding="utf-8").splitlines()
                except (OSError, UnicodeDecodeError) as exc:
                    raise UsageError(f"cannot read {display_text(str(ignore))}: {exc}") from exc
        return cls(include_hidden=include_hidden, excludes=lines)

    def __call__(self, rel: str) -> bool:
        return self.reason(rel) is None

    def reason(self, rel: str) -> SkipReason | None:
        """Why ``rel`` is left out (``"os_junk"``, ``"hidden"``, ``"excluded"``), or None when it takes part."""
        parts = rel.split("/")
        if self.skip_junk and (any(p in OS_JUNK for p in parts) or parts[-1] == IGNORE_FILE):
            return "os_junk"
        if not self.include_hidden and any(p.startswith(".") for p in parts):
            return "hidden"
        if self.spec is not None and self.spec.match_file(rel):
            return "excluded"
        return None
