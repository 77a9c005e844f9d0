"""Where Azure credentials come from (the az cli environment, cloudpane's config), and that secrets never show.

Every credential form is used for real against Azurite: a listing and a write must work with it. Failed requests
(a wrong key, a forged SAS signature) must give one line that holds neither the key nor the signature.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from tests.azure.conftest import key_options, new_container_name
from tests.servers import AzuriteServer
from tui.config import RemoteConfig, Settings, load_settings
from tui.errors import AuthError, CloudpaneError, ExitCode, NotFoundError, UnsupportedError, UsageError, one_line
from tui.locations import parse_location
from tui.storage.azure.errors import scrub
from tui.storage.azure.options import DEV_ACCOUNT, DEV_ENDPOINT, AzureOptions, azure_options, parse_connection_string
from tui.storage.azure.remote import AzureRemote
from tui.storage.hub import StoreHub


def account_sas(server: AzuriteServer, *, write: bool = True) -> str:
    return generate_account_sas(
        server.access_key,
        server.secret_key,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, write=write, list=True, create=write, delete=write),
        expiry=datetime.now(UTC) + timedelta(hours=1),
        start=datetime.now(UTC) - timedelta(minutes=5),
    )


async def _round_trip(options: AzureOptions) -> None:
    """Create a container, write and read a blob, list, clean up: the credential really works."""
    remote = await AzureRemote.connect(options)
    name = new_container_name()
    try:
        await remote.create_bucket(name)
        assert name in [b.name for b in await remote.list_buckets()]
        store = remote.store(name)
        await store.put("k.txt", b"hello")
        assert b"".join([c async for c in store.read("k.txt")]) == b"hello"
        await store.delete("k.txt")
        await remote.delete_bucket(name)
        assert name not in [b.name for b in await remote.list_buckets()]
    finally:
        await remote.close()


# ------------------------------------------------------------------------------------------- the environment


async def test_connection_string_from_the_environment(azurite_server: AzuriteServer) -> None:
    options = azure_options(None, Settings(), env=azurite_server.env())
    assert options.name == "az"
    assert options.account_url == azurite_server.blob_endpoint
    assert options.account_name == azurite_server.access_key
    assert options.account_key == azurite_server.secret_key
    assert options.sas_token is None
    await _round_trip(options)


async def test_account_and_key_from_the_environment(azurite_server: AzuriteServer) -> None:
    env = {
        "AZURE_STORAGE_ACCOUNT": azurite_server.access_key,
        "AZURE_STORAGE_KEY": azurite_server.secret_key,
        "AZURE_STORAGE_SERVICE_ENDPOINT": azurite_server.blob_endpoint,
    }
    options = azure_options(None, Settings(), env=env)
    assert (options.account_name, options.account_key) == (azurite_server.access_key, azurite_server.secret_key)
    assert options.account_url == azurite_server.blob_endpoint
    await _round_trip(options)
    # without an endpoint the account's public one is meant
    del env["AZURE_STORAGE_SERVICE_ENDPOINT"]
    assert azure_options(None, Settings(), env=env).account_url == "https://devstoreaccount1.blob.core.windows.net"


async def test_sas_token_from_the_environment(azurite_server: AzuriteServer) -> None:
    token = account_sas(azurite_server)
    env = {
        "AZURE_STORAGE_ACCOUNT": azurite_server.access_key,
        "AZURE_STORAGE_SAS_TOKEN": "?" + token,  # the portal's copy button includes the '?'
        "AZURE_STORAGE_SERVICE_ENDPOINT": azurite_server.blob_endpoint,
    }
    options = azure_options(None, Settings(), env=env)
    assert options.account_key is None and options.sas_token == token
    await _round_trip(options)
    remote = await AzureRemote.connect(options)
    name = new_container_name()
    try:
        await remote.create_bucket(name)
        store = remote.store(name)
        await store.put("k", b"x")
        assert store.features.presign is False
        with pytest.raises(UnsupportedError) as refused:
            await store.presign("k", expires=timedelta(minutes=5))
        assert "account key" in str(refused.value)
        assert len(one_line(refused.value).splitlines()) == 1
        await store.delete("k")
        await remote.delete_bucket(name)
    finally:
        await remote.close()


def test_no_credentials_is_an_auth_error_naming_the_variables() -> None:
    for env in ({}, {"AZURE_STORAGE_ACCOUNT": "acct"}, {"AZURE_STORAGE_KEY": "secretkey=="}):
        with pytest.raises(AuthError) as missing:
            azure_options(None, Settings(), env=env)
        assert missing.value.exit_code == ExitCode.AUTH
        text = str(missing.value)
        assert "AZURE_STORAGE_CONNECTION_STRING" in text and "AZURE_STORAGE_ACCOUNT" in text
        assert "secretkey" not in text


def test_connection_string_forms() -> None:
    dev = parse_connection_string("UseDevelopmentStorage=true", where="x")
    assert (dev.account_url, dev.account_name) == (DEV_ENDPOINT, DEV_ACCOUNT) and dev.account_key
    public = parse_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5;EndpointSuffix=core.chinacloudapi.cn",
        where="x",
    )
    assert public.account_url == "https://acct.blob.core.chinacloudapi.cn"
    sas = parse_connection_string(
        "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sv=1&sig=abcd", where="x"
    )
    assert (sas.account_name, sas.account_key, sas.sas_token) == ("acct", None, "sv=1&sig=abcd")
    for bad, error in (
        ("AccountName=acct", AuthError),  # neither key nor SAS
        ("AccountKey=c2VjcmV0a2V5", UsageError),  # no account, no endpoint
        ("not a connection string", UsageError),
        ("BlobEndpoint=ftp://host/;AccountName=a;AccountKey=c2VjcmV0a2V5", UsageError),
        ("AccountName=a;AccountKey=c2VjcmV0a2V5!not-base64", UsageError),
    ):
        with pytest.raises(error) as refused:
            parse_connection_string(bad, where="AZURE_STORAGE_CONNECTION_STRING")
        assert "c2VjcmV0a2V5" not in str(refused.value)
        assert str(refused.value).startswith("AZURE_STORAGE_CONNECTION_STRING: ")


# ------------------------------------------------------------------------------------------- config remotes


async def test_named_remotes_from_the_config(azurite_server: AzuriteServer) -> None:
    token = account_sas(azurite_server)
    settings = Settings(
        remotes={
            "blobs": RemoteConfig(name="blobs", type="azure", connection_string=azurite_server.connection_string),
            "keyed": RemoteConfig(
                name="keyed",
                type="azure",
                account_name=azurite_server.access_key,
                account_key=azurite_server.secret_key,
                account_url=azurite_server.blob_endpoint,
            ),
            "signed": RemoteConfig(
                name="signed", type="azure", account_url=azurite_server.blob_endpoint, sas_token=token
            ),
            "minio": RemoteConfig(name="minio", type="s3", endpoint_url="http://127.0.0.1:9"),
        },
        default_azure_remote="keyed",
    )
    for name in ("blobs", "keyed", "signed"):
        options = azure_options(name, settings, env={})
        assert options.name == name
        assert options.account_name == azurite_server.access_key  # "signed": from the endpoint's path
        await _round_trip(options)
    assert azure_options(None, settings, env=azurite_server.env()).name == "keyed"  # the config beats the env
    with pytest.raises(UsageError):
        azure_options("minio", settings, env={})
    # through the hub, as the CLI goes: `signed:container/...` parses as an Azure location and lists
    kinds = {name: cfg.type for name, cfg in settings.remotes.items()}
    async with StoreHub(settings) as hub:
        remote = await hub.remote(parse_location("signed:", known_remotes=kinds))
        assert isinstance(remote, AzureRemote) and remote.name == "signed"
        assert isinstance(await remote.list_buckets(), list)
        assert hub.same_remote(parse_location("az://aaa/x"), parse_location("keyed:bbb/y", known_remotes=kinds))
        assert not hub.same_remote(parse_location("az://aaa/x"), parse_location("signed:bbb/y", known_remotes=kinds))


def test_an_azure_remote_without_key_or_token_is_refused() -> None:
    settings = Settings(remotes={"ad": RemoteConfig(name="ad", type="azure", account_name="acct")})
    with pytest.raises(AuthError) as refused:
        azure_options("ad", settings, env={})
    assert "Azure AD" in str(refused.value)


# ------------------------------------------------------------------------------------------- secrets


async def test_a_wrong_key_fails_with_one_line_without_the_key(azurite_server: AzuriteServer) -> None:
    wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    remote = await AzureRemote.connect(key_options(azurite_server, account_key=wrong))
    try:
        for attempt in (remote.list_buckets(), remote.store("anything").stat("k")):
            with pytest.raises(AuthError) as denied:
                await attempt
            text = one_line(denied.value)
            assert wrong not in text and azurite_server.secret_key not in text
            assert len(text.splitlines()) == 1
            # our own line, not the SDK's dump (request ids, the XML body, which on Azure holds the request's MAC)
            assert "<?xml" not in text and "RequestId" not in text and "Content:" not in text
            assert denied.value.exit_code == ExitCode.AUTH
    finally:
        await remote.close()


async def test_a_forged_sas_fails_without_the_signature(azurite_server: AzuriteServer) -> None:
    token = account_sas(azurite_server)
    forged = "&".join(
        f"{k}={'Zm9yZ2VkU2lnbmF0dXJlRm9yZ2VkU2lnbmF0dXJlMTI=' if k == 'sig' else v}"
        for k, v in parse_qsl(token, keep_blank_values=True)
    )
    sig = dict(parse_qsl(forged))["sig"]
    remote = await AzureRemote.connect(
        AzureOptions(account_url=azurite_server.blob_endpoint, account_name=DEV_ACCOUNT, sas_token=forged)
    )
    try:
        with pytest.raises(CloudpaneError) as denied:
            await remote.list_buckets()
        text = one_line(denied.value)
        assert isinstance(denied.value, AuthError), text
        assert sig not in text and "sig=Zm9y" not in text
        assert len(text.splitlines()) == 1
        # a failure that is not about the SAS (a missing blob) does not show it either
        good = await AzureRemote.connect(
            AzureOptions(account_url=azurite_server.blob_endpoint, account_name=DEV_ACCOUNT, sas_token=token)
        )
        try:
            with pytest.raises(NotFoundError) as missing:
                await good.store("no-such-container").stat("k")
            real_sig = dict(parse_qsl(token))["sig"]
            assert real_sig not in str(missing.value)
        finally:
            await good.close()
    finally:
        await remote.close()


async def test_reprs_and_urls_hold_no_secret(azurite_server: AzuriteServer) -> None:
    token = account_sas(azurite_server)
    for options in (
        key_options(azurite_server),
        AzureOptions(account_url=azurite_server.blob_endpoint, sas_token=token),
    ):
        remote = await AzureRemote.connect(options)
        try:
            store = remote.store("some-container")
            shown = " ".join([repr(options), str(options), repr(remote), repr(store), store.url, remote.endpoint_url])
            assert azurite_server.secret_key not in shown
            assert token not in shown and dict(parse_qsl(token))["sig"] not in shown
            assert store.url == "az://some-container"
        finally:
            await remote.close()
    cfg = RemoteConfig(name="x", type="azure", account_url=azurite_server.blob_endpoint, sas_token=token)
    assert token not in repr(cfg)


def test_scrub_hides_known_secrets_and_any_signature() -> None:
    assert scrub("key=abcdefgh in text", ["abcdefgh"]) == "key=*** in text"
    assert scrub("GET /c/b?sv=2020&sig=AbC%2Bd&se=1 failed", []) == "GET /c/b?sv=2020&sig=***&se=1 failed"
    assert scrub("sig=xyz", []) == "sig=***"


def test_config_file_azure_remotes(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        'default_azure_remote = "signed"\n'
        '[remotes.signed]\ntype = "azure"\naccount_url = "https://acct.blob.core.windows.net"\n'
        'sas_token = "sv=2025-11-05&sig=c2VjcmV0U2lnbmF0dXJl"\n'
    )
    settings = load_settings(cfg, env={})
    remote = settings.remotes["signed"]
    assert remote.sas_token == "sv=2025-11-05&sig=c2VjcmV0U2lnbmF0dXJl"
    assert "c2VjcmV0U2lnbmF0dXJl" not in repr(remote)
    options = azure_options(None, settings, env={})
    assert (options.name, options.account_name, options.account_key) == ("signed", "acct", None)
    assert "c2VjcmV0U2lnbmF0dXJl" not in repr(options)
    for body, reason in (
        ('account_name = "a"\naccount_key = "a2V5"\nsas_token = "sig=c2VjcmV0U2lnbmF0dXJl"\n', "not both"),
        ("sas_token = 12345\n", "must be a string"),
        ('endpoint_url = "https://x"\n', "does not apply"),
    ):
        cfg.write_text(f'[remotes.bad]\ntype = "azure"\n{body}')
        with pytest.raises(UsageError) as refused:
            load_settings(cfg, env={})
        assert reason in str(refused.value)
        assert "c2VjcmV0U2lnbmF0dXJl" not in str(refused.value) and "12345" not in str(refused.value)
