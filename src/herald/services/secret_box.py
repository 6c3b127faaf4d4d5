"""Encryption at rest for platform credentials (Fernet), with the keys kept outside the database."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from herald.config import Settings
from herald.keys import KeyRing, load_key_ring


class SecretBox:
    """Seals with the first key of the ring and opens with any of them.

    A ring read from the key file follows it, which is what lets `herald secrets rotate` run
    beside a live server: before sealing, the box re-reads the file if it changed (so nothing
    is sealed under a key that is being retired), and when no key opens a credential it looks
    again (another process may have added a key and re-sealed under it)."""

    def __init__(self, keys: KeyRing | str | bytes) -> None:
        self._use(keys if isinstance(keys, KeyRing) else KeyRing.of(keys))

    @property
    def ring(self) -> KeyRing:
        return self._ring

    def seal(self, secrets: dict[str, Any]) -> bytes:
        self._follow()
        return self._sealer.encrypt(json.dumps(secrets, sort_keys=True).encode())

    def open(self, sealed: bytes) -> dict[str, Any]:
        try:
            plain = self._opener.decrypt(sealed)
        except InvalidToken:
            if not self._follow():
                raise ValueError("credentials were sealed with another secret key") from None
            return self.open(sealed)
        value = json.loads(plain)
        if not isinstance(value, dict):
            raise ValueError("sealed credentials are not an object")
        return value

    def key_index(self, sealed: bytes) -> int | None:
        """Which key of the ring opens `sealed` (0: the one that seals), or None."""
        for index, fernet in enumerate(self._fernets):
            try:
                fernet.decrypt(sealed)
            except InvalidToken:
                continue
            return index
        return None

    def reseal(self, sealed: bytes) -> bytes:
        """The same credentials sealed under the first key (their timestamp kept)."""
        try:
            return self._opener.rotate(sealed)
        except InvalidToken:
            raise ValueError("credentials were sealed with another secret key") from None

    def _follow(self) -> bool:
        ring = self._ring.refreshed()
        if ring is self._ring:
            return False
        self._use(ring)
        return True

    def _use(self, ring: KeyRing) -> None:
        self._ring = ring
        self._fernets = [Fernet(key) for key in ring.keys]
        self._sealer = self._fernets[0]
        self._opener = MultiFernet(self._fernets)


def load_secret_box(settings: Settings) -> SecretBox:
    return SecretBox(load_key_ring(settings))
