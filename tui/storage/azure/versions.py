"""Blob versions and soft delete, as the engine's version rows (``Entry`` with ``version_id``/``is_latest``/
``is_delete_marker``), the way S3's are.

- Versioning (an account setting, not readable from the data plane): a listing with ``include=["versions"]`` gives
  one item per version, each with its ``version_id`` (an opaque timestamp, ``2019-08-28T00:00:00.0000000Z``: newer
  sorts later) and ``is_current_version``. A blob deleted on a versioned account keeps its versions and has no
  current one: that key gets a delete marker row (``NO_CURRENT``) on top, and "undeleting" it (deleting the
  marker, as on S3) copies its newest version back as the current blob.
- Soft delete (the service properties' ``delete_retention_policy``): ``include=["deleted"]`` lists a deleted blob
  with ``deleted`` true until its retention ends: a delete marker row (``SOFT_DELETED``); deleting that marker is
  Undelete Blob.
- ``Features.versions`` (and ``soft_delete``) say what the account has: the first version operation asks
  (``probe``: Get Blob Service Properties and one listing row); an account with neither refuses in one line.
"""

from __future__ import annotations

from collections.abc import Iterable

from azure.storage.blob import BlobProperties

from tui.storage.azure.metadata import _etag
from tui.storage.base import Entry, utf8_key

#: the version id of a soft-deleted blob's marker row: deleting it undeletes the blob (Undelete Blob)
SOFT_DELETED = "soft-deleted"
#: the version id of the marker row of a versioned blob with no current version: deleting it restores the newest
NO_CURRENT = "no-current-version"
MARKERS = (SOFT_DELETED, NO_CURRENT)

#: the one-line refusal where the account keeps neither versions nor deleted blobs
NO_VERSIONS = "this account keeps no blob versions and no soft-deleted blobs (Azurite keeps neither)"


def version_row(blob: BlobProperties) -> Entry:
    """One listing item (``include=["versions", "deleted"]``) as a version row."""
    name = str(blob.name)
    if blob.deleted and not blob.version_id:
        return Entry(
            key=name,
            last_modified=blob.deleted_time or blob.last_modified,
            version_id=SOFT_DELETED,
            is_latest=True,
            is_delete_marker=True,
        )
    return Entry(
        key=name,
        size=int(blob.size) if blob.size is not None else None,
        last_modified=blob.last_modified,
        etag=_etag(blob.etag),
        storage_class=str(blob.blob_tier) if blob.blob_tier else None,
        version_id=str(blob.version_id) if blob.version_id else None,
        is_latest=bool(blob.is_current_version) if blob.version_id else True,
    )


def key_rows(rows: list[Entry]) -> list[Entry]:
    """The rows of one key, newest first; a marker on top where the key has versions and no current one."""
    markers = [r for r in rows if r.is_delete_marker]
    versions = sorted((r for r in rows if not r.is_delete_marker), key=lambda r: r.version_id or "", reverse=True)
    versioned = [r for r in versions if r.version_id]
    if versioned and not markers and not any(r.is_latest for r in versions):
        newest = versioned[0]
        markers = [Entry(key=newest.key, version_id=NO_CURRENT, is_latest=True, is_delete_marker=True)]
    if markers and any(r.is_latest for r in versions):
        # a soft-deleted blob beside a live one of the same name (deleted, then written again): the live one is
        # the latest; the deleted one stays listed (undeleting it would bring its content back as a snapshot)
        markers = [
            Entry(
                key=m.key,
                last_modified=m.last_modified,
                version_id=m.version_id,
                is_latest=False,
                is_delete_marker=True,
            )
            for m in markers
        ]
    return [*markers, *versions]


def grouped(blobs: Iterable[BlobProperties], carry: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """Version rows for one page of items (in name order), and the rows of the page's last key, held back (the
    next page may hold more of that key). ``carry`` is what the previous page held back."""
    done: list[Entry] = []
    pending = list(carry)
    for blob in blobs:
        row = version_row(blob)
        if pending and pending[0].key != row.key:
            done.extend(key_rows(pending))
            pending = []
        pending.append(row)
    return sorted(done, key=lambda e: utf8_key(e.key)), pending
