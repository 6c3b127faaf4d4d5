"""The installation's secret keys: where they come from, and keys derived for each purpose."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from herald.config import Settings
from herald.errors import AppError
from herald.key_file import KeyFileError, create_key_file, file_stamp, parse_key, read_key_file

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
# Warned about once per process, not at each of a command's look-ups.
_warned: set[str] = set()


class SecretKeyError(AppError):
    """The secret keys are missing, unreadable or not Fernet keys; says which, never a key."""

    status_code = 500
    code = "SECRET_KEY_ERROR"


@dataclass(frozen=True)
class KeyRing:
    """Fernet keys: the first seals, every one opens. From HERALD_SECRET_KEY (`key_file` None)
    or from the key file, plus an older install's key file inside the data dir while there is
    one (`legacy_file`); `stamp` is what those files looked like when they were read."""

    keys: tuple[bytes, ...]
    key_file: Path | None = None
    legacy_file: Path | None = None
    stamp: tuple[object, ...] = ()

    @classmethod
    def of(cls, *keys: str | bytes) -> KeyRing:
        """Fixed keys, e.g. a benchmark's own."""
        return cls(tuple(k.encode() if isinstance(k, str) else k for k in keys))

    @property
    def primary(self) -> bytes:
        return self.keys[0]

    def refreshed(self) -> KeyRing:
        """The ring as the key files read now: itself when they have not changed, or cannot be
        read (a file half-edited by hand must not take away keys that worked)."""
        if self.key_file is None or _stamp(self.key_file, self.legacy_file) == self.stamp:
            return self
        try:
            return _read_ring(self.key_file, self.legacy_file)
        except SecretKeyError as exc:
            logger.warning("secret keys not re-read: %s", exc.message)
            return self


def key_file_path(settings: Settings) -> Path:
    """HERALD_SECRET_KEY_FILE, else `secret.key` in a `<data dir>-keys` folder beside the data
    dir: apart from it, so that a backup of the data dir holds no key, and one folder per data
    dir, so that two installs under one parent never share (or prune) each other's keys."""
    if settings.secret_key_file is not None:
        return settings.secret_key_file
    data_dir = settings.data_dir.resolve()
    return data_dir.parent / f"{data_dir.name or 'herald'}-keys" / KEY_FILE_NAME


def legacy_key_file(settings: Settings) -> Path:
    """Where versions before the key moved out generated it: inside the data dir."""
    return settings.data_dir / KEY_FILE_NAME


def missing_key_file(settings: Settings) -> Path | None:
    """The key file that loading would generate, or None when there are keys to read (an
    older install's key inside the data dir counts: it is read until moved to the key file)."""
    if settings.secret_key:
        return None
    key_file = key_file_path(settings)
    if key_file.exists() or legacy_key_file(settings).exists():
        return None
    return key_file


def load_key_ring(settings: Settings) -> KeyRing:
    """HERALD_SECRET_KEY, else the key file, generated (0600 in a 0700 folder) when there are
    no keys to read yet."""
    if settings.secret_key:
        return KeyRing(_parse_keys(settings.secret_key))
    missing = missing_key_file(settings)
    if missing is not None:
        try:
            created = create_key_file(missing)
        except OSError as exc:
            raise SecretKeyError(
                f"cannot create the key file {missing} ({type(exc).__name__}): set "
                "HERALD_SECRET_KEY_FILE to a place Herald may write, or HERALD_SECRET_KEY"
            ) from None
        if created:
            logger.info("generated a new secret key at %s", missing)
    return _read_ring(key_file_path(settings), legacy_key_file(settings))


def load_secret_key(settings: Settings) -> bytes:
    """The key that seals: the first of the ring."""
    return load_key_ring(settings).primary


def derived_key(settings: Settings, purpose: str) -> bytes:
    """A separate key per purpose (e.g. signing upload URLs), so one leaking reveals no other."""
    return derived_keys(settings, purpose)[0]


def derived_keys(settings: Settings, purpose: str) -> tuple[bytes, ...]:
    """The purpose's key from every key of the ring, the signing one first: what was signed
    before a rotation still verifies until the old key is pruned."""
    ring = load_key_ring(settings).keys
    return tuple(hmac.new(key, purpose.encode(), hashlib.sha256).digest() for key in ring)


def _parse_keys(value: str) -> tuple[bytes, ...]:
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise SecretKeyError("HERALD_SECRET_KEY holds no key")
    try:
        return _distinct(parse_key(key, number) for number, key in enumerate(keys, 1))
    except KeyFileError as exc:
        raise SecretKeyError(f"HERALD_SECRET_KEY: {exc}") from None


def _read_ring(key_file: Path, legacy: Path | None) -> KeyRing:
    stamp = _stamp(key_file, legacy)
    sources = [path for path in (key_file, legacy) if path is not None and path.exists()]
    if len(sources) == 2 and key_file.samefile(sources[1]):
        sources = [key_file]
    if not sources:
        raise SecretKeyError(f"no secret key at {key_file}")
    keys: list[bytes] = []
    for path in sources:
        try:
            keys += read_key_file(path)
        except KeyFileError as exc:
            raise SecretKeyError(str(exc)) from None
        _check_mode(path)
    _warn_about_location(key_file, legacy, sources)
    return KeyRing(_distinct(keys), key_file, legacy, stamp)


def _warn_about_location(key_file: Path, legacy: Path | None, sources: list[Path]) -> None:
    if legacy is None:
        return
    if key_file.resolve() == legacy.resolve():
        _warn_once(
            "%s is inside the data directory, so every backup of the data directory holds both "
            "the key and the credentials it seals: name a file outside it",
            key_file,
        )
    elif legacy in sources and key_file not in sources:
        _warn_once(
            "the secret key is read from %s, inside the data directory, so every backup of the "
            "data directory holds both the key and the credentials it seals; move it out and "
            "Herald reads it there: mkdir -m 700 %s && mv %s %s",
            legacy,
            key_file.parent,
            legacy,
            key_file,
        )
    elif legacy in sources:
        _warn_once(
            "%s, inside the data directory, is still read for credentials sealed under its key; "
            "`herald secrets rotate` then `herald secrets prune` re-seal them and delete it",
            legacy,
        )


def _check_mode(path: Path) -> None:
    if stat.S_IMODE(path.stat().st_mode) & stat.S_IRWXO:
        _warn_once("%s is readable by other users: chmod 600 %s", path, path)


def _warn_once(message: str, *args: object) -> None:
    topic = message % args
    if topic not in _warned:
        _warned.add(topic)
        logger.warning(message, *args)


def _stamp(key_file: Path, legacy: Path | None) -> tuple[object, ...]:
    return (file_stamp(key_file), file_stamp(legacy))


def _distinct(keys: Iterable[bytes]) -> tuple[bytes, ...]:
    """In order, each key once (a key in both files is one key)."""
    return tuple(dict.fromkeys(keys))
