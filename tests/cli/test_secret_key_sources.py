"""Where the secret key comes from: HERALD_SECRET_KEY (one key or several), a key file named by
HERALD_SECRET_KEY_FILE, or a key file beside the data dir; an older install's key inside the
data dir keeps working. Each is checked by opening what a real command sealed."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from cli_support import herald, herald_json, opened_by, sealed_credentials
from herald.config import Settings
from support import herald_serve, publish_now


def _connect_sandbox(settings: Settings, env: dict[str, str] | None = None) -> str:
    account = herald_json(settings, "accounts", "create", "Acme", env=env)["accountId"]
    herald_json(settings, "connections", "add", "sandbox", "--account", account, env=env)
    return str(account)


def test_a_key_file_named_by_the_environment(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key_file = tmp_path / "etc" / "secret.key"
    key_file.parent.mkdir()
    key = Fernet.generate_key()
    key_file.write_bytes(key + b"\n")
    _connect_sandbox(settings, env={"HERALD_SECRET_KEY_FILE": str(key_file)})

    [sealed] = sealed_credentials(settings)
    assert Fernet(key).decrypt(sealed).startswith(b'{"token": ')
    assert key_file.read_bytes() == key + b"\n"
    assert not (tmp_path / "data-keys").exists()
    assert not (settings.data_dir / "secret.key").exists()


def test_a_missing_key_file_named_by_the_environment_is_created_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key_file = tmp_path / "etc" / "herald" / "secret.key"
    _connect_sandbox(settings, env={"HERALD_SECRET_KEY_FILE": str(key_file)})

    [sealed] = sealed_credentials(settings)
    assert Fernet(key_file.read_bytes().strip()).decrypt(sealed).startswith(b'{"token": ')
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700


def test_several_keys_in_the_environment_seal_with_the_first(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = {"HERALD_SECRET_KEY": old}
    account = _connect_sandbox(settings, env=first)
    api_key = herald_json(settings, "keys", "create", account, env=first)["apiKey"]
    [connection] = herald_json(settings, "connections", "list", env=first)["connections"]
    both = {"HERALD_SECRET_KEY": f"{new}, {old}"}
    with herald_serve(settings.data_dir, env=both) as (port, process):
        headers = {"x-publora-key": api_key}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers) as client:
            publish_now(client, connection["platformId"])  # opened with the second key
    process.communicate(timeout=30)
    herald_json(settings, "connections", "add", "sandbox", "--account", account, env=both)

    sealed_under = [
        opened_by(sealed, {"old": old, "new": new}) for sealed in sealed_credentials(settings)
    ]
    assert sorted(sealed_under) == [["new"], ["old"]]
    assert not (tmp_path / "data-keys").exists()


def test_a_malformed_key_is_refused_without_showing_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    good = Fernet.generate_key().decode()
    refused = herald(
        settings, "accounts", "list", check=False,
        env={"HERALD_SECRET_KEY": f"{good},not-a-key-at-all"},
    )  # fmt: skip
    assert refused.returncode == 1
    assert "HERALD_SECRET_KEY: key 2 is not a Fernet key" in refused.stderr
    assert "not-a-key-at-all" not in refused.stderr + refused.stdout
    assert good not in refused.stderr + refused.stdout


def test_an_older_install_with_its_key_in_the_data_dir_keeps_working(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    legacy = settings.data_dir / "secret.key"
    key = Fernet.generate_key()
    legacy.write_bytes(key)
    legacy.chmod(0o600)
    account = herald_json(settings, "accounts", "create", "Acme")["accountId"]
    added = herald(settings, "connections", "add", "sandbox", "--account", account)

    [sealed] = sealed_credentials(settings)
    assert Fernet(key).decrypt(sealed).startswith(b'{"token": ')
    assert legacy.read_bytes() == key
    assert not (tmp_path / "data-keys").exists()
    keys = tmp_path / "data-keys"
    assert f"mkdir -m 700 {keys} && mv {legacy} {keys / 'secret.key'}" in added.stderr
    assert key.decode() not in added.stderr + added.stdout


def test_an_older_install_moves_its_key_to_a_named_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    legacy = settings.data_dir / "secret.key"
    key = Fernet.generate_key()
    legacy.write_bytes(key)
    target = tmp_path / "etc" / "herald" / "secret.key"
    env = {"HERALD_SECRET_KEY_FILE": str(target)}
    account = herald_json(settings, "accounts", "create", "Acme", env=env)["accountId"]
    added = herald(settings, "connections", "add", "sandbox", "--account", account, env=env)
    assert f"mkdir -m 700 {target.parent} && mv {legacy} {target}" in added.stderr
    assert not target.exists()  # no second key made up beside the first

    target.parent.mkdir(mode=0o700, parents=True)
    legacy.rename(target)
    listed = herald(settings, "connections", "list", env=env)
    assert listed.stderr == ""
    [sealed] = sealed_credentials(settings)
    assert Fernet(target.read_bytes().strip()).decrypt(sealed).startswith(b'{"token": ')


def test_no_new_key_is_made_up_for_credentials_sealed_under_a_lost_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    _connect_sandbox(settings)
    key_file = tmp_path / "data-keys" / "secret.key"
    key = key_file.read_bytes()
    key_file.unlink()  # e.g. a data dir restored from a backup without its key

    refused = herald(settings, "connections", "list", check=False)
    assert refused.returncode == 1
    assert f"no secret key at {key_file}" in refused.stderr
    assert "1 sealed credential" in refused.stderr
    assert not key_file.exists()
    key_file.write_bytes(key)
    herald(settings, "connections", "list")
