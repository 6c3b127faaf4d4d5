"""Key files: Fernet keys one a line, read, created once and replaced whole, owner-only."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet

from herald.private_files import fsync_directory, make_private_dir

FERNET_KEY_BYTES = 32


class KeyFileError(Exception):
    """A key file or value that holds no usable key; the message never contains a key."""


def parse_key(text: str, number: int) -> bytes:
    """The key as Fernet takes it. Strict base64: the lenient decoder skips stray characters,
    which turned "KEY1,KEY2" into KEY1 alone and silently dropped the second key."""
    try:
        raw = base64.b64decode(text.encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != FERNET_KEY_BYTES:
        raise KeyFileError(
            f"key {number} is not a Fernet key (32 bytes in url-safe base64, 44 characters)"
        )
    return base64.urlsafe_b64encode(raw)


def read_key_file(path: Path) -> list[bytes]:
    """The keys in `path`, first the one that seals; blank lines and `#` comments are skipped."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the key file {path}: {type(exc).__name__}") from None
    lines = [line.strip() for line in text.splitlines()]
    values = [line for line in lines if line and not line.startswith("#")]
    if not values:
        raise KeyFileError(f"the key file {path} holds no key")
    try:
        return [parse_key(value, number) for number, value in enumerate(values, 1)]
    except KeyFileError as exc:
        raise KeyFileError(f"{path}: {exc}") from None


def create_key_file(path: Path) -> bool:
    """A new key in a new file (0600, in a 0700 folder when the folder is new); False when
    `path` exists already. Written aside and linked into place, so that a process starting
    at the same moment reads either no file or the whole key, never an empty one."""
    make_private_dir(path.parent)
    part = _write_part(path, [Fernet.generate_key()], 0o600)
    try:
        os.link(part, path)
    except FileExistsError:
        return False
    finally:
        part.unlink()
    fsync_directory(path.parent)
    return True


def write_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Replace `path` with `keys` in one step: a process reading it at the same moment sees the
    old list or the new one. An existing file's group permission (a service group that reads
    it) is kept; other users never get any."""
    make_private_dir(path.parent)
    try:
        mode = stat.S_IMODE(path.stat().st_mode) & 0o660 | 0o600
    except FileNotFoundError:
        mode = 0o600
    part = _write_part(path, keys, mode)
    try:
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    fsync_directory(path.parent)


def file_stamp(path: Path | None) -> tuple[int, int, int] | None:
    """What changes when the file is replaced or edited; None when it does not exist."""
    if path is None:
        return None
    try:
        status = path.stat()
    except OSError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _write_part(path: Path, keys: Sequence[bytes], mode: int) -> Path:
    part = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(b"".join(key + b"\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(part, mode)  # the umask may have taken the group bit off
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return part
