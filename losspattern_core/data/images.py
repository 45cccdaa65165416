"""Decoding pattern images with Pillow, safely: the file is read as a regular file within its
size limit, a PNG's chunk CRCs are all checked, every frame's pixel count is checked before
that frame is decoded, stacks are bounded in frames, and anything Pillow raises on a malformed
file becomes a PatternError naming the file."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from pathlib import Path

import numpy as np

from losspattern_core.errors import PatternError
from losspattern_core.io.limits import check_memory
from losspattern_core.io.safe_read import read_bytes

MAX_IMAGE_PIXELS = 64_000_000  # per frame; refused before decoding
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FRAMES = 1024              # a multi-frame image used as a z = 3 stack
MAX_TOTAL_PIXELS = 4 * MAX_IMAGE_PIXELS  # over all frames of a stack (decoding time)
WORK_RESOLUTION = 256          # images are resampled (anti-aliased) to at most this side first
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# How a non-square image becomes the square alpha domain. The default keeps the aspect by
# cropping the centre square: every point of the domain is picture (fitting would add
# plateaus of constant loss that are not in the picture, stretching distorts it).
ASPECTS = ("crop", "fit", "stretch")
DEFAULT_ASPECT = "crop"
PAD_VALUE = 1.0  # fit pads with white, as transparent areas are composited (before invert)
# Pillow's own pixel limit is a process-wide setting; it is lifted (we check every frame
# ourselves, with a message naming the size) only while this lock is held.
_PILLOW_LIMIT_LOCK = threading.Lock()


def png_problem(raw: bytes) -> str | None:
    """Why a PNG's chunk structure is broken (length, CRC, no IEND), or None if it is sound."""
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        end = pos + 12 + length
        if end > len(raw):
            return f"chunk {kind!r} at byte {pos} runs past the end of the file (truncated)"
        crc = struct.unpack(">I", raw[end - 4:end])[0]
        if zlib.crc32(raw[pos + 4:end - 4]) != crc:
            return f"chunk {kind!r} at byte {pos} fails its CRC check (corrupt file)"
        if kind == b"IEND":
            return None
        pos = end
    return "no IEND chunk (truncated file)"


def _frame_array(frame, rgb: bool, path: Path) -> tuple[np.ndarray, bool]:
    """One decoded frame: greyscale or RGB in [0, 1], longest side at most WORK_RESOLUTION,
    transparency composited on white. Returns (array, whether the file was greyscale)."""
    from PIL import Image

    w, h = frame.size
    if w * h > MAX_IMAGE_PIXELS:
        raise PatternError(f"image {path.name} is {w}x{h} pixels; the limit is "
                           f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels. Scale it down first.")
    check_memory(16 * w * h, f"decoding image {path.name} ({w}x{h})", PatternError)
    frame.draft("RGB" if rgb else "L", (WORK_RESOLUTION, WORK_RESOLUTION))
    grey = frame.mode in ("1", "L", "LA", "I", "I;16", "F")
    im = frame.convert("RGBA")
    background = Image.new("RGBA", im.size, (255, 255, 255, 255))
    im = Image.alpha_composite(background, im).convert("RGB" if rgb else "L")
    scale = WORK_RESOLUTION / max(im.size)
    if scale < 1:
        im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                       Image.Resampling.LANCZOS)
    arr = np.asarray(im, dtype=np.float64) / 255.0
    if min(arr.shape[:2]) < 2:
        raise PatternError(f"image {path.name} is too small ({arr.shape[1]}x{arr.shape[0]})")
    return arr, grey


def read_frames(path: Path, rgb: bool, max_frames: int = 1) -> tuple[list[np.ndarray], bool]:
    """Decode up to ``max_frames`` frames (1: the first only; more: all of them, refusing a
    file with more than ``max_frames``). Returns (frames, greyscale)."""
    from PIL import Image

    if path.is_dir():
        raise PatternError(f"{path} is a folder, not an image file")
    raw = read_bytes(path, PatternError, MAX_FILE_BYTES, f"image {path}")
    if not raw:
        raise PatternError(f"image {path} is empty (0 bytes)")
    if raw.startswith(PNG_SIGNATURE):
        problem = png_problem(raw)
        if problem:
            raise PatternError(f"cannot read {path.name} as an image: {problem}")
    try:
        with _PILLOW_LIMIT_LOCK:
            saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
            try:
                frames, grey = _decode(Image.open(io.BytesIO(raw)), path, rgb, max_frames)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except PatternError:
        raise
    except Exception as exc:  # Pillow's plugins raise many kinds on malformed files
        raise PatternError(f"cannot read {path.name} as an image: {type(exc).__name__}: "
                           f"{str(exc)[:160]}") from exc
    return frames, grey


def _decode(image, path: Path, rgb: bool, max_frames: int) -> tuple[list[np.ndarray], bool]:
    """The frames of an opened image, each size-checked before it is decoded."""
    frames, grey, pixels = [], False, 0
    with image as im:
        for index in range(max_frames + 1):
            if index:
                try:
                    im.seek(index)
                except EOFError:
                    break
                if index == max_frames:
                    raise PatternError(f"{path.name} has more than {max_frames} frames")
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise PatternError(f"image {path.name} is {w}x{h} pixels"
                                   f"{f' (frame {index + 1})' if index else ''}; the limit is "
                                   f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels. Scale it down "
                                   "first.")
            pixels += w * h
            if pixels > MAX_TOTAL_PIXELS:
                raise PatternError(f"{path.name}: its frames hold more than "
                                   f"{MAX_TOTAL_PIXELS // 1_000_000} megapixels in all")
            arr, g = _frame_array(im, rgb, path)
            frames.append(arr)
            grey = grey or g
            if max_frames == 1:
                break
    return frames, grey


def check_aspect(aspect: str | None) -> str:
    """The aspect mode to use: ``aspect`` if it is one of ASPECTS, the default for None."""
    if aspect is None:
        return DEFAULT_ASPECT
    if aspect not in ASPECTS:
        raise PatternError(f"pattern option aspect={aspect!r} is not one of "
                           f"{', '.join(ASPECTS)} (crop: the centre square, fit: padded to a "
                           "square, stretch: squashed to a square)")
    return aspect


def square_image(img: np.ndarray, aspect: str, pad: float = PAD_VALUE
                 ) -> tuple[np.ndarray, str]:
    """An image (H, W[, C]) made square as ``aspect`` says, and what was done ("" when the
    image is square or stretched: the square domain then maps onto the image as it is)."""
    h, w = img.shape[:2]
    if h == w or aspect == "stretch":
        return img, ("" if h == w else f"{w}x{h} stretched to the square (aspect=stretch)")
    if aspect == "crop":
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        out = img[top:top + side, left:left + side]
        return out, f"{w}x{h} cropped to its centre {side}x{side} (aspect=crop)"
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    out = np.full((side, side) + img.shape[2:], pad, dtype=img.dtype)
    out[top:top + h, left:left + w] = img
    return out, f"{w}x{h} fitted into {side}x{side}, padded with {pad:g} (aspect=fit)"
