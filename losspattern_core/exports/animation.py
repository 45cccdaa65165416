"""MP4 (H.264, imageio-ffmpeg's bundled ffmpeg) and GIF (imageio's Pillow plugin) animations:
a construction forming, a 3-D turntable, the z-slices of a volume.

Each takes a frame rate and a size, reports ``progress(done, total)`` after every frame and
stops as soon as ``cancel()`` returns True; a cancel, a full disk or an encoder failure leaves
no file (the animation is written to a temporary file and renamed when complete).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from losspattern_core.errors import ConfigError
from losspattern_core.exports.atomic import (
    Cancel,
    EncoderFailed,
    ExportError,
    Progress,
    checkpoint,
    write_export,
)
from losspattern_core.exports.frames import Snapshot, forming_frames, slice_frames, turntable_frames
from losspattern_core.exports.surfaces import SurfaceSet
from losspattern_core.io.limits import check_memory

ANIMATION_TYPES = {"mp4": "MP4 video", "gif": "GIF animation"}
MAX_FRAMES = 5000


def frame_size(fmt: str, size: tuple[int, int]) -> tuple[int, int]:
    """Check (width, height); H.264's 4:2:0 needs even sides, so MP4 rounds odd ones up."""
    w, h = (int(v) for v in size)
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise ConfigError(f"frame size {w}x{h} is out of range (16x16 to 7680x4320)")
    return (w + w % 2, h + h % 2) if fmt == "mp4" else (w, h)


def _fmt(path: str | os.PathLike) -> str:
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in ANIMATION_TYPES:
        raise ExportError(f"cannot write {path}: an animation is .mp4 or .gif")
    return fmt


def _ffmpeg_command(tmp: Path, size: tuple[int, int], fps: float) -> list[str]:
    import imageio_ffmpeg

    return [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}",
            "-r", f"{fps:g}", "-i", "pipe:0", "-an", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            "-crf", "20", "-preset", "medium", "-movflags", "+faststart", "-f", "mp4", str(tmp)]


def _write_mp4(tmp: Path, frames: Iterable[np.ndarray], count: int, fps: float,
               size: tuple[int, int], progress: Progress | None, cancel: Cancel | None) -> None:
    """Frames piped to imageio-ffmpeg's bundled ffmpeg; its exit status is checked (a full
    disk or an encoder error is an error, never a silently truncated video)."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(_ffmpeg_command(tmp, size, fps), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            for k, frame in enumerate(frames):
                try:
                    proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
                except BrokenPipeError:
                    break                        # ffmpeg stopped: its status says why
                checkpoint(cancel, progress, k + 1, count)
            proc.stdin.close()
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if code != 0:
            log.seek(0)
            said = log.read()[-600:].decode("utf-8", "replace").strip().splitlines()
            reason = said[-1] if said else f"exit status {code}"
            if code < 0:
                reason = f"stopped by signal {signal.Signals(-code).name}"
            if code == -signal.SIGXFSZ or any(w in " ".join(said).lower()
                                               for w in ("no space", "too large", "quota")):
                reason = f"the disk is full or the file is too large ({reason})"
            raise EncoderFailed(f"ffmpeg failed: {reason}")


def _write_gif(tmp: Path, frames: Iterable[np.ndarray], count: int, fps: float,
               progress: Progress | None, cancel: Cancel | None) -> None:
    """Frames encoded in memory by imageio's Pillow plugin, then written to the file."""
    import imageio.v3 as iio

    stack = []
    for k, frame in enumerate(frames):
        stack.append(frame)
        checkpoint(cancel, progress, k + 1, count)
    encoded = iio.imwrite("<bytes>", np.stack(stack), extension=".gif", plugin="pillow",
                          duration=1000.0 / fps, loop=0)
    tmp.write_bytes(encoded)


def write_animation(path: str | os.PathLike, frames: Iterable[np.ndarray], count: int,
                    fps: float, size: tuple[int, int], what: str,
                    progress: Progress | None = None, cancel: Cancel | None = None,
                    overwrite: bool = False) -> Path:
    """Encode ``count`` frames (RGB uint8, all ``size``) as MP4 or GIF by ``path``'s suffix."""
    fmt = _fmt(path)
    if not 0.1 <= fps <= 120:
        raise ConfigError(f"frame rate {fps:g} is out of range (0.1 to 120 frames per second)")
    if not 1 <= count <= MAX_FRAMES:
        raise ConfigError(f"{count} frames: an animation has 1 to {MAX_FRAMES}")
    if fmt == "gif":   # a GIF is assembled in memory
        check_memory(2.0 * count * size[0] * size[1] * 3, f"a GIF of {count} frames of "
                     f"{size[0]}x{size[1]}", ExportError, "choose fewer frames or a smaller size")
    checkpoint(cancel, progress, 0, count)

    def write(tmp: Path) -> None:
        if fmt == "mp4":
            _write_mp4(tmp, frames, count, fps, size, progress, cancel)
        else:
            _write_gif(tmp, frames, count, fps, progress, cancel)

    return write_export(path, write, f"{ANIMATION_TYPES[fmt]} ({what})", overwrite)


def export_forming(data: SurfaceSet, snapshots: Sequence[Snapshot], path: str | os.PathLike,
                   fps: float = 10.0, size: tuple[int, int] = (960, 540), head: int = 0,
                   cmap: str = "viridis", total_steps: int | None = None,
                   value_range: tuple[float, float] | None = None,
                   progress: Progress | None = None, cancel: Cancel | None = None,
                   overwrite: bool = False, **_ignored) -> Path:
    """A construction forming: one frame per ``(step, train surface, fidelity dB)`` snapshot
    recorded during the real run (shape of ``data``'s surfaces), labelled with both."""
    if not snapshots:
        raise ConfigError("no snapshots to animate: record the run's train surfaces first")
    for step, surface, fidelity in snapshots:
        if np.shape(surface) != np.shape(next(iter(data.surfaces.values()))):
            raise ConfigError(f"snapshot at step {step} has shape {np.shape(surface)}, the "
                              f"surfaces have {np.shape(next(iter(data.surfaces.values())))}")
        if not (np.isfinite(surface).all() and np.isfinite(fidelity)):
            raise ConfigError(f"snapshot at step {step} holds non-finite values")
    size = frame_size(_fmt(path), size)
    frames = forming_frames(data, snapshots, size, head, cmap, total_steps, value_range)
    return write_animation(path, frames, len(snapshots), fps, size, "construction forming",
                           progress, cancel, overwrite)


def export_turntable(data: SurfaceSet, path: str | os.PathLike, frames: int = 72,
                     fps: float = 24.0, size: tuple[int, int] = (800, 600),
                     source: str | None = None, head: int = 0, cmap: str = "viridis",
                     elevation: float = 30.0, slice_at=None,
                     value_range: tuple[float, float] | None = None,
                     progress: Progress | None = None, cancel: Cancel | None = None,
                     overwrite: bool = False, **_ignored) -> Path:
    """The surface (z >= 2; z >= 3: a plane) turning once around its vertical axis."""
    if data.z < 2:
        raise ExportError(f"cannot write {path}: a z = 1 curve has no surface to turn")
    size = frame_size(_fmt(path), size)
    gen = turntable_frames(data, int(frames), size, source, head, cmap, elevation, slice_at,
                           value_range)
    return write_animation(path, gen, int(frames), fps, size, "turntable", progress, cancel,
                           overwrite)


def export_slices(data: SurfaceSet, path: str | os.PathLike, fps: float = 8.0,
                  size: tuple[int, int] = (800, 600), source: str | None = None,
                  head: int = 0, cmap: str = "viridis",
                  value_range: tuple[float, float] | None = None,
                  progress: Progress | None = None, cancel: Cancel | None = None,
                  overwrite: bool = False, **_ignored) -> Path:
    """A volume's (α1, α2) planes, one frame per grid point of direction 3 (z >= 3)."""
    if data.z < 3:
        raise ExportError(f"cannot write {path}: slices need a volume (z = 3); this surface "
                          f"has z = {data.z}")
    size = frame_size(_fmt(path), size)
    gen = slice_frames(data, size, source, head, cmap, value_range)
    return write_animation(path, gen, data.shape[2], fps, size, "volume slices", progress,
                           cancel, overwrite)


ANIMATIONS = ("turntable", "slices", "forming")


def export_animation(data: SurfaceSet, path: str | os.PathLike, animation: str | None = None,
                     snapshots: Sequence[Snapshot] | None = None, **options) -> Path:
    """``animation``: "forming" (needs ``snapshots``), "turntable" (z >= 2) or "slices"
    (z >= 3); by default forming when snapshots are given, else slices for a volume and a
    turntable for a surface."""
    animation = animation or ("forming" if snapshots else "slices" if data.z >= 3
                              else "turntable")
    if animation not in ANIMATIONS:
        raise ConfigError(f"unknown animation {animation!r}: one of {', '.join(ANIMATIONS)}")
    if animation == "forming":
        if snapshots is None:
            raise ConfigError("the forming animation needs the run's snapshots "
                              "(step, train surface, fidelity dB)")
        return export_forming(data, snapshots, path, **options)
    if snapshots is not None:
        raise ConfigError(f"snapshots are for the forming animation, not {animation}")
    return (export_turntable if animation == "turntable" else export_slices)(data, path,
                                                                             **options)
