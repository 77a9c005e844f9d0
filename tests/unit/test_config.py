"""tui.config: XDG paths, the TOML file, the environment over it, remotes, AWS profile names."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tui.config import (
    RemoteConfig,
    Settings,
    aws_profiles,
    cache_dir,
    config_dir,
    load_settings,
    parse_size,
    state_dir,
)
from tui.errors import ExitCode, UsageError, exit_code_for

MiB = 1024 * 1024
SECRET = "s3cr3t-VALUE-never-shown"


@pytest.fixture
def cfg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty config dir for this test; returns the config file's path (not yet written)."""
    directory = tmp_path / "config"
    directory.mkdir()
    monkeypatch.setenv("CLOUDPANE_CONFIG_DIR", str(directory))
    for var in ("CLOUDPANE_CONCURRENCY", "CLOUDPANE_PART_SIZE", "CLOUDPANE_MAX_FILES_IN_FLIGHT"):
        monkeypatch.delenv(var, raising=False)
    return directory / "config.toml"


def usage_error(path: Path | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(UsageError) as info:
        load_settings(path, env=env)
    assert exit_code_for(info.value) == ExitCode.USAGE
    message = str(info.value)
    assert "\n" not in message
    assert SECRET not in message
    return message


# --- directories ---------------------------------------------------------------------------------


def test_dirs_honour_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLOUDPANE_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("CLOUDPANE_STATE_DIR", str(tmp_path / "s"))
    monkeypatch.setenv("CLOUDPANE_CACHE_DIR", str(tmp_path / "k"))
    assert config_dir() == tmp_path / "c"
    assert state_dir() == tmp_path / "s"
    assert cache_dir() == tmp_path / "k"


def test_dirs_default_to_xdg(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xc")}
    # platformdirs reads os.environ; only the override is taken from ``env``
    assert config_dir(env).name == "cloudpane"
    assert state_dir(env).name == "cloudpane"
    assert cache_dir(env).name == "cloudpane"
    assert config_dir({"CLOUDPANE_CONFIG_DIR": str(tmp_path)}) == tmp_path


# --- the file ------------------------------------------------------------------------------------


def test_defaults_without_a_file(cfg: Path) -> None:
    assert not cfg.exists()
    settings = load_settings()
    assert settings == Settings()
    assert (settings.concurrency, settings.part_size, settings.max_files_in_flight) == (8, 8 * MiB, 16)
    assert settings.remotes == {}
    assert settings.default_s3_remote is None and settings.default_azure_remote is None


def test_file_parsing(cfg: Path) -> None:
    cfg.write_text(
        f"""
concurrency = 4
part_size = "16MiB"
max_files_in_flight = 3
default_s3_remote = "minio"
default_azure_remote = "blobs"

[remotes.minio]
type = "s3"
endpoint_url = "http://127.0.0.1:9000"
region = "us-east-1"
access_key_id = "AKIAEXAMPLE"
secret_access_key = "{SECRET}"
session_token = "{SECRET}"
addressing_style = "path"

[remotes.b2]
type = "s3"
profile = "b2"

[remotes.blobs]
type = "azure"
account_name = "acct"
account_key = "{SECRET}"
account_url = "https://acct.blob.core.windows.net"

[remotes.azurite]
type = "azure"
connection_string = "{SECRET}"
"""
    )
    settings = load_settings()
    assert settings.concurrency == 4
    assert settings.part_size == 16 * MiB
    assert settings.max_files_in_flight == 3
    assert settings.default_s3_remote == "minio"
    assert settings.default_azure_remote == "blobs"
    assert set(settings.remotes) == {"minio", "b2", "blobs", "azurite"}
    minio = settings.remotes["minio"]
    assert minio == RemoteConfig(
        name="minio",
        type="s3",
        endpoint_url="http://127.0.0.1:9000",
        region="us-east-1",
        access_key_id="AKIAEXAMPLE",
        secret_access_key=SECRET,
        session_token=SECRET,
        addressing_style="path",
    )
    assert settings.remotes["b2"].profile == "b2"
    assert settings.remotes["blobs"].type == "azure"
    assert settings.remotes["blobs"].account_key == SECRET
    assert settings.remotes["azurite"].connection_string == SECRET


def test_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("concurrency = 2\n")
    assert load_settings(path, env={}).concurrency == 2
    assert "not found" in usage_error(tmp_path / "missing.toml", env={})


def test_part_size_as_bytes(cfg: Path) -> None:
    cfg.write_text(f"part_size = {32 * MiB}\n")
    assert load_settings().part_size == 32 * MiB


def test_default_s3_remote_may_be_an_aws_profile(cfg: Path) -> None:
    cfg.write_text('default_s3_remote = "some-profile"\n')
    assert load_settings().default_s3_remote == "some-profile"


# --- the environment beats the file ---------------------------------------------------------------


def test_env_beats_file(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg.write_text('concurrency = 4\npart_size = "16MiB"\nmax_files_in_flight = 3\n')
    monkeypatch.setenv("CLOUDPANE_CONCURRENCY", "12")
    monkeypatch.setenv("CLOUDPANE_PART_SIZE", "64M")
    monkeypatch.setenv("CLOUDPANE_MAX_FILES_IN_FLIGHT", "5")
    settings = load_settings()
    assert (settings.concurrency, settings.part_size, settings.max_files_in_flight) == (
        12,
        64 * MiB,
        5,
    )


def test_env_mapping_argument(cfg: Path) -> None:
    cfg.write_text("concurrency = 4\n")
    env = {"CLOUDPANE_CONFIG_DIR": str(cfg.parent), "CLOUDPANE_PART_SIZE": str(10 * MiB)}
    settings = load_settings(env=env)
    assert settings.concurrency == 4
    assert settings.part_size == 10 * MiB


def test_empty_env_values_are_ignored(cfg: Path) -> None:
    env = {"CLOUDPANE_CONFIG_DIR": str(cfg.parent), "CLOUDPANE_CONCURRENCY": ""}
    assert load_settings(env=env).concurrency == 8


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("8MiB", 8 * MiB),
        ("16M", 16 * MiB),
        ("16m", 16 * MiB),
        ("16MB", 16 * MiB),
        ("1G", 1024 * MiB),
        ("1.5GiB", 1536 * MiB),
        ("512K", 512 * 1024),
        ("8388608", 8 * MiB),
        ("100B", 100),
        (" 8 MiB ", 8 * MiB),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "8 XB", "-8M", "8MiBs", "eight", "0x10"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


@pytest.mark.parametrize(
    ("var", "value", "words"),
    [
        ("CLOUDPANE_CONCURRENCY", "lots", "whole number"),
        ("CLOUDPANE_CONCURRENCY", "0", "between"),
        ("CLOUDPANE_CONCURRENCY", "-3", "between"),
        ("CLOUDPANE_MAX_FILES_IN_FLIGHT", "1.5", "whole number"),
        ("CLOUDPANE_PART_SIZE", "huge", "not a size"),
        ("CLOUDPANE_PART_SIZE", "1M", "between 5MiB and 5GiB"),
        ("CLOUDPANE_PART_SIZE", "6GiB", "between 5MiB and 5GiB"),
    ],
)
def test_bad_env_values(cfg: Path, var: str, value: str, words: str) -> None:
    message = usage_error(env={"CLOUDPANE_CONFIG_DIR": str(cfg.parent), var: value})
    assert var in message
    assert words in message


# --- bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("concurrency = ", "not valid TOML"),
        ("[remotes.x\n", "not valid TOML"),
        ('concurrency = "8"', "whole number"),
        ("concurrency = true", "whole number"),
        ("concurrency = 0", "between"),
        ("max_files_in_flight = 100000", "between"),
        ('part_size = "lots"', "part_size: 'lots' is not a size"),
        ("part_size = 1024", "between 5MiB and 5GiB"),
        ("part_size = 1.5", "size"),
        ("concurency = 8", "unknown setting 'concurency'"),
        ("remotes = 3", "remotes must be a table"),
        ("[remotes]\nx = 3", "must be a table"),
        ("[remotes.x]\nregion = 'a'", "type must be"),
        ("[remotes.x]\ntype = 'gcs'", "type must be"),
        ("[remotes.'bad name']\ntype = 's3'", "remote name"),
        ("[remotes.'a:b']\ntype = 's3'", "remote name"),
        ("[remotes.x]\ntype = 's3'\nendpoint = 'http://h'", "unknown key 'endpoint'"),
        ("[remotes.x]\ntype = 's3'\nendpoint_url = 'h:9000'", "http:// or https://"),
        ("[remotes.x]\ntype = 's3'\nregion = 5", "region must be a string"),
        ("[remotes.x]\ntype = 's3'\naddressing_style = 'sideways'", "addressing_style"),
        ("[remotes.x]\ntype = 's3'\naccount_name = 'a'", "does not apply"),
        ("[remotes.x]\ntype = 'azure'\nendpoint_url = 'https://h'", "does not apply"),
        ("[remotes.x]\ntype = 's3'\naccess_key_id = 'AK'", "go together"),
        ("[remotes.x]\ntype = 's3'\nprofile = 'p'\naccess_key_id = 'a'\nsecret_access_key = 'b'", "either profile"),
        ('default_azure_remote = "nope"', "not a remote in this file"),
        ("default_s3_remote = 5", "must be a string"),
        ("default_s3_remote = 'az'\n[remotes.az]\ntype = 'azure'", "is an azure remote"),
        ("default_azure_remote = 'x'\n[remotes.x]\ntype = 's3'", "is an s3 remote"),
    ],
)
def test_bad_file(cfg: Path, text: str, words: str) -> None:
    cfg.write_text(text + "\n")
    message = usage_error()
    assert str(cfg) in message
    assert words in message


def test_bad_file_never_echoes_a_secret(cfg: Path) -> None:
    for key in ("secret_access_key", "session_token"):
        cfg.write_text(f"[remotes.x]\ntype = 's3'\n{key} = ['{SECRET}']\n")
        assert f"{key} must be a string" in usage_error()
    cfg.write_text(f"[remotes.x]\ntype = 'azure'\naccount_key = {{ v = '{SECRET}' }}\n")
    usage_error()
    cfg.write_text(f"[remotes.x]\ntype = 's3'\nsecret_access_key = '{SECRET}'\n")
    usage_error()  # a secret without its access key id
    cfg.write_text(f"[remotes.x]\ntype = 's3'\nsecret_access_key = '{SECRET}\n")
    usage_error()  # unterminated string: the TOML error must not quote the line


def test_unreadable_file(cfg: Path) -> None:
    cfg.write_bytes(b"concurrency = 4\n\xff\xfe\n")
    assert str(cfg) in usage_error()
    cfg.unlink()
    cfg.mkdir()  # a directory where the file should be
    assert str(cfg) in usage_error()


# --- secrets never shown -------------------------------------------------------------------------


def test_repr_hides_secrets() -> None:
    remote = RemoteConfig(
        name="x",
        type="s3",
        access_key_id="AKIAEXAMPLE",
        secret_access_key=SECRET,
        session_token=SECRET + "2",
    )
    azure = RemoteConfig(
        name="y",
        type="azure",
        connection_string=SECRET,
        account_name="acct",
        account_key=SECRET,
    )
    for text in (repr(remote), str(remote), repr(azure), repr(Settings(remotes={"x": remote}))):
        assert SECRET not in text
        assert "'***'" in text
    assert "AKIAEXAMPLE" in repr(remote)
    assert "account_name='acct'" in repr(azure)
    assert "secret_access_key" not in repr(RemoteConfig(name="z", type="s3"))


def test_remote_is_frozen() -> None:
    remote = RemoteConfig(name="x", type="s3")
    with pytest.raises(dataclasses.FrozenInstanceError):
        remote.name = "y"  # type: ignore[misc]


# --- AWS profiles --------------------------------------------------------------------------------


def test_aws_profiles(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        """
[default]
region = us-east-1

[profile b2]
endpoint_url = https://s3.us-west-004.backblazeb2.com

[profile   spaced  ]
region = x

[sso-session corp]
sso_start_url = https://example.awsapps.com/start

[services local]
s3 =
  endpoint_url = http://127.0.0.1:9000

[notaprofile]
region = y
"""
    )
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = A\n\n[minio]\naws_access_key_id = B\n\n[DEFAULT]\naws_access_key_id = C\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    assert aws_profiles() == {"default", "b2", "spaced", "minio", "DEFAULT"}


def test_aws_profiles_env_argument(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile only]\n")
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no")}
    assert aws_profiles(env) == {"only"}


def test_aws_profiles_default_paths(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "config").write_text("[profile home-config]\n")
    (aws / "credentials").write_text("[home-creds]\n")
    assert aws_profiles({"HOME": str(tmp_path)}) == {"home-config", "home-creds"}


def test_aws_profiles_missing_files(tmp_path: Path) -> None:
    env = {"AWS_CONFIG_FILE": str(tmp_path / "a"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "b")}
    assert aws_profiles(env) == set()
    assert aws_profiles({"HOME": str(tmp_path / "nohome")}) == set()


def test_aws_profiles_broken_files(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("region = before any section\n[profile x]\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[good]\nkey = v\nthis line is not ini\n[later]\n")
    env = {"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    assert {"good", "later"} <= aws_profiles(env)
