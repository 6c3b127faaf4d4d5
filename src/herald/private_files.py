"""Owner-only files: the process umask, and tightening what an older version left open."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

# New files come out 0600 and new folders 0700, whoever creates them: SQLite (the database and
# its -wal and -shm files, which SQLite gives the database's own mode), the media store, the
# key file. Group and other users of the machine read none of it.
PRIVATE_UMASK = 0o077
OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO
# What Herald keeps in a data dir besides the database.
MEDIA_DIR = "media"
LEGACY_KEY_FILE = "secret.key"
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def restrict_new_files() -> None:
    """Called by the command line before anything opens a file."""
    os.umask(PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) as owner-only folders."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def tighten_data_dir(directory: Path, database: Path | None = None) -> None:
    """Take group and other permissions off the data dir and what Herald keeps in it (the
    SQLite database and its journals, media, an older install's key), with a log line when
    anything changed. Only Herald's own entries: a data dir may share a folder with other
    things that are not Herald's to change. The media tree is walked only when it, or the
    data dir, was open to others (an install from an older version): a 0700 folder already
    closes all beneath it, and a start should not stat every media file."""
    if os.name != "posix":  # Windows keeps access in ACLs, which modes do not express
        return
    if not directory.exists():
        return
    media = directory / MEDIA_DIR
    walk_media = _is_loose(directory) or _is_loose(media)
    paths = [directory, directory / LEGACY_KEY_FILE, media]
    if database is not None:
        paths += [database.with_name(database.name + suffix) for suffix in SQLITE_SUFFIXES]
    if walk_media:
        paths += _tree(media)
    outcomes = [_tighten(path) for path in paths]
    if changed := outcomes.count("changed"):
        logger.warning(
            "%s: made %d files and folders owner-only (0700 folders, 0600 files); "
            "an older version created them readable by other users",
            directory,
            changed,
        )
    if foreign := outcomes.count("foreign"):
        logger.warning(
            "%s: %d files or folders belong to another user and were left as they are",
            directory,
            foreign,
        )


def _is_loose(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & OPEN_TO_OTHERS)
    except OSError:
        return False


def _tree(directory: Path) -> Iterator[Path]:
    for root, folders, files in os.walk(directory):
        base = Path(root)
        for name in [*folders, *files]:
            yield base / name


def _tighten(path: Path) -> str:
    try:
        status = path.lstat()
    except (FileNotFoundError, NotADirectoryError):  # not there, or gone meanwhile
        return "absent"
    # A symbolic link's own mode means nothing, and its target may be anything (a media
    # volume mounted elsewhere): it is left to whoever made the link.
    if stat.S_ISLNK(status.st_mode) or not status.st_mode & OPEN_TO_OTHERS:
        return "private"
    if status.st_uid != os.geteuid():
        return "foreign"
    os.chmod(path, stat.S_IMODE(status.st_mode) & ~OPEN_TO_OTHERS)
    return "changed"


def fsync_directory(directory: Path) -> None:
    """Make a rename into `directory` durable; directories cannot be opened this way on Windows."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
