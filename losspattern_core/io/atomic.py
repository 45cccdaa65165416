"""Writes that appear all at once: a folder or a file is built under a temporary name beside
its destination and renamed into place, with Ctrl+C held back during the rename and cleanup so
that an interrupt leaves either the old state or the complete new one, never a mix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from losspattern_core.errors import LossPatternError


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block (main thread only); they arrive right after it."""
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask")):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def remove_quietly(path: Path) -> None:
    """Remove a temporary file or folder; interrupts wait until it is gone."""
    with interrupts_deferred():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()


def temporary_folder(out: Path) -> Path:
    """A fresh hidden folder beside ``out`` (same file system, so the rename is atomic)."""
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise LossPatternError(f"cannot write to {out.parent}: {exc.strerror or exc}") from exc


def commit_folder(tmp: Path, out: Path, on_commit: Callable[[Path], None] | None = None) -> None:
    """Rename ``tmp`` to ``out``, replacing an existing folder ``out`` (already checked to be
    replaceable); ``on_commit(out)`` runs before any held interrupt is delivered."""
    with interrupts_deferred():
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
        if on_commit is not None:
            on_commit(out)


def write_file_atomically(path: Path, write: Callable[[Path], object],
                          on_commit: Callable[[Path], None] | None = None) -> Path:
    """``write(tmp)`` to a hidden temporary file beside ``path`` (same suffix, so writers
    that pick the format by suffix still work), then rename it onto ``path``."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=".partial-", suffix="-" + path.name, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with interrupts_deferred():
            os.replace(tmp, path)
            if on_commit is not None:
                on_commit(path)
    except BaseException:
        remove_quietly(tmp)
        raise
    return path
