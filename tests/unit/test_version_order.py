"""The order of versions and delete markers within one second comes from the server's XML, not timestamps.

S3 reports LastModified in whole seconds, and botocore parses versions and delete markers into two lists, so a
version and a marker of one key written in the same second cannot be ordered from what botocore returns. AWS sends
them interleaved, newest first; ``_version_order`` records that order. (moto lists all versions before all
markers, so this is checked on AWS's documented XML rather than against moto.)
"""

from __future__ import annotations

from typing import Any

from tui.storage.s3 import _version_order

XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>p/</Prefix><EncodingType>url</EncodingType>
  <Version><Key>p/temp.txt</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-11-22T00:00:02.000Z</LastModified><Size>1</Size></Version>
  <DeleteMarker><Key>p/temp.txt</Key><VersionId>m2</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-11-22T00:00:01.000Z</LastModified></DeleteMarker>
  <Version><Key>p/temp.txt</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>
    <LastModified>2026-11-22T00:00:01.000Z</LastModified><Size>1</Size></Version>
  <Version><Key>p/a%20b+c.txt</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>
    <LastModified>2026-11-22T00:00:01.000Z</LastModified><Size>1</Size></Version>
</ListVersionsResult>"""


def test_version_order_keeps_the_servers_interleaving() -> None:
    custom: dict[str, Any] = {}
    _version_order({"body": XML, "status_code": 200}, custom)
    assert custom["CloudpaneOrder"] == [
        ("p/temp.txt", "v3"),
        ("p/temp.txt", "m2"),  # the marker came after v1 in the same second: it is listed first
        ("p/temp.txt", "v1"),
        ("p/a b c.txt", "null"),  # url-encoded keys decode as botocore decodes them (unquote_plus)
    ]


def test_version_order_ignores_errors_and_garbage() -> None:
    for response in ({"body": b"<Error/>", "status_code": 404}, {"body": b"not xml", "status_code": 200}, {}):
        custom: dict[str, Any] = {}
        _version_order(response, custom)
        assert "CloudpaneOrder" not in custom or custom["CloudpaneOrder"] == []
