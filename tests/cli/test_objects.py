"""``stat``, ``du``, and what cp, mv and rm take beyond a plain copy (``--version-id``, ``--include``/``--exclude``,
``--dry-run``, ``--content-type``, ``--metadata``, ``--storage-class``, ``--acl``): the real executable against moto,
rclone's S3 server, Azurite and local files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli, all_files, tree
from tests.servers import AzuriteServer


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _seed(root: Path) -> None:
    for rel, body in {
        "a.txt": b"a",
        "b.log": b"bb",
        "sub/c.txt": b"ccc",
        "sub/d.log": b"dddd",
        "sub/deep/e.tmp": b"eeeee",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


# -- stat --------------------------------------------------------------------------------------------------------
def test_stat_shows_what_head_object_says(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("stat")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = moto_s3.put_object(Bucket=bucket, Key="k", Body=b"old")["VersionId"]
    (tmp_path / "k").write_bytes(b"new content")
    moto_cli.run(
        "cp",
        "--content-type",
        "text/plain",
        "--metadata",
        "Owner=ops",
        "--metadata",
        "team=blue",
        "--storage-class",
        "standard_ia",
        "k",
        f"s3://{bucket}/k",
    ).check()
    head = moto_s3.head_object(Bucket=bucket, Key="k")

    text = moto_cli.run("stat", f"s3://{bucket}/k").check().stdout_lines
    fields = dict(line.split(": ", 1) for line in text)
    assert {k: v.strip() for k, v in fields.items()} | {} == {
        "location": f"s3://{bucket}/k",
        "size": "11 (11 Bytes)",
        "last_modified": head["LastModified"].isoformat(),
        "mtime": fields["mtime"].strip(),
        "etag": head["ETag"].strip('"'),
        "version_id": head["VersionId"],
        "storage_class": "STANDARD_IA",
        "content_type": "text/plain",
        "metadata.mtime": head["Metadata"]["mtime"],
        "metadata.owner": "ops",
        "metadata.team": "blue",
    }

    data = json.loads(moto_cli.run("stat", "--json", f"s3://{bucket}/k").check().stdout)
    assert data["size"] == 11
    assert data["etag"] == head["ETag"].strip('"')
    assert data["version_id"] == head["VersionId"]
    assert data["storage_class"] == "STANDARD_IA"
    assert data["content_type"] == "text/plain"
    assert data["metadata"] == {"mtime": head["Metadata"]["mtime"], "owner": "ops", "team": "blue"}

    older = json.loads(moto_cli.run("stat", "--json", "--version-id", old, f"s3://{bucket}/k").check().stdout)
    assert (older["size"], older["version_id"]) == (3, old)

    # several at once: one JSON line each; a missing one fails alone (exit 1), the other is still shown
    both = moto_cli.run("stat", "--json", f"s3://{bucket}/k", f"s3://{bucket}/nope")
    assert both.returncode == 1
    assert [json.loads(line)["key"] for line in both.stdout_lines] == ["k"]
    assert both.stderr_lines == [f"cloudpane: failed: s3://{bucket}/nope: stat s3://{bucket}/nope: 404: Not Found"]

    assert moto_cli.run("stat", f"s3://{bucket}/nope").one_error_line(4)
    moto_s3.put_object(Bucket=bucket, Key="dir/x", Body=b"x")
    for folder in (f"s3://{bucket}/dir", f"s3://{bucket}/dir/"):
        line = moto_cli.run("stat", folder).one_error_line(2)
        assert line == f"cloudpane: error: {folder} is a folder: use du or ls"
    assert moto_cli.run("stat", f"s3://{bucket}").one_error_line(2).endswith("is a bucket: use du or ls")


def test_stat_shows_the_rest_of_head_object(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    """What ObjectInfo has no field for (Cache-Control, Content-Disposition, ...) is shown too, untrusted text inert."""
    bucket = new_bucket("stathdr")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"x",
        CacheControl="max-age=60",
        ContentDisposition='attachment; filename="a\x1b[31m.txt"',
        ContentLanguage="de",
    )
    data = json.loads(moto_cli.run("stat", "--json", f"s3://{bucket}/k").check().stdout)
    assert data["headers"]["CacheControl"] == "max-age=60"
    assert data["headers"]["ContentLanguage"] == "de"
    assert data["headers"]["ContentDisposition"] == 'attachment; filename="a\x1b[31m.txt"'
    text = moto_cli.run("stat", f"s3://{bucket}/k").check().stdout
    assert "CacheControl:" in text and "max-age=60" in text and "ContentLanguage:" in text
    assert "\x1b" not in text  # the escape in the server's text is shown escaped, never sent to the terminal


def test_stat_of_local_files_and_azure_blobs(
    moto_cli: Cli, azurite_server: AzuriteServer, new_bucket: Any, tmp_path: Path
) -> None:
    from azure.storage.blob import BlobServiceClient, ContentSettings

    f = tmp_path / "f.bin"
    f.write_bytes(b"12345")
    os.chmod(f, 0o640)
    local = json.loads(moto_cli.run("stat", "--json", "f.bin").check().stdout)
    assert local["size"] == 5
    assert local["mode"] == "0640"
    assert moto_cli.run("stat", str(tmp_path)).one_error_line(2).endswith("is a directory: use du or ls")
    assert moto_cli.run("stat", "missing").one_error_line(4)

    name = new_bucket("azstat")
    service = BlobServiceClient.from_connection_string(azurite_server.connection_string, api_version="2025-11-05")
    service.create_container(name)
    service.get_blob_client(name, "b.txt").upload_blob(
        b"blob", metadata={"k": "v"}, content_settings=ContentSettings(content_type="text/plain")
    )
    az = Cli(azurite_server.env(), cwd=tmp_path)
    blob = json.loads(az.run("stat", "--json", f"az://{name}/b.txt").check().stdout)
    assert blob["size"] == 4
    assert blob["content_type"] == "text/plain"
    assert blob["metadata"] == {"k": "v"}
    assert blob["etag"]
    assert az.run("stat", f"az://{name}/nope").one_error_line(4)


# -- du ----------------------------------------------------------------------------------------------------------
def test_du_counts_per_prefix_and_storage_class(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    bucket = new_bucket("du")
    moto_s3.create_bucket(Bucket=bucket)
    for key, size, cls in [
        ("top.txt", 1, "STANDARD"),
        ("a/1", 10, "STANDARD"),
        ("a/x/2", 100, "STANDARD_IA"),
        ("b/3", 1000, "STANDARD"),
    ]:
        moto_s3.put_object(Bucket=bucket, Key=key, Body=b"z" * size, StorageClass=cls)
    rows = [json.loads(line) for line in moto_cli.run("du", "--json", f"s3://{bucket}").check().stdout_lines]
    assert rows == [
        {"prefix": f"s3://{bucket}/a/", "count": 2, "bytes": 110},
        {"prefix": f"s3://{bucket}/b/", "count": 1, "bytes": 1000},
        {"storage_class": "STANDARD", "count": 3, "bytes": 1011},
        {"storage_class": "STANDARD_IA", "count": 1, "bytes": 100},
        {"prefix": f"s3://{bucket}/", "total": True, "count": 4, "bytes": 1111},
    ]
    deep = [json.loads(line) for line in moto_cli.run("du", "-r", "--json", f"s3://{bucket}/a/").check().stdout_lines]
    assert deep[0] == {"prefix": f"s3://{bucket}/a/x/", "count": 1, "bytes": 100}
    assert deep[-1] == {"prefix": f"s3://{bucket}/a/", "total": True, "count": 2, "bytes": 110}

    text = moto_cli.run("du", f"s3://{bucket}/").check().stdout_lines
    assert text[0].split() == ["2", "110", "110", "Bytes", f"s3://{bucket}/a/"]
    assert text[-1].split() == ["4", "1111", "1.1", "KiB", "total", f"s3://{bucket}/"]
    # not a terminal: no progress line on stderr
    assert moto_cli.run("du", f"s3://{bucket}/").check().stderr == ""

    empty = moto_cli.run("du", "--json", f"s3://{bucket}/nothing/").check().stdout_lines
    assert [json.loads(line) for line in empty] == [
        {"prefix": f"s3://{bucket}/nothing/", "total": True, "count": 0, "bytes": 0}
    ]
    assert moto_cli.run("du", f"s3://{bucket}/nothing").one_error_line(4)
    assert moto_cli.run("du", f"s3://{bucket}/top.txt").one_error_line(2).endswith("is an object: use stat")
    assert moto_cli.run("du", "s3://").one_error_line(2)


def test_du_of_a_local_directory(moto_cli: Cli, tmp_path: Path) -> None:
    _seed(tmp_path / "src")
    rows = [json.loads(line) for line in moto_cli.run("du", "-r", "--json", "src").check().stdout_lines]
    prefix = f"{tmp_path / 'src'}/"
    assert rows[0] == {"prefix": f"{prefix}sub/", "count": 3, "bytes": 12}
    assert rows[1] == {"prefix": f"{prefix}sub/deep/", "count": 1, "bytes": 5}
    assert rows[-1] == {"prefix": prefix, "total": True, "count": 5, "bytes": 15}
    assert moto_cli.run("du", "nope").one_error_line(4)
    assert moto_cli.run("du", "src/a.txt").one_error_line(2).endswith("is a file: use stat")


# -- cp --version-id ---------------------------------------------------------------------------------------------
def test_cp_version_id_copies_that_version(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("ver")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = moto_s3.put_object(Bucket=bucket, Key="k", Body=b"first")["VersionId"]
    moto_s3.put_object(Bucket=bucket, Key="k", Body=b"second")
    moto_cli.run("cp", "--version-id", old, f"s3://{bucket}/k", "old.txt").check()
    assert (tmp_path / "old.txt").read_bytes() == b"first"
    moto_cli.run("cp", "--version-id", old, f"s3://{bucket}/k", f"s3://{bucket}/restored").check()  # server-side
    assert moto_s3.get_object(Bucket=bucket, Key="restored")["Body"].read() == b"first"
    assert moto_cli.run("cp", "--version-id", "nope", f"s3://{bucket}/k", "x.txt").returncode in (2, 4)
    assert not (tmp_path / "x.txt").exists()
    line = moto_cli.run("cp", "-r", "--version-id", old, f"s3://{bucket}/", "d/").one_error_line(2)
    assert line == "cloudpane: error: --version-id picks a version of one object: it goes with one source and no -r"


# -- include / exclude -------------------------------------------------------------------------------------------
def test_cp_mv_rm_recursive_with_include_and_exclude(
    moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("filt")
    moto_s3.create_bucket(Bucket=bucket)
    _seed(tmp_path / "src")
    moto_cli.run("cp", "-r", "--exclude", "*.log", "--exclude", "deep/", "src/", f"s3://{bucket}/up/").check()
    assert _keys(moto_s3, bucket) == ["up/a.txt", "up/sub/c.txt"]
    moto_cli.run("cp", "-r", "--include", "*.log", "src/", f"s3://{bucket}/logs/").check()
    assert [k for k in _keys(moto_s3, bucket) if k.startswith("logs/")] == ["logs/b.log", "logs/sub/d.log"]
    # an include wins over an exclude
    moto_cli.run("cp", "-r", "--exclude", "sub/", "--include", "*.tmp", "src/", "back/").check()
    assert tree(tmp_path / "back") == {"a.txt": b"a", "b.log": b"bb", "sub/deep/e.tmp": b"eeeee"}

    # mv -r moves only what is chosen; the rest stays at the source
    moto_cli.run("mv", "-r", "--include", "*.txt", "src/", f"s3://{bucket}/moved/").check()
    assert [k for k in _keys(moto_s3, bucket) if k.startswith("moved/")] == ["moved/a.txt", "moved/sub/c.txt"]
    assert tree(tmp_path / "src") == {"b.log": b"bb", "sub/d.log": b"dddd", "sub/deep/e.tmp": b"eeeee"}

    # rm -r with a filter deletes only what matches
    moto_cli.run("rm", "-r", "--exclude", "sub/", f"s3://{bucket}/logs/").check()
    assert [k for k in _keys(moto_s3, bucket) if k.startswith("logs/")] == ["logs/sub/d.log"]
    # locally, the folders that the deletes emptied go too; the root and the rest stay
    moto_cli.run("rm", "-r", "--include", "deep/", "src").check()
    assert all_files(tmp_path / "src") == ["b.log", "sub", "sub/d.log"]

    nothing = moto_cli.run("rm", "-r", "--include", "*.zip", f"s3://{bucket}/up/").one_error_line(4)
    assert nothing == f"cloudpane: error: s3://{bucket}/up/: nothing matches"
    for verb in ("cp", "mv"):
        line = moto_cli.run(verb, "--exclude", "x", "src/b.log", f"s3://{bucket}/").one_error_line(2)
        assert line == f"cloudpane: error: --include and --exclude choose keys of a folder: they go with {verb} -r"
    line = moto_cli.run("rm", "--include", "x", f"s3://{bucket}/up/a.txt").one_error_line(2)
    assert line == "cloudpane: error: --include and --exclude choose keys of a folder: they go with rm -r"


# -- dry run -----------------------------------------------------------------------------------------------------
def test_dry_run_of_cp_mv_rm_changes_nothing(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("dry")
    moto_s3.create_bucket(Bucket=bucket)
    _seed(tmp_path / "src")
    before = tree(tmp_path / "src")

    cp = moto_cli.run("cp", "-n", "-r", "src/", f"s3://{bucket}/d/").check()
    assert len(cp.stdout_lines) == 5
    assert all(line.startswith("(dry run) copy: ") for line in cp.stdout_lines)
    assert f"(dry run) copy: {tmp_path}/src/a.txt -> s3://{bucket}/d/a.txt (1 Byte)" in cp.stdout_lines
    assert cp.stderr_lines == ["cloudpane: (dry run) would have copied 5 file(s), 15 Bytes"]
    assert _keys(moto_s3, bucket) == []

    mv = moto_cli.run("mv", "--dry-run", "-r", "--exclude", "*.tmp", "src/", f"s3://{bucket}/d/").check()
    assert len(mv.stdout_lines) == 4 and all(line.startswith("(dry run) move: ") for line in mv.stdout_lines)
    assert tree(tmp_path / "src") == before
    assert _keys(moto_s3, bucket) == []

    moto_s3.put_object(Bucket=bucket, Key="k", Body=b"k")
    rm = moto_cli.run("rm", "--dry-run", f"s3://{bucket}/k").check()
    assert rm.stdout_lines == ["(dry run) delete: k"]
    rmr = moto_cli.run("rm", "-r", "-n", "src").check()
    assert len(rmr.stdout_lines) == 5
    assert _keys(moto_s3, bucket) == ["k"]
    assert tree(tmp_path / "src") == before

    # exit codes as a real run would give: a missing source (4), a newer destination (5), a missing key (4)
    assert moto_cli.run("cp", "-n", "nope.txt", f"s3://{bucket}/").returncode == 4
    assert moto_cli.run("rm", "-n", f"s3://{bucket}/nope").one_error_line(4)
    newer = tmp_path / "dst"
    newer.mkdir()
    (newer / "k").write_bytes(b"newer")
    os.utime(newer / "k", (2_000_000_000, 2_000_000_000))
    conflict = moto_cli.run("cp", "-n", f"s3://{bucket}/k", "dst/")
    assert conflict.returncode == 5, conflict
    assert (newer / "k").read_bytes() == b"newer"
    # stdin and stdout: nothing is read or written
    assert moto_cli.run("cp", "-n", "-", f"s3://{bucket}/s").check().stderr_lines == [
        f"cloudpane: (dry run) upload: stdin to s3://{bucket}/s"
    ]
    assert _keys(moto_s3, bucket) == ["k"]


# -- what written objects carry ----------------------------------------------------------------------------------
def test_upload_options_and_refusals(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("opts")
    moto_s3.create_bucket(Bucket=bucket)
    (tmp_path / "f.json").write_bytes(b"{}")

    refused = moto_cli.run("cp", "--acl", "public-read", "f.json", f"s3://{bucket}/f.json").one_error_line(2)
    assert (
        refused == "cloudpane: error: --acl public-read refused: cloudpane writes private objects only (--acl private)"
    )
    assert _keys(moto_s3, bucket) == []
    moto_cli.run("cp", "--acl", "private", "f.json", f"s3://{bucket}/f.json").check()
    grants = moto_s3.get_object_acl(Bucket=bucket, Key="f.json")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only

    bad = {
        ("--metadata", "novalue"): "cloudpane: error: --metadata novalue: expected KEY=VALUE",
        ("--metadata", "a b=c"): "cloudpane: error: --metadata a b=c: a key has letters, digits, -, _ and . only",
        ("--content-type", " "): "cloudpane: error: --content-type is empty",
    }
    for args, line in bad.items():
        assert moto_cli.run("cp", *args, "f.json", f"s3://{bucket}/g").one_error_line(2) == line
    local = moto_cli.run("cp", "--storage-class", "GLACIER", "f.json", "copy.json").one_error_line(2)
    assert local.endswith(": this store has no storage classes (--storage-class)")
    assert not (tmp_path / "copy.json").exists()
    assert (
        moto_cli.run("cp", "--metadata", "a=b", "f.json", "copy.json")
        .one_error_line(2)
        .endswith("local files keep no --metadata")
    )

    # multipart uploads and stdin get them too
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    cli = moto_cli.with_env(CLOUDPANE_PART_SIZE="5MiB")
    cli.run(
        "cp", "--storage-class", "ONEZONE_IA", "--content-type", "x/y", "--metadata", "m=1", big, f"s3://{bucket}/big"
    ).check()
    head = moto_s3.head_object(Bucket=bucket, Key="big")
    assert head["ETag"].strip('"').endswith("-3")
    assert (head["StorageClass"], head["ContentType"], head["Metadata"]["m"]) == ("ONEZONE_IA", "x/y", "1")
    # a copy on the same server with a new content type is not a CopyObject that would keep the old one
    cli.run("cp", "--content-type", "text/csv", f"s3://{bucket}/f.json", f"s3://{bucket}/f.csv").check()
    assert moto_s3.head_object(Bucket=bucket, Key="f.csv")["ContentType"] == "text/csv"


@pytest.mark.parametrize("flag", ["--storage-class", "--metadata"])
def test_stdin_to_a_local_file_refuses_what_it_cannot_keep(moto_cli: Cli, tmp_path: Path, flag: str) -> None:
    value = "GLACIER" if flag == "--storage-class" else "a=b"
    got = moto_cli.run("cp", flag, value, "-", "out.bin")
    assert got.returncode == 2, got
    assert not (tmp_path / "out.bin").exists()


def test_du_draws_a_progress_line_on_a_terminal_only(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    import pty
    import subprocess

    from tests.cli.conftest import cloudpane_command

    bucket = new_bucket("dutty")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="a/b", Body=b"xyz")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*cloudpane_command(), "du", f"s3://{bucket}/"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=moto_cli.env,
    )
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        err += chunk
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 0
    assert b"\rlisted 1 objects, 3 Bytes" in err
    assert err.endswith(b"\r\x1b[K")  # cleared before the results
    assert out.decode().splitlines()[-1].split() == ["1", "3", "3", "Bytes", "total", f"s3://{bucket}/"]


def test_untrusted_keys_and_metadata_stay_inert(moto_cli: Cli, moto_s3: Any, new_bucket: Any) -> None:
    bucket = new_bucket("evil")
    moto_s3.create_bucket(Bucket=bucket)
    key = "d\x1b]0;owned\x07/x\x1b[31m"
    moto_s3.put_object(Bucket=bucket, Key=key, Body=b"1", Metadata={"note": "a\x1b[2Jb"})
    outputs = [
        moto_cli.run("stat", f"s3://{bucket}/{key}").check(),
        moto_cli.run("stat", "--json", f"s3://{bucket}/{key}").check(),
        moto_cli.run("du", "-r", f"s3://{bucket}/").check(),
        moto_cli.run("du", "--json", f"s3://{bucket}/").check(),
        moto_cli.run("rm", "-r", "-n", f"s3://{bucket}/").check(),
        moto_cli.run("cp", "-r", "-n", f"s3://{bucket}/", "dl/").check(),
    ]
    for got in outputs:
        assert "\x1b" not in got.stdout + got.stderr and "\x07" not in got.stdout + got.stderr, got
    assert json.loads(outputs[1].stdout)["key"] == key  # JSON keeps the exact key (escaped on the wire)
