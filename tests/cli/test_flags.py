"""The global flags, spelled as the aws cli spells them: ``--profile``, ``--endpoint-url``, ``--region``, ``-q``,
``--no-progress``, before the command or after it. The real executable against moto; the environment's own
``AWS_ENDPOINT_URL`` points at a dead port, so a command only reaches moto through the flag (control plane:
listings of buckets, mb; data plane, obstore: the recursive listing and the GET of a download)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli
from tests.servers import S3Server


def _dead_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more


def _keys_only(server: S3Server, tmp_path: Path) -> Cli:
    """The server's credentials, but AWS_ENDPOINT_URL at a dead port: only --endpoint-url reaches moto."""
    return Cli({**server.env(), "AWS_ENDPOINT_URL": _dead_endpoint()}, cwd=tmp_path)


def test_endpoint_url_before_and_after_the_command_reaches_both_planes(
    moto_server: S3Server, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("ep")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="dir/a.txt", Body=b"alpha")
    moto_s3.put_object(Bucket=bucket, Key="dir/b.txt", Body=b"bravo")
    cli = _keys_only(moto_server, tmp_path)
    url = moto_server.endpoint_url

    without, before, after, recursive, download = cli.run_many(
        ["ls", f"s3://{bucket}/"],
        ["--endpoint-url", url, "ls", f"s3://{bucket}/"],
        ["ls", "--endpoint-url", url, f"s3://{bucket}/"],
        ["ls", "-r", f"s3://{bucket}/", "--endpoint-url", url],
        ["cp", "-r", "--endpoint-url", url, f"s3://{bucket}/dir/", str(tmp_path / "down")],
    )
    assert without.returncode == 6 and "connection refused" in without.stderr, without  # the env's dead port
    assert before.check(0).stdout_lines[-1].endswith("PRE dir/"), before
    assert after.check(0).stdout == before.stdout, after
    assert [line.split()[-1] for line in recursive.check(0).stdout_lines] == ["dir/a.txt", "dir/b.txt"], recursive
    download.check(0)
    assert (tmp_path / "down" / "a.txt").read_bytes() == b"alpha"
    assert (tmp_path / "down" / "b.txt").read_bytes() == b"bravo"

    up = tmp_path / "up.txt"
    up.write_bytes(b"uploaded")
    cli.run("cp", str(up), f"s3://{bucket}/up.txt", "--endpoint-url", url).check(0)
    assert moto_s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded"


def test_bad_endpoint_url_is_one_line_exit_2(moto_cli: Cli) -> None:
    for args in (["ls", "--endpoint-url", "ftp://x", "s3://"], ["--endpoint-url", "http://", "ls", "s3://"]):
        line = moto_cli.run(*args).one_error_line(2)
        assert "--endpoint-url" in line, line


def test_profile_picks_an_aws_profile_or_a_remote_of_the_config(
    moto_server: S3Server, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("prof")
    moto_s3.create_bucket(Bucket=bucket)
    moto_s3.put_object(Bucket=bucket, Key="k.txt", Body=b"x")
    aws_config = tmp_path / "aws-config"
    aws_config.write_text(
        f"[profile mine]\nregion = {moto_server.region}\nendpoint_url = {moto_server.endpoint_url}\n"
        f"aws_access_key_id = {moto_server.access_key}\naws_secret_access_key = {moto_server.secret_key}\n"
    )
    config_dir = tmp_path / "cfg"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        f'[remotes.lab]\ntype = "s3"\nendpoint_url = "{moto_server.endpoint_url}"\n'
        f'access_key_id = "{moto_server.access_key}"\nsecret_access_key = "{moto_server.secret_key}"\n'
        f'region = "{moto_server.region}"\n'
        '[remotes.blobs]\ntype = "azure"\naccount_url = "http://127.0.0.1:9/acct"\n'
    )
    # no AWS_* credentials or endpoint in the environment: only the profile (or the remote) knows the way
    cli = Cli(cwd=tmp_path).with_env(AWS_CONFIG_FILE=str(aws_config), CLOUDPANE_CONFIG_DIR=str(config_dir))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        cli.env.pop(name, None)

    aws_profile, remote, group_level, missing, azure = cli.run_many(
        ["ls", "--profile", "mine", f"s3://{bucket}/"],
        ["ls", "--profile", "lab", f"s3://{bucket}/"],
        ["--profile", "lab", "ls", f"s3://{bucket}/"],
        ["ls", "--profile", "nosuch", f"s3://{bucket}/"],
        ["ls", "--profile", "blobs", f"s3://{bucket}/"],
    )
    assert aws_profile.check(0).stdout_lines[0].endswith(" k.txt"), aws_profile
    assert remote.check(0).stdout == aws_profile.stdout, remote
    assert group_level.check(0).stdout == aws_profile.stdout, group_level
    line = missing.one_error_line(2)
    assert "nosuch" in line, line
    assert azure.one_error_line(2) == "cloudpane: error: --profile blobs: that remote is of type azure", azure


def test_region_flag_makes_the_bucket_there(
    moto_server: S3Server, moto_s3: Any, new_bucket: Any, tmp_path: Path
) -> None:
    bucket = new_bucket("reg")
    cli = _keys_only(moto_server, tmp_path)
    cli.run("mb", "--region", "eu-west-2", "--endpoint-url", moto_server.endpoint_url, f"s3://{bucket}").check(0)
    assert moto_s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-2"
    bad = cli.run("ls", "--region", "eu west", "s3://").one_error_line(2)
    assert "--region" in bad, bad


def test_quiet_prints_only_errors(moto_cli: Cli, moto_s3: Any, new_bucket: Any, tmp_path: Path) -> None:
    bucket = new_bucket("quiet")
    moto_s3.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    (src / ".hidden").write_bytes(b"h")

    cp, backup = moto_cli.run_many(
        ["cp", "-q", str(src / "a.txt"), f"s3://{bucket}/a.txt"],
        ["-q", "backup", str(src), f"s3://{bucket}/bk"],
    )
    listing = moto_cli.run("ls", "-q", f"s3://{bucket}/")  # a listing is the command's result: still printed
    assert (cp.check(0).stdout, cp.stderr) == ("", ""), cp
    assert (backup.check(0).stdout, backup.stderr) == ("", ""), backup
    assert moto_s3.get_object(Bucket=bucket, Key="bk/a.txt")["Body"].read() == b"a"
    assert [line.split()[-1] for line in listing.check(0).stdout_lines] == ["a.txt", "bk/"], listing

    loud = moto_cli.run("cp", str(src / "a.txt"), f"s3://{bucket}/b.txt").check(0)
    assert loud.stdout and loud.stderr_lines[-1].startswith("cloudpane: copied 1 file(s)"), loud

    rm = moto_cli.run("rm", "-q", f"s3://{bucket}/a.txt").check(0)
    assert (rm.stdout, rm.stderr) == ("", ""), rm
    # an error is printed whatever -q says
    missing = moto_cli.run("rm", "-q", f"s3://{bucket}/a.txt")
    assert missing.one_error_line(4).startswith("cloudpane: error: "), missing


def test_flags_are_listed_in_every_remote_command_help(moto_cli: Cli) -> None:
    for command in ("ls", "cp", "mv", "rm", "mb", "rb", "versions", "presign", "backup", "restore", "sync"):
        text = moto_cli.run(command, "--help").check(0).stdout
        for flag in ("--profile", "--endpoint-url", "--region", "-q, --quiet", "--no-progress"):
            assert flag in text, (command, flag)


def test_the_flags_shape_s3_only_never_a_named_remote() -> None:
    """The decision, in-process: --profile is what s3:// means (a config remote first, else an AWS profile);
    --endpoint-url and --region replace that remote's; a location that names its remote keeps its settings."""
    from tui.config import RemoteConfig, S3Override, Settings
    from tui.storage.hub import s3_options

    lab = RemoteConfig(name="lab", type="s3", endpoint_url="http://lab:9000", region="lab-1")
    settings = Settings(remotes={"lab": lab})

    settings.s3_override = S3Override(profile="lab")
    opts = s3_options(None, settings)
    assert (opts.name, opts.endpoint_url, opts.region, opts.profile) == ("lab", "http://lab:9000", "lab-1", None)

    settings.s3_override = S3Override(profile="aws-prof", endpoint_url="https://other:9443", region="eu-west-2")
    opts = s3_options(None, settings)
    assert (opts.name, opts.profile, opts.endpoint_url, opts.region) == (
        "aws-prof",
        "aws-prof",
        "https://other:9443",
        "eu-west-2",
    )
    named = s3_options("lab", settings)  # lab:bucket/key is not redirected
    assert (named.endpoint_url, named.region) == ("http://lab:9000", "lab-1")
