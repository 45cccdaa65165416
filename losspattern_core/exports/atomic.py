"""One exported file, all or nothing: written under a hidden temporary name in the destination
folder, given the user's normal permissions, and renamed into place only when complete.

A full disk, an unwritable folder, a writer library's failure or a cancel removes the temporary
file and raises an :class:`ExportError` (or :class:`ExportCancelled`) naming the file, so a
front end shows one line and the folder holds either the old file or the complete new one.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from losspattern_core.errors import LossPatternError
from losspattern_core.io.atomic import write_file_atomically

Progress = Callable[[int, int], None]   # (done, total)
Cancel = Callable[[], bool]             # True: stop now, leave nothing


class ExportError(LossPatternError):
    """An export could not be written (folder, disk, format limits); nothing was left."""


class ExportCancelled(ExportError):
    """The caller's cancel check returned True; nothing was written."""


class EncoderFailed(RuntimeError):
    """An external encoder (ffmpeg) failed; its message is shown as it is."""


def current_umask() -> int:
    """The process umask, read without changing it (Linux ``/proc``), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)   # a brief change: the only portable way to read it
    os.umask(old)
    return old


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return f"the disk is full or the file is too large ({exc.strerror})"
        return exc.strerror or str(exc)
    if isinstance(exc, EncoderFailed):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def check_destination(path: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse before any work: no such folder, a folder in the way, an existing file."""
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        raise ExportError(f"cannot write {path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: {folder} is not a folder")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists: choose another name or allow overwriting")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: folder {folder} is not writable")
    return path


def write_export(path: str | os.PathLike, write: Callable[[Path], object], what: str,
                 overwrite: bool = False) -> Path:
    """Run ``write(tmp)`` on a temporary file beside ``path`` (same suffix), chmod it to
    0666 & ~umask and rename it onto ``path``. Any failure leaves no file and raises
    ``ExportError`` naming ``path``; ``ExportCancelled`` and other ``LossPatternError``s
    pass through (after the cleanup)."""
    path = check_destination(path, overwrite)

    def write_and_chmod(tmp: Path) -> None:
        write(tmp)
        if not tmp.is_file() or tmp.stat().st_size == 0:
            raise ExportError(f"{path}: the {what} writer produced no data")
        os.chmod(tmp, 0o666 & ~current_umask())

    try:
        return write_file_atomically(path, write_and_chmod)
    except LossPatternError:
        raise
    except (OSError, RuntimeError, ValueError, TypeError, KeyError, IndexError,
            MemoryError) as exc:
        # writer libraries (h5py, trimesh, imageio/ffmpeg) raise any of these for disk and
        # encoder failures; the temporary file is already gone
        raise ExportError(f"cannot write {what} {path}: {_describe(exc)}") from exc


def checkpoint(cancel: Cancel | None, progress: Progress | None, done: int, total: int) -> None:
    """Report progress, then raise ``ExportCancelled`` if the caller asked to stop."""
    if progress is not None:
        progress(done, total)
    if cancel is not None and cancel():
        raise ExportCancelled("export cancelled: nothing was written")
