"""Whole-file reads and writes done safely: reads bounded in size, writes atomic."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from composer_app.errors import BadInputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe later on.
_NEW_FILE_MODE = 0o666 & ~_current_umask()


STALE_TEMPORARY_S = 600  # a hidden temporary file of a save this old is left over from a crash


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: either the old file stays whole or the new one is there.

    The bytes go to a hidden temporary file in the same folder (so that the rename stays on one
    file system, named ``.NAME.PID.RANDOM.tmp``), are flushed and fsync'ed, and the temporary file
    is renamed over ``path`` with ``os.replace``. On any failure the temporary file is removed, the
    old file is untouched and the exception (usually ``OSError``) propagates. See ``atomic_writer``
    for symlinks, read-only files and what killed saves left behind.
    """
    with atomic_writer(path) as stream:
        stream.write(data)


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary stream whose contents replace ``path`` atomically when the block ends without error.

    - A symlink is followed: the file it points to gets the new bytes and the link stays a link.
    - A read-only file is not replaced: ``PermissionError`` ("read-only file"), the file untouched.
    - A new file gets the usual permissions (0666 less the umask); a replaced file keeps its own.
    - Temporary files of earlier saves of the same file that were killed (their process is gone,
      or they are older than ``STALE_TEMPORARY_S``) are removed first.
    """
    target = Path(os.path.realpath(path))  # through symlinks: the link stays, its target gets the bytes
    folder = target.parent
    try:
        status = target.stat()
    except FileNotFoundError:
        mode = _NEW_FILE_MODE
    else:
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        mode = status.st_mode & 0o7777
        if not mode & 0o222 or not os.access(target, os.W_OK):  # root may write anything: ask the mode too
            raise PermissionError(errno.EACCES, "read-only file", str(path))
    remove_stale_temporaries(target)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _temporary_names(target: Path) -> Iterator[Path]:
    prefix = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            yield Path(entry.path)


def remove_stale_temporaries(target: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that killed saves of ``target`` left; return them (best effort)."""
    target = Path(target)
    removed = []
    now = time.time()
    for temp in _temporary_names(target):
        middle = temp.name[len(target.name) + 2 : -len(".tmp")]  # "PID.RANDOM" (or "RANDOM" before pids)
        pid_text = middle.split(".", 1)[0]
        try:
            old = now - temp.stat().st_mtime > STALE_TEMPORARY_S
        except OSError:
            continue
        if not (old or (pid_text.isdigit() and "." in middle and not _process_alive(int(pid_text)))):
            continue
        try:
            temp.unlink()
            removed.append(temp)
        except OSError:
            pass
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_bytes_bounded(
    path: str | os.PathLike, label: str, limit_bytes: int, error_class: type[BadInputError] = BadInputError
) -> bytes:
    """Read a whole file of at most ``limit_bytes`` (its size is checked before it is read).

    Every problem (no such file, a folder, a pipe, no permission, too large) raises
    ``error_class`` with a one-line message that starts with ``label``.
    """
    data = _read(Path(path), label, limit_bytes, error_class, whole=True)
    if len(data) > limit_bytes:  # the file grew since it was measured
        raise error_class(f"{label}: too large (more than {limit_bytes:,} bytes)")
    return data


def read_file_start(
    path: str | os.PathLike, label: str, count: int, error_class: type[BadInputError] = BadInputError
) -> bytes:
    """The first ``count`` bytes of a regular file (fewer if it is shorter); errors as above."""
    return _read(Path(path), label, count, error_class, whole=False)


def _read(path: Path, label: str, limit_bytes: int, error_class: type[BadInputError], whole: bool) -> bytes:
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise error_class(f"{label}: is a folder, not a file")
        if not stat.S_ISREG(status.st_mode):  # a pipe or a device could block or never end
            raise error_class(f"{label}: not a regular file")
        if whole and status.st_size > limit_bytes:
            raise error_class(f"{label}: too large ({status.st_size:,} bytes; the limit is {limit_bytes:,})")
        with open(path, "rb") as stream:
            return stream.read(limit_bytes + 1 if whole else limit_bytes)
    except FileNotFoundError:
        raise error_class(f"{label}: no such file") from None
    except PermissionError:
        raise error_class(f"{label}: permission denied") from None
    except OSError as error:
        raise error_class(f"{label}: cannot read ({error.strerror or error})") from None
