"""What a cp or mv adds to a plain copy: which keys of a folder go (``--include``/``--exclude``), which version of
one object (``--version-id``), what the written objects carry (``--content-type``, ``--metadata``,
``--storage-class``), and whether anything is written at all (``--dry-run``). No Textual here (the engine)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tui.errors import UsageError
from tui.safety import display_text
from tui.storage.base import StorageClasses, Store


@dataclass(frozen=True, slots=True)
class Extras:
    #: folder copies: whether a key (relative to the source folder) is copied
    keep: Callable[[str], bool] | None = None
    #: a single source object: the version to copy
    version_id: str | None = None
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    #: say what would be copied (``on_plan``), copy nothing
    dry_run: bool = False

    def destination(self, store: Store) -> Store:
        """The destination store, writing in ``storage_class`` when one is asked for."""
        if self.storage_class is None:
            return store
        if not isinstance(store, StorageClasses):
            raise UsageError(f"{display_text(store.url)}: this store has no storage classes (--storage-class)")
        return store.with_storage_class(self.storage_class)

    def check(self, store: Store) -> None:
        if self.metadata and not store.features.user_metadata:
            raise UsageError(f"{display_text(store.url)}: local files keep no --metadata")
