"""tui.locations: the grammar of what the user types, errors, str() forms, parent/child."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tui.errors import ExitCode, LocationError, UsageError, exit_code_for, one_line
from tui.locations import (
    Location,
    parse_location,
    remote_kind,
    remote_kinds,
    validate_bucket_name,
    validate_container_name,
)

CWD = Path("/home/user/work")
REMOTES = {"prof": "s3", "minio": "s3", "blobs": "azure", "c": "s3"}


def parse(text: str) -> Location:
    return parse_location(text, known_remotes=REMOTES, cwd=CWD)


def error_of(text: str, known: object = REMOTES) -> str:
    with pytest.raises(LocationError) as info:
        parse_location(text, known_remotes=known, cwd=CWD)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


# --- the grammar, row by row --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "path"),
    [
        ("/abs/path", "/abs/path"),
        ("/abs/dir/", "/abs/dir"),
        ("/", "/"),
        ("./rel", "/home/user/work/rel"),
        ("rel/path", "/home/user/work/rel/path"),
        ("rel", "/home/user/work/rel"),
        (".", "/home/user/work"),
        ("..", "/home/user"),
        ("../x", "/home/user/x"),
        ("./a:b", "/home/user/work/a:b"),
        ("dir/a:b", "/home/user/work/dir/a:b"),
        ("file:///abs/path", "/abs/path"),
        ("file:///abs/with%20space/%25", "/abs/with space/%"),
        ("file://localhost/abs", "/abs"),
        ("file:///", "/"),
        ("~nosuchuser-cloudpane/x", "/home/user/work/~nosuchuser-cloudpane/x"),
        ("~$lock.docx", "/home/user/work/~$lock.docx"),
        ("a b/ c ", "/home/user/work/a b/ c "),
    ],
)
def test_local(typed: str, path: str) -> None:
    loc = parse(typed)
    assert loc.kind == "local"
    assert loc.path == Path(path)
    assert loc.path.is_absolute()
    assert loc.raw == typed
    assert (loc.remote, loc.bucket, loc.key, loc.url) == (None, None, "", None)


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse("~/x").path == tmp_path / "x"
    assert parse("~").path == tmp_path


def test_relative_defaults_to_the_current_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_location("sub/f", known_remotes=()).path == tmp_path / "sub" / "f"


def test_symlinks_are_not_resolved(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    loc = parse_location(str(tmp_path / "link"), known_remotes=())
    assert loc.path == tmp_path / "link"
    assert loc.is_prefix


def test_file_url_undecodable_bytes_survive() -> None:
    loc = parse("file:///tmp/%FF")
    assert loc.path is not None
    assert bytes(loc.path) == b"/tmp/\xff"


@pytest.mark.parametrize(
    ("typed", "bucket", "key"),
    [
        ("s3://bucket", "bucket", ""),
        ("s3://bucket/", "bucket", ""),
        ("s3://bucket/prefix/", "bucket", "prefix/"),
        ("s3://bucket/prefix/key", "bucket", "prefix/key"),
        ("s3://bucket//double", "bucket", "/double"),
        ("s3://my.bucket-1/k", "my.bucket-1", "k"),
        ("S3://bucket/k", "bucket", "k"),
    ],
)
def test_s3(typed: str, bucket: str, key: str) -> None:
    loc = parse(typed)
    assert (loc.kind, loc.remote, loc.bucket, loc.key) == ("s3", None, bucket, key)
    assert loc.raw == typed


def test_s3_bucket_list() -> None:
    loc = parse("s3://")
    assert (loc.kind, loc.remote, loc.bucket, loc.key) == ("s3", None, None, "")
    assert loc.is_bucket_list and loc.is_prefix


@pytest.mark.parametrize(
    ("typed", "bucket", "key"),
    [
        ("az://", None, ""),
        ("az://container", "container", ""),
        ("az://container/dir/blob", "container", "dir/blob"),
        ("az://$web/index.html", "$web", "index.html"),
    ],
)
def test_azure(typed: str, bucket: str | None, key: str) -> None:
    loc = parse(typed)
    assert (loc.kind, loc.remote, loc.bucket, loc.key) == ("azure", None, bucket, key)


@pytest.mark.parametrize(
    ("typed", "kind", "remote", "bucket", "key"),
    [
        ("prof:", "s3", "prof", None, ""),
        ("prof:bucket", "s3", "prof", "bucket", ""),
        ("prof:bucket/", "s3", "prof", "bucket", ""),
        ("minio:bucket/a/b", "s3", "minio", "bucket", "a/b"),
        ("blobs:", "azure", "blobs", None, ""),
        ("blobs:container/x/", "azure", "blobs", "container", "x/"),
        # single letters are remote names like any other (no drive letters)
        ("c:bucket/x", "s3", "c", "bucket", "x"),
    ],
)
def test_named_remote(typed: str, kind: str, remote: str, bucket: str | None, key: str) -> None:
    loc = parse(typed)
    assert (loc.kind, loc.remote, loc.bucket, loc.key) == (kind, remote, bucket, key)


def test_named_remote_plain_collection_means_s3() -> None:
    loc = parse_location("prof:bucket/k", known_remotes={"prof"})
    assert (loc.kind, loc.remote) == ("s3", "prof")


@pytest.mark.parametrize(
    "typed",
    [
        "https://example.com/file.bin",
        "https://example.com/a%20b?X-Amz-Signature=abc",
        "http://127.0.0.1:9000/bucket/key",
        "http://localhost/x",
        "http://[::1]:8080/x",
    ],
)
def test_https(typed: str) -> None:
    loc = parse(typed)
    assert loc.kind == "https"
    assert loc.url == typed
    assert not loc.is_prefix
    assert loc.parent() is None


# --- keys are kept exactly as typed -------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "100%.txt",
        "a%2Fb",
        "a+b",
        "frag#ment",
        "what?x=1",
        "with space/ trailing ",
        "caf\u00e9",
        unicodedata.normalize("NFD", "caf\u00e9"),
        "dots/../and/./",
        "日本語/ファイル",
    ],
)
@pytest.mark.parametrize("prefix", ["s3://bucket/", "prof:bucket/", "az://container/"])
def test_keys_kept_verbatim(prefix: str, key: str) -> None:
    loc = parse(prefix + key)
    assert loc.key == key
    assert str(loc) == prefix + key
    assert parse(str(loc)) == loc


def test_nfd_and_nfc_keys_stay_different() -> None:
    nfc = parse("s3://bucket/caf\u00e9")
    nfd = parse("s3://bucket/" + unicodedata.normalize("NFD", "caf\u00e9"))
    assert nfc.key != nfd.key
    assert nfd.key.endswith("e\u0301")


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "   ", "\t"])
def test_empty(typed: str) -> None:
    assert "empty location" in error_of(typed)


def test_single_slash() -> None:
    message = error_of("s3:/x")
    assert "'s3:/x'" in message
    assert "s3://x" in message


@pytest.mark.parametrize("typed", ["az:/c/x", "https:/host/x", "file:/tmp/x"])
def test_single_slash_other_schemes(typed: str) -> None:
    assert "two slashes" in error_of(typed)


def test_scheme_without_slashes() -> None:
    assert "did you mean s3://bucket" in error_of("s3:bucket")


@pytest.mark.parametrize("typed", ["s3:///k", "s3:///", "az:///blob"])
def test_empty_bucket(typed: str) -> None:
    assert "empty" in error_of(typed)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Bucket", "lowercase"),
        ("my_bucket", "lowercase"),
        ("my bucket", "lowercase"),
        ("-bucket", "start and end"),
        ("bucket-", "start and end"),
        (".bucket", "start and end"),
        ("bucket.", "start and end"),
        ("my..bucket", "two dots"),
        ("192.168.5.4", "IP address"),
        ("xn--bucket", "xn--"),
        ("sthree-bucket", "sthree-"),
        ("amzn-s3-demo-bucket", "amzn-s3-demo-"),
        ("bucket-s3alias", "-s3alias"),
        ("bucket--ol-s3", "--ol-s3"),
        ("bucket.mrap", ".mrap"),
        ("bucket--x-s3", "--x-s3"),
        ("bucket--table-s3", "--table-s3"),
    ],
)
def test_invalid_bucket_names(name: str, why: str) -> None:
    reason = validate_bucket_name(name)
    assert reason is not None and why in reason
    for typed in (f"s3://{name}/key", f"prof:{name}/key"):
        message = error_of(typed)
        assert why in message
        assert "invalid bucket name" in message


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my.bucket", "my-bucket-1", "1bucket", "192.168.5", "a-b.c-d"])
def test_valid_bucket_names(name: str) -> None:
    assert validate_bucket_name(name) is None
    assert parse(f"s3://{name}/k").bucket == name


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Container", "lowercase"),
        ("my.container", "lowercase"),
        ("my_container", "lowercase"),
        ("-container", "start with"),
        ("container-", "end with a hyphen"),
        ("con--tainer", "two hyphens"),
        ("$other", "lowercase"),
    ],
)
def test_invalid_container_names(name: str, why: str) -> None:
    reason = validate_container_name(name)
    assert reason is not None and why in reason
    for typed in (f"az://{name}/blob", f"blobs:{name}/blob"):
        message = error_of(typed)
        assert why in message
        assert "invalid container name" in message


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my-container-1", "1abc", "$root", "$web", "$logs"])
def test_valid_container_names(name: str) -> None:
    assert validate_container_name(name) is None


def test_unknown_remote() -> None:
    message = error_of("foo:bar")
    assert message == (
        "unknown remote 'foo' (not in cloudpane's config nor an AWS profile); use ./foo:bar for a local path"
    )


@pytest.mark.parametrize("typed", ["C:foo", "a:", "my file:1.txt", "foo:bar/baz"])
def test_unknown_remote_other_forms(typed: str) -> None:
    assert "unknown remote" in error_of(typed)
    assert f"./{typed}" in error_of(typed)


def test_empty_remote_name() -> None:
    assert "./:x" in error_of(":x")


def test_named_remote_with_leading_slash() -> None:
    assert "prof:bucket" in error_of("prof:/bucket/k")


@pytest.mark.parametrize("typed", ["gs://bucket/x", "ftp://host/x", "sftp://h/x", "abc://"])
def test_other_schemes(typed: str) -> None:
    assert "unsupported scheme" in error_of(typed)


def test_scheme_after_a_slash() -> None:
    assert "./a/b://c" in error_of("a/b://c")


@pytest.mark.parametrize("typed", ["http://example.com/x", "http://10.0.0.1/x", "http://localhost.evil.com/x"])
def test_plain_http_refused(typed: str) -> None:
    assert "http://" in error_of(typed)


@pytest.mark.parametrize("typed", ["https://", "https:///path", "https://host:notaport/x"])
def test_bad_https(typed: str) -> None:
    error_of(typed)


@pytest.mark.parametrize("typed", ["file://otherhost/x", "file:///a?b", "file:///a#b", "file://", "file:///a%00b"])
def test_bad_file_urls(typed: str) -> None:
    error_of(typed)


def test_nul_refused() -> None:
    assert "NUL" in error_of("/tmp/a\x00b")


def test_error_is_a_usage_error_with_exit_code_2() -> None:
    with pytest.raises(UsageError) as info:
        parse("s3:/x")
    assert exit_code_for(info.value) == ExitCode.USAGE


def test_error_escapes_what_was_typed() -> None:
    message = error_of("s3://b\x1b[2J\u202e/x")
    assert "\x1b" not in message and "\u202e" not in message
    assert "\\x1b" in message
    unknown = error_of("ev\x1bil:x")
    assert "\x1b" not in unknown and "\\x1b" in unknown
    assert one_line(LocationError(unknown)) == unknown


def test_error_cuts_long_input() -> None:
    assert len(error_of("s3:/" + "x" * 10_000)) < 1000


# --- str() ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("s3://", "s3://"),
        ("s3://bucket", "s3://bucket/"),
        ("s3://bucket/", "s3://bucket/"),
        ("s3://bucket/k", "s3://bucket/k"),
        ("s3://bucket/dir/", "s3://bucket/dir/"),
        ("S3://bucket/k", "s3://bucket/k"),
        ("az://", "az://"),
        ("az://container/blob", "az://container/blob"),
        ("prof:", "prof:"),
        ("prof:bucket", "prof:bucket/"),
        ("prof:bucket/k", "prof:bucket/k"),
        ("blobs:container/k", "blobs:container/k"),
        ("./x", "/home/user/work/x"),
        ("/a/b/", "/a/b"),
        ("file:///a%20b", "/a b"),
        ("https://example.com/x?a=1", "https://example.com/x?a=1"),
    ],
)
def test_str(typed: str, text: str) -> None:
    loc = parse(typed)
    assert str(loc) == text
    assert parse(text) == loc


@pytest.mark.parametrize(
    "url",
    [
        "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK&X-Amz-Signature=deadbeef",
        "https://acct.blob.core.windows.net/c/b?sv=2024-01-01&se=2030&sp=r&sig=c2VjcmV0",
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AK&Expires=1&Signature=deadbeef",
        "https://storage.googleapis.com/b/o?X-Goog-Signature=deadbeef",
        "https://example.com/x?token=deadbeef",
    ],
)
def test_str_hides_signatures(url: str) -> None:
    loc = parse(url)
    assert loc.url == url
    assert str(loc).endswith("?…")
    assert "deadbeef" not in str(loc) and "c2VjcmV0" not in str(loc)
    assert "deadbeef" not in repr(loc) and "c2VjcmV0" not in repr(loc)


@pytest.mark.parametrize("userinfo", ["user:hunter2", "hunter2", "hunter2:"])
def test_str_hides_url_userinfo(userinfo: str) -> None:
    loc = parse(f"https://{userinfo}@example.com/x")
    assert str(loc) == "https://***@example.com/x"
    assert "hunter2" not in repr(loc)


# --- parent / child ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "chain"),
    [
        (
            "s3://bucket/a/b/c.txt",
            ["s3://bucket/a/b/", "s3://bucket/a/", "s3://bucket/", "s3://"],
        ),
        ("s3://bucket/a/b/", ["s3://bucket/a/", "s3://bucket/", "s3://"]),
        ("s3://bucket/a//b", ["s3://bucket/a//", "s3://bucket/a/", "s3://bucket/", "s3://"]),
        ("s3://bucket//", ["s3://bucket/", "s3://"]),
        ("prof:bucket/x/y", ["prof:bucket/x/", "prof:bucket/", "prof:"]),
        ("az://container/x", ["az://container/", "az://"]),
        ("blobs:container/x/", ["blobs:container/", "blobs:"]),
        ("/a/b/c", ["/a/b", "/a", "/"]),
    ],
)
def test_parent_chain(typed: str, chain: list[str]) -> None:
    loc: Location | None = parse(typed)
    seen = []
    while loc is not None:
        loc = loc.parent()
        if loc is not None:
            seen.append(str(loc))
            assert loc.raw == str(loc)
    assert seen == chain


def test_parent_keeps_remote_and_kind() -> None:
    up = parse("blobs:container/x").parent()
    assert up is not None
    assert (up.kind, up.remote, up.bucket, up.key) == ("azure", "blobs", "container", "")


@pytest.mark.parametrize(
    ("typed", "name", "text"),
    [
        ("s3://", "bucket", "s3://bucket/"),
        ("s3://", "bucket/", "s3://bucket/"),
        ("s3://bucket", "dir/", "s3://bucket/dir/"),
        ("s3://bucket/dir/", "f.txt", "s3://bucket/dir/f.txt"),
        ("s3://bucket/dir", "f.txt", "s3://bucket/dir/f.txt"),
        ("s3://bucket/dir/", "we?ird #%.txt", "s3://bucket/dir/we?ird #%.txt"),
        ("prof:", "bucket", "prof:bucket/"),
        ("blobs:container/", "x/", "blobs:container/x/"),
        ("/tmp", "x", "/tmp/x"),
        ("/", "tmp", "/tmp"),
    ],
)
def test_child(typed: str, name: str, text: str) -> None:
    loc = parse(typed)
    kid = loc.child(name)
    assert str(kid) == text
    assert kid.kind == loc.kind and kid.remote == loc.remote
    # under a key that is not a prefix, the child goes under that key as a prefix
    assert kid.parent() == (loc if loc.is_prefix else parse(typed + "/"))


@pytest.mark.parametrize(
    "typed", ["s3://bucket/a/b/c.txt", "s3://bucket/a/b/", "prof:bucket/x", "az://c0n/blob", "/a/b"]
)
def test_parent_child_round_trip(typed: str) -> None:
    loc = parse(typed)
    up = loc.parent()
    assert up is not None
    assert up.child(loc.name + ("/" if loc.key.endswith("/") else "")) == loc


def test_child_of_local_dir_marks_prefix(tmp_path: Path) -> None:
    loc = parse_location(str(tmp_path), known_remotes=())
    assert loc.is_prefix
    assert not loc.child("missing").is_prefix
    assert loc.child("missing/").is_prefix
    assert loc.child("missing/").path == tmp_path / "missing"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\x00b"])
def test_bad_local_child(name: str) -> None:
    with pytest.raises(ValueError):
        parse("/tmp").child(name)


def test_bad_children() -> None:
    with pytest.raises(ValueError):
        parse("s3://bucket/").child("")
    with pytest.raises(ValueError):
        parse("s3://").child("a/b")
    with pytest.raises(ValueError):
        parse("https://example.com/x").child("y")


def test_parent_of_top_levels_is_none() -> None:
    assert parse("s3://").parent() is None
    assert parse("prof:").parent() is None
    assert parse("/").parent() is None


# --- properties ----------------------------------------------------------------------------------


def test_is_prefix(tmp_path: Path) -> None:
    assert parse("s3://bucket").is_prefix
    assert parse("s3://bucket/dir/").is_prefix
    assert not parse("s3://bucket/file").is_prefix
    (tmp_path / "f").write_text("x")
    assert parse_location(str(tmp_path), known_remotes=()).is_prefix
    assert not parse_location(str(tmp_path / "f"), known_remotes=()).is_prefix
    assert parse_location(str(tmp_path / "new") + "/", known_remotes=()).is_prefix


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("s3://", ""),
        ("s3://bucket", "bucket"),
        ("s3://bucket/a/b.txt", "b.txt"),
        ("s3://bucket/a/dir/", "dir"),
        ("/tmp/x", "x"),
        ("/", "/"),
        ("https://example.com/a/f%20g.bin?sig=1", "f g.bin"),
    ],
)
def test_name(typed: str, name: str) -> None:
    assert parse(typed).name == name


def test_equality_ignores_raw() -> None:
    assert parse("s3://bucket") == parse("s3://bucket/")
    assert hash(parse("s3://bucket")) == hash(parse("s3://bucket/"))
    assert parse("s3://bucket/k") != parse("prof:bucket/k")


# --- remotes from the config and AWS files ------------------------------------------------------


@pytest.fixture
def remotes_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        '[remotes.blobs]\ntype = "azure"\naccount_name = "acct"\n\n'
        '[remotes.minio]\ntype = "s3"\nendpoint_url = "http://127.0.0.1:9000"\n'
    )
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[default]\nregion = us-east-1\n\n[profile b2]\nregion = x\n")
    monkeypatch.setenv("CLOUDPANE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing"))
    return tmp_path


@pytest.mark.usefixtures("remotes_env")
def test_known_remotes_default_from_files() -> None:
    assert parse_location("b2:bucket/k").remote == "b2"
    assert parse_location("default:bucket").kind == "s3"
    assert parse_location("minio:").kind == "s3"
    assert parse_location("blobs:container/x").kind == "azure"
    with pytest.raises(LocationError, match="unknown remote 'nope'"):
        parse_location("nope:x")
    assert remote_kinds() == {"default": "s3", "b2": "s3", "minio": "s3", "blobs": "azure"}


@pytest.mark.usefixtures("remotes_env")
def test_remote_kind() -> None:
    assert remote_kind("blobs") == "azure"
    assert remote_kind("minio") == "s3"
    assert remote_kind("b2") == "s3"
    with pytest.raises(LocationError, match="unknown remote"):
        remote_kind("nope")
