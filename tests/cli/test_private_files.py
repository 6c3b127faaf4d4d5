"""What Herald writes to disk is its own: the data dir, the database with its WAL, media files
and the secret key are readable by the owner only, also on an install from an older version."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx

from cli_support import herald
from herald.config import Settings
from support import Tenant, attach_file, create_post, herald_serve, png, read_banner


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_and_upload_leave_only_owner_only_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with herald_serve(data) as (port, process):
        banner = read_banner(process)
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"x-publora-key": banner["API key"]},
        )
        with client:
            tenant = Tenant(banner["account id"], banner["API key"], banner["platform id"], client)
            group_id = create_post(tenant, status="draft")
            attach_file(tenant, group_id, "photo.png", png((200, 10, 10), (8, 8)))
            # Stat'ed while the server runs: the WAL and shared-memory files exist only then.
            files = {p.relative_to(data).as_posix(): p for p in data.rglob("*")}
            modes = {name: _mode(path) for name, path in files.items()}
    process.communicate(timeout=30)

    assert _mode(data) == 0o700
    for name in ("herald.db", "herald.db-wal", "herald.db-shm"):
        assert modes.pop(name) == 0o600, name
    media = {name: mode for name, mode in modes.items() if name.startswith("media")}
    uploaded = [name for name in media if name.endswith("photo.png")]
    assert len(uploaded) == 1, media
    assert any(name.endswith("~meta.json") for name in media), media
    for name, mode in media.items():
        assert mode == (0o700 if files[name].is_dir() else 0o600), name


def test_the_secret_key_is_generated_outside_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    herald(settings, "accounts", "list")
    assert not (settings.data_dir / "secret.key").exists()
    assert [p.name for p in settings.data_dir.rglob("*key*")] == []
    keys = tmp_path / "data-keys"
    assert _mode(keys) == 0o700
    assert _mode(keys / "secret.key") == 0o600


def test_an_older_install_is_tightened_at_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    herald(settings, "accounts", "list")
    # What an older version left: everything readable by every user of the machine.
    media_dir = settings.data_dir / "media" / "group" / "item"
    media_dir.mkdir(parents=True)
    (media_dir / "photo.png").write_bytes(b"not really a png")
    loose = [settings.data_dir, *settings.data_dir.rglob("*")]
    for path in loose:
        path.chmod(0o755 if path.is_dir() else 0o644)
    # Not Herald's: a data dir may share its folder with other things, left as they are.
    notes = settings.data_dir / "notes.txt"
    notes.write_text("mine")
    notes.chmod(0o644)

    started = herald(settings, "accounts", "list")

    for path in loose:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert _mode(notes) == 0o644
    assert f"{settings.data_dir}: made {len(loose)} files and folders owner-only" in started.stderr
    again = herald(settings, "accounts", "list")
    assert "owner-only" not in again.stderr
