"""The installation's secret key, and keys derived from it for each purpose."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet

from herald.config import Settings

KEY_FILE_NAME = "secret.key"


def load_secret_key(settings: Settings) -> bytes:
    """HERALD_SECRET_KEY, else the data directory's key file, created (mode 0600) once."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes().strip()


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A separate key per purpose (e.g. signing upload URLs), so one leaking reveals no other."""
    return hmac.new(load_secret_key(settings), purpose.encode(), hashlib.sha256).digest()


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(Fernet.generate_key())
