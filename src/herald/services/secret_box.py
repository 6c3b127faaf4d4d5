"""Encryption at rest for platform credentials (Fernet), with the key kept outside the database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from herald.config import Settings

KEY_FILE_NAME = "secret.key"


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secrets: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())

    def open(self, sealed: bytes) -> dict[str, Any]:
        try:
            value = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken as exc:
            raise ValueError("credentials were sealed with another secret key") from exc
        if not isinstance(value, dict):
            raise ValueError("sealed credentials are not an object")
        return value


def load_secret_box(settings: Settings) -> SecretBox:
    """Use HERALD_SECRET_KEY, else the data directory's key file, creating it (mode 0600) once."""
    if settings.secret_key:
        return SecretBox(settings.secret_key)
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    return SecretBox(path.read_bytes().strip())


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(Fernet.generate_key())
