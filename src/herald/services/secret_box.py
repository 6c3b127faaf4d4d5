"""Encryption at rest for platform credentials (Fernet), with the key kept outside the database."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from herald.config import Settings
from herald.keys import load_secret_key


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
    return SecretBox(load_secret_key(settings))
