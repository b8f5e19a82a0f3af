"""Whole-file reads and writes done safely: reads bounded in size, writes atomic."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from composer_app.errors import BadInputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe later on.
_NEW_FILE_MODE = 0o666 & ~_current_umask()


def write_bytes_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: either the old file stays whole or the new one is there.

    The bytes go to a temporary file in the same folder (so that the rename stays on one file
    system), are flushed and fsync'ed, and the temporary file is renamed over ``path`` with
    ``os.replace``. On any failure the temporary file is removed, the old file is untouched and
    the exception (usually ``OSError``) propagates. A new file gets the usual permissions
    (0666 less the umask); a replaced file keeps its own.
    """
    path = Path(path)
    folder = path.parent
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = _NEW_FILE_MODE
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


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
