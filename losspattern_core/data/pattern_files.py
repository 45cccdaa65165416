"""Patterns from files: images (2-D), image rows (1-D), image stacks and multi-frame images
(3-D), and arrays of values (``.npy``/``.csv``, any z). Files are read through the safe
readers (regular files, size limits, numeric dtypes, finite values)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from losspattern_core.data.images import (
    MAX_FILE_BYTES,
    MAX_FRAMES,
    check_aspect,
    read_frames,
    square_image,
)
from losspattern_core.data.pattern_core import Pattern
from losspattern_core.errors import PatternError
from losspattern_core.io.limits import MAX_TEXT_BYTES, check_memory
from losspattern_core.io.safe_read import read_bytes, read_npy, require_finite

MAX_ARRAY_VALUES = 64_000_000  # .npy/.csv patterns and image stacks
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm")


def smooth_image(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return img
    from scipy.ndimage import gaussian_filter

    sig = (sigma, sigma) + ((0,) if img.ndim == 3 else ())
    return gaussian_filter(img, sig, mode="nearest")


def bilinear(img: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Sample an image (H, W[, C]) at alpha (P, 2): alpha_1 -> right, alpha_2 -> up."""
    h, w = img.shape[:2]
    x = np.clip(alpha[:, 0], 0, 1) * (w - 1)
    y = (1 - np.clip(alpha[:, 1], 0, 1)) * (h - 1)
    x0, y0 = np.minimum(np.floor(x).astype(int), w - 2), np.minimum(np.floor(y).astype(int), h - 2)
    fx, fy = x - x0, y - y0
    if img.ndim == 3:
        fx, fy = fx[:, None], fy[:, None]
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def image_pattern(path: str | os.PathLike, smooth: float = 0.0, invert: bool = False,
                  rgb: bool = False, name: str | None = None,
                  aspect: str | None = None) -> Pattern:
    """A 2-D pattern from an image: bright = high loss (``invert`` flips it).

    ``smooth`` is a Gaussian sigma in pixels of the working image (longest side 256);
    ``aspect`` (crop, fit or stretch; default crop) says how a non-square image becomes the
    square alpha domain. A non-square image's source and description name the mode.
    """
    path = Path(path).expanduser()
    aspect = check_aspect(aspect)
    if not path.exists() and not path.is_symlink():
        raise PatternError(f"image {path} does not exist")
    frames, grey = read_frames(path, rgb)
    img, squared = square_image(smooth_image(frames[0], smooth), aspect)
    if invert:
        img = 1.0 - img
    channels = 3 if rgb else 1
    note = ""
    if rgb and (grey or np.array_equal(img[..., 0], img[..., 1])
                and np.array_equal(img[..., 1], img[..., 2])):
        note = (f"{path.name} is a greyscale image: converted to RGB, so its three channels "
                "(and the three heads' targets) are equal")
    source = f"{path}:aspect={aspect}" if squared else str(path)
    return Pattern(name or path.stem, 2, lambda a: bilinear(img, a), channels, source,
                   f"image {path.name} ({f'{squared}, ' if squared else ''}"
                   f"{img.shape[1]}x{img.shape[0]} working resolution"
                   f"{f', smoothed sigma={smooth:g} px' if smooth else ''})", note)


def _check_array(arr: np.ndarray, label: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise PatternError(f"{label}: expected real numbers, got dtype {arr.dtype}")
    if arr.size > MAX_ARRAY_VALUES:
        raise PatternError(f"{label} has {arr.size} values; the limit is {MAX_ARRAY_VALUES}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise PatternError(f"{label} contains NaN or infinite values")
    return arr


def _normalise(arr: np.ndarray) -> tuple[np.ndarray, str]:
    lo, hi = float(arr.min()), float(arr.max())
    if not np.isfinite(hi - lo):
        raise PatternError(f"values span {lo:g}..{hi:g}: their range overflows")
    if hi - lo < 1e-12:
        return np.zeros_like(arr), f"constant {lo:g}"
    return (arr - lo) / (hi - lo), f"values {lo:g}..{hi:g} mapped to [0, 1]"


def array_pattern(arr: np.ndarray, z: int, rgb: bool, name: str, source: str,
                  what: str = "array") -> Pattern:
    """Multilinear interpolation of a z-D array (axis k = direction k), min-max normalised."""
    arr = _check_array(np.asarray(arr), f"{what} {name}")
    channels = 1
    if rgb:
        if arr.ndim == z + 1 and arr.shape[0] == 3:
            arr = np.moveaxis(arr, 0, -1)
        if arr.ndim == z + 1 and arr.shape[-1] == 3:
            channels = 3
        elif arr.ndim == z:
            arr = np.repeat(arr[..., None], 3, axis=-1)
            channels = 3
    want = z + (1 if channels == 3 else 0)
    if arr.ndim != want:
        extra = " plus a colour axis of 3" if rgb else ""
        raise PatternError(f"{what} {name} has rank {arr.ndim} (shape {arr.shape}) but z = {z} "
                           f"needs rank {z}{extra}: one axis per direction")
    spatial = arr.shape[:z]
    if min(spatial) < 2:
        raise PatternError(f"{what} {name} has shape {arr.shape}: every direction needs at least "
                           "2 samples")
    arr, rng_text = _normalise(arr)
    from scipy.interpolate import RegularGridInterpolator

    axes = [np.linspace(0.0, 1.0, n) for n in spatial]
    interp = RegularGridInterpolator(axes, arr, method="linear")

    def fn(a):
        return interp(np.clip(a, 0.0, 1.0))
    shape = "x".join(map(str, spatial))
    return Pattern(name, z, fn, channels, source, f"{what} {name} ({shape}, {rng_text}, "
                   "multilinear between samples)")


def _csv_values(raw: bytes, path: Path) -> np.ndarray:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PatternError(f"{path.name}: not UTF-8 text (byte at offset {exc.start})") from exc
    rows = [r for r in (line.strip() for line in text.splitlines())
            if r and not r.startswith("#")]
    if not rows:
        raise PatternError(f"{path} holds no values")
    try:
        data = [[float(v) for v in r.replace(";", ",").split(",") if v.strip()] for r in rows]
    except ValueError as exc:
        raise PatternError(f"cannot read {path.name} as numbers: {exc}") from exc
    if len({len(r) for r in data}) != 1 or not data[0]:
        raise PatternError(f"{path.name}: rows have different numbers of values")
    arr = np.array(data)
    return arr.ravel() if 1 in arr.shape else arr  # one row or one column: a 1-D curve


def load_values(path: Path) -> np.ndarray:
    """The numbers of a .npy or .csv/.txt pattern file (finite, real, within the limits)."""
    if not path.exists() and not path.is_symlink():
        raise PatternError(f"pattern file {path} does not exist")
    if path.suffix.lower() == ".npy":
        arr = read_npy(path, PatternError, MAX_FILE_BYTES, what=f"pattern file {path}")
    else:
        arr = _csv_values(read_bytes(path, PatternError, MAX_TEXT_BYTES,
                                     f"pattern file {path}"), path)
    return require_finite(arr.astype(np.float64) if arr.dtype.kind in "biu" else arr,
                          f"pattern file {path}", PatternError)


def image_stack(paths: list[Path], smooth: float, invert: bool, rgb: bool, name: str,
                source: str, aspect: str | None = None) -> Pattern:
    """z = 3 from images: slice k of the volume (direction 3) is image k, each made square
    as ``aspect`` says (``square_image``)."""
    if len(paths) > MAX_FRAMES:
        raise PatternError(f"{name}: {len(paths)} images; a stack takes at most {MAX_FRAMES}")
    aspect = check_aspect(aspect)
    imgs = [square_image(smooth_image(read_frames(p, rgb)[0][0], smooth), aspect)[0]
            for p in paths]
    return stack_pattern(imgs, invert, rgb, name, source, f"{len(imgs)} images")


def stack_pattern(imgs: list[np.ndarray], invert: bool, rgb: bool, name: str, source: str,
                  what: str) -> Pattern:
    if len(imgs) < 2:
        raise PatternError(f"{name}: a volume needs at least 2 slices, got {len(imgs)}")
    shapes = {im.shape for im in imgs}
    if len(shapes) != 1:
        raise PatternError(f"{name}: the images differ in size ({sorted(shapes)}); a stack "
                           "needs equal sizes")
    check_memory(8 * 4 * sum(im.size for im in imgs), f"a stack of {len(imgs)} images",
                 PatternError)
    vol = np.stack(imgs, axis=-1 if not rgb else 2)  # (H, W, D[, C])
    if invert:
        vol = 1.0 - vol
    vol = np.flip(vol, axis=0)          # row 0 = bottom: alpha_2 up
    vol = np.swapaxes(vol, 0, 1)        # (W, H, D[, C]): axis k = direction k
    if vol.size > MAX_ARRAY_VALUES:
        raise PatternError(f"{name}: the stack has {vol.size} values; limit {MAX_ARRAY_VALUES}")
    pat = array_pattern(vol, 3, rgb, name, source, "image stack")
    return dataclasses.replace(pat, description=f"{what} stacked along direction 3 "
                               f"({vol.shape[0]}x{vol.shape[1]}x{vol.shape[2]})")


def image_frames(path: Path, rgb: bool, smooth: float,
                 aspect: str | None = None) -> list[np.ndarray]:
    """Every frame of a multi-frame image (TIFF/GIF stack), smoothed and made square as
    ``aspect`` says."""
    aspect = check_aspect(aspect)
    if not path.exists() and not path.is_symlink():
        raise PatternError(f"image {path} does not exist")
    frames, _ = read_frames(path, rgb, max_frames=MAX_FRAMES)
    return [square_image(smooth_image(f, smooth), aspect)[0] for f in frames]
