"""Stores: one async protocol (base.py) over the local filesystem, S3 and (later) Azure Blob. No Textual here."""
