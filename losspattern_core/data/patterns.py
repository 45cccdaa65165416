"""Patterns: targets T on [0,1]^z with values in [0,1], mapped into a loss range [low, high].

A pattern spec is a built-in name (``bumps``, ``smiley``), a function with parameters
(``rings:freq=4``) or a path to an image file. Axis k of every grid array is direction k.

Sources by dimension z:
  * any z: the analytic functions (``bumps``, ``rings``, ...);
  * z = 1: a ``.csv`` or ``.npy`` of values, or one row of an image (``smiley:row=0.5``, the
    2-D pattern's slice at alpha_2 = 0.5, 0 = bottom row);
  * z = 2: an image (greyscale or, with --rgb, colour), or a 2-D ``.npy``/``.csv``;
  * z = 3: a ``.npy`` volume, a folder of images (sorted by name: slice k along direction 3)
    or a multi-frame image (TIFF/GIF stack);
  * z >= 4: functions or a ``.npy`` of rank z.
Arrays are min-max normalised to [0, 1] and interpolated (multilinear) between their samples;
their axis k is direction k (a leading or trailing axis of 3 is the colour channel with --rgb).
Images are drawn with direction 1 pointing right and direction 2 pointing up, so an image
appears upright in a plot with alpha_1 on the x axis.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from losspattern_assets import pattern_images
from losspattern_core.errors import ConfigError, PatternError
from losspattern_core.grid import grid_points

MAX_IMAGE_PIXELS = 64_000_000  # refuse before decoding anything larger
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_ARRAY_VALUES = 64_000_000  # .npy/.csv patterns and image stacks
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm",
                  ".pgm")
WORK_RESOLUTION = 256  # images are resampled (anti-aliased) to at most this side first


@dataclass(frozen=True)
class Pattern:
    """A target function T: [0,1]^z -> [0,1]^channels (channels 1 or 3)."""

    name: str
    z: int
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    channels: int = 1
    source: str = ""
    description: str = ""
    note: str = ""  # something the user should be told (printed by the CLI)

    def evaluate(self, alpha: np.ndarray) -> np.ndarray:
        """alpha (P, z) in [0,1] -> values (P,) or (P, channels), in [0,1]."""
        alpha = np.asarray(alpha, dtype=np.float64)
        if alpha.ndim != 2 or alpha.shape[1] != self.z:
            raise PatternError(f"pattern {self.name} is {self.z}-D; got points of shape "
                               f"{alpha.shape}")
        return np.clip(self.fn(alpha), 0.0, 1.0)

    def grid(self, size: int) -> np.ndarray:
        """Values on the G^z grid with endpoints: shape (G,)*z, or (channels,)+(G,)*z."""
        pts = grid_points(size, self.z)
        vals = self.evaluate(pts)
        if self.channels == 1:
            return vals.reshape((size,) * self.z)
        return np.moveaxis(vals.reshape((size,) * self.z + (self.channels,)), -1, 0)


@dataclass(frozen=True)
class LossRange:
    low: float
    high: float

    def apply(self, values: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * values

    @property
    def span(self) -> float:
        return self.high - self.low


def check_loss_range(low: float, high: float, floor: float, loss: str = "cross_entropy") -> LossRange:
    """Refuse a range the loss cannot take (Lemma 1: sigma never goes below its floor)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"loss range [{low}, {high}] must be finite numbers")
    if low >= high:
        raise ConfigError(f"loss range needs low < high, got low={low:g}, high={high:g}")
    if low < floor - 1e-9:
        what = "the label entropy H(pi)" if loss == "cross_entropy" else "the label variance"
        raise ConfigError(
            f"loss range low={low:g} is below the floor {floor:.4f} nats of this dataset "
            f"({what}): a {loss} pattern cannot go below it. Use low >= {floor:.4f}, "
            f"e.g. --loss-range {math.ceil((floor + 0.1) * 100) / 100:g} "
            f"{math.ceil((floor + 1.6) * 100) / 100:g}")
    return LossRange(float(low), float(high))


def default_loss_range(floor: float) -> LossRange:
    """0.1 above the floor, 1.5 nats tall: well inside what the loss can take."""
    low = math.ceil((floor + 0.1) * 100) / 100
    return LossRange(low, round(low + 1.5, 2))


# --- analytic functions (defined for any z) -------------------------------------------------

def _opt(opts: dict, key: str, default: float, lo: float, hi: float) -> float:
    try:
        value = float(opts.pop(key, default))
    except ValueError as exc:
        raise PatternError(f"pattern option {key} must be a number") from exc
    if not lo <= value <= hi:
        raise PatternError(f"pattern option {key}={value:g} is outside [{lo:g}, {hi:g}]")
    return value


def _bumps(z: int, opts: dict):
    n = int(_opt(opts, "n", 5, 1, 50))
    width = _opt(opts, "width", 0.12, 0.01, 1.0)
    rng = np.random.default_rng(int(_opt(opts, "seed", 3, 0, 2**31)))
    centres = rng.uniform(0.15, 0.85, size=(n, z))
    heights = rng.uniform(0.5, 1.0, size=n) * rng.choice([-1, 1], size=n)

    def fn(a):
        d2 = ((a[:, None, :] - centres[None]) ** 2).sum(-1)
        v = (heights * np.exp(-d2 / (2 * width**2))).sum(-1)
        lo, hi = -np.abs(heights[heights < 0]).sum(), heights[heights > 0].sum()
        return (v - lo) / max(hi - lo, 1e-9)
    return fn, f"{n} Gaussian bumps and dips of width {width:g}"


def _rings(z: int, opts: dict):
    freq = _opt(opts, "freq", 3, 0.5, 20)
    return (lambda a: 0.5 + 0.5 * np.cos(2 * np.pi * freq * np.linalg.norm(a - 0.5, axis=1)),
            f"concentric rings, {freq:g} per unit radius")


def _checkerboard(z: int, opts: dict):
    n = _opt(opts, "n", 4, 1, 32)
    sharp = _opt(opts, "sharpness", 4, 0.5, 100)

    def fn(a):
        s = np.prod(np.tanh(sharp * np.sin(np.pi * n * a)), axis=1)
        return 0.5 + 0.5 * s / np.tanh(sharp) ** z
    return fn, f"smoothed {n:g}-cell checkerboard (sharpness {sharp:g})"


def _sinc(z: int, opts: dict):
    scale = _opt(opts, "scale", 14, 1, 100)
    lo = -0.2172336  # min of sin(x)/x

    def fn(a):
        r = scale * np.linalg.norm(a - 0.5, axis=1)
        return (np.sinc(r / np.pi) - lo) / (1 - lo)
    return fn, f"radial sinc, scale {scale:g}"


def _waves(z: int, opts: dict):
    freq = _opt(opts, "freq", 2, 0.5, 20)
    return (lambda a: 0.5 + 0.5 * np.mean(np.cos(2 * np.pi * freq * a + np.arange(a.shape[1])),
                                          axis=1),
            f"egg-crate of cosines, frequency {freq:g}")


def _bowl(z: int, opts: dict):
    cx = _opt(opts, "centre", 0.35, 0, 1)
    return (lambda a: np.clip(((a - cx) ** 2).sum(1) / (z * max(cx, 1 - cx) ** 2), 0, 1),
            f"a quadratic bowl with its minimum at alpha = {cx:g}")


PATTERN_FUNCTIONS: dict[str, Callable] = {
    "bumps": _bumps, "rings": _rings, "checkerboard": _checkerboard, "sinc": _sinc,
    "waves": _waves, "bowl": _bowl,
}


# --- images ----------------------------------------------------------------------------------

_GREY_SEEN: set[str] = set()  # images whose file is greyscale (for the --rgb note)


def default_grid(z: int, theorem: int = 1) -> int:
    """Evaluation grid G per direction when none is given: G^z stays a few thousand to ~30k
    points (z=1: 256, z=2: 64, z=3: 24, z=4: 10, z=5: 6, z>=6: 4). Theorem 2 networks are
    measured per training sample, so their z=3 default is 16 and z>=4 uses one less."""
    g = {1: 256, 2: 64, 3: 24, 4: 10, 5: 6}.get(z, 4)
    if theorem == 2 and z >= 3:
        g = 16 if z == 3 else max(3, g - 2)
    return g


def _open_image(path: Path, rgb: bool) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise PatternError(f"image {path} does not exist")
    if not path.is_file():
        raise PatternError(f"{path} is not a file")
    size = path.stat().st_size
    if size == 0:
        raise PatternError(f"image {path} is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise PatternError(f"image {path} is {size / 2**20:.0f} MiB; the limit is "
                           f"{MAX_FILE_BYTES // 2**20} MiB")
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # we check the size ourselves
    try:
        with Image.open(path) as im:  # reads the header only
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise PatternError(f"image {path.name} is {w}x{h} pixels; the limit is "
                                   f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels. Scale it down first.")
            im.draft("RGB" if rgb else "L", (WORK_RESOLUTION, WORK_RESOLUTION))
            if im.mode in ("1", "L", "LA", "I", "I;16", "F"):
                _GREY_SEEN.add(str(path))
            im = im.convert("RGBA")
            background = Image.new("RGBA", im.size, (255, 255, 255, 255))
            im = Image.alpha_composite(background, im).convert("RGB" if rgb else "L")
            scale = WORK_RESOLUTION / max(im.size)
            if scale < 1:
                im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                               Image.Resampling.LANCZOS)
            arr = np.asarray(im, dtype=np.float64) / 255.0
    except PatternError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PatternError(f"cannot read {path.name} as an image: {exc}") from exc
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if min(arr.shape[:2]) < 2:
        raise PatternError(f"image {path.name} is too small ({arr.shape[1]}x{arr.shape[0]})")
    return arr


def _smooth(img: np.ndarray, sigma: float) -> np.ndarray:
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
                  rgb: bool = False, name: str | None = None) -> Pattern:
    """A 2-D pattern from an image: bright = high loss (``invert`` flips it).

    ``smooth`` is a Gaussian sigma in pixels of the working image (longest side 256).
    """
    path = Path(path).expanduser()
    img = _smooth(_open_image(path, rgb), smooth)
    if invert:
        img = 1.0 - img
    channels = 3 if rgb else 1
    note = ""
    if rgb and (str(path) in _GREY_SEEN or np.array_equal(img[..., 0], img[..., 1])
                and np.array_equal(img[..., 1], img[..., 2])):
        note = (f"{path.name} is a greyscale image: converted to RGB, so its three channels "
                "(and the three heads' targets) are equal")
    return Pattern(name or path.stem, 2, lambda a: bilinear(img, a), channels, str(path),
                   f"image {path.name} ({img.shape[1]}x{img.shape[0]} working resolution"
                   f"{', smoothed sigma=%g px' % smooth if smooth else ''})", note)


def _check_array(arr: np.ndarray, label: str) -> np.ndarray:
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise PatternError(f"{label}: expected real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.size > MAX_ARRAY_VALUES:
        raise PatternError(f"{label} has {arr.size} values; the limit is {MAX_ARRAY_VALUES}")
    if not np.isfinite(arr).all():
        raise PatternError(f"{label} contains NaN or infinite values")
    return arr


def _normalise(arr: np.ndarray) -> tuple[np.ndarray, str]:
    lo, hi = float(arr.min()), float(arr.max())
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


def _load_values(path: Path) -> np.ndarray:
    if not path.is_file():
        raise PatternError(f"pattern file {path} does not exist")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PatternError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        text = path.read_text()
        rows = [r for r in (line.strip() for line in text.splitlines()) if r and not r.startswith("#")]
        if not rows:
            raise PatternError(f"{path} holds no values")
        data = [[float(v) for v in r.replace(";", ",").split(",") if v.strip()] for r in rows]
    except PatternError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise PatternError(f"cannot read {path.name} as numbers: {exc}") from exc
    if len({len(r) for r in data}) != 1:
        raise PatternError(f"{path.name}: rows have different numbers of values")
    arr = np.array(data)
    return arr.ravel() if 1 in arr.shape else arr  # one row or one column: a 1-D curve


def image_stack(paths: list[Path], smooth: float, invert: bool, rgb: bool, name: str,
                source: str) -> Pattern:
    """z = 3 from images: slice k of the volume (direction 3) is image k."""
    imgs = [_smooth(_open_image(p, rgb), smooth) for p in paths]
    return _stack_pattern(imgs, invert, rgb, name, source, f"{len(imgs)} images")


def _stack_pattern(imgs: list[np.ndarray], invert: bool, rgb: bool, name: str, source: str,
                   what: str) -> Pattern:
    if len(imgs) < 2:
        raise PatternError(f"{name}: a volume needs at least 2 slices, got {len(imgs)}")
    shapes = {im.shape for im in imgs}
    if len(shapes) != 1:
        raise PatternError(f"{name}: the images differ in size ({sorted(shapes)}); a stack "
                           "needs equal sizes")
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


def _frames(path: Path, rgb: bool, smooth: float) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    _open_image(path, rgb)  # size/format checks and a clear error for a bad file
    out = []
    with Image.open(path) as im:
        for frame in ImageSequence.Iterator(im):
            f = frame.convert("RGB" if rgb else "L")
            scale = WORK_RESOLUTION / max(f.size)
            if scale < 1:
                f = f.resize((max(1, round(f.width * scale)), max(1, round(f.height * scale))))
            out.append(_smooth(np.asarray(f, dtype=np.float64) / 255.0, smooth))
    return out


def builtin_images() -> dict[str, Path]:
    """Built-in pattern images by name (shipped in the ``losspattern_assets`` package)."""
    return pattern_images()


def available_patterns() -> dict[str, str]:
    out = {name: f"built-in image {path.name}" for name, path in builtin_images().items()}
    for name, make in PATTERN_FUNCTIONS.items():
        out[name] = "function: " + make(2, {})[1]
    return out


def parse_options(spec: str) -> tuple[str, dict]:
    name, _, rest = spec.partition(":")
    opts = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise PatternError(f"pattern option {item!r} is not key=value")
        opts[key.strip()] = value.strip()
    return name.strip(), opts


def load_pattern(spec: str, z: int = 2, smooth: float | None = None, rgb: bool = False) -> Pattern:
    """Resolve a pattern spec: a function name, a built-in image name or an image path."""
    name, opts = parse_options(spec)
    if name in PATTERN_FUNCTIONS:
        fn, desc = PATTERN_FUNCTIONS[name](z, opts)
        if opts:
            raise PatternError(f"pattern {name}: unknown option(s) {sorted(opts)}")
        if rgb:
            base = fn
            fn = lambda a: np.stack([base(a), base(np.roll(a, 1, axis=1) if a.shape[1] > 1
                                                     else a[:, ::-1]), base(1 - a)], axis=1)
            desc += " (three channels: the function, its axes swapped, and mirrored)"
        return Pattern(spec, z, fn, 3 if rgb else 1, f"function:{spec}", desc)
    images = builtin_images()
    path = images.get(name)
    if path is None:
        path = Path(spec).expanduser()
        if not path.exists() and ":" in spec and Path(name).expanduser().exists():
            path = Path(name).expanduser()  # a file with options: image.png:row=0.5
        else:
            opts = {}
        if not path.suffix and not path.exists():
            raise PatternError(f"unknown pattern {spec!r}; built in: "
                               f"{', '.join(available_patterns())}, or a path to an image, "
                               "a .npy/.csv of values or a folder of images")
    suffix = path.suffix.lower()
    label = name if name in images else path.stem
    if suffix in (".npy", ".csv", ".txt"):
        if opts:
            raise PatternError(f"pattern {path.name}: unknown option(s) {sorted(opts)}")
        return array_pattern(_load_values(path), z, rgb, label, str(path),
                             "values" if suffix != ".npy" else "array")
    invert = opts.pop("invert", "0") not in ("0", "false", "no")
    if "smooth" in opts:
        smooth = _opt(opts, "smooth", 0, 0, 50)
    sm = 1.0 if smooth is None else smooth
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if opts:
            raise PatternError(f"pattern {path.name}: unknown option(s) {sorted(opts)}")
        if z != 3:
            raise PatternError(f"folder {path} is a stack of images: a 3-D pattern (z = 3), "
                               f"not z = {z}")
        if not files:
            raise PatternError(f"folder {path} holds no images")
        return image_stack(files, sm, invert, rgb, label, str(path))
    row = opts.pop("row", None)
    if opts:
        raise PatternError(f"pattern {name}: unknown option(s) {sorted(opts)}")
    if row is not None:
        try:
            r = float(row)
        except ValueError as exc:
            raise PatternError("pattern option row must be a number in [0, 1]") from exc
        if not 0 <= r <= 1:
            raise PatternError(f"pattern option row={r:g} is outside [0, 1] (0 = bottom row)")
        if z != 1:
            raise PatternError(f"{path.name}:row={row} is a 1-D curve; it needs z = 1, not {z}")
        img = image_pattern(path, smooth=sm, invert=invert, rgb=rgb, name=label)
        return Pattern(f"{label}:row={r:g}", 1,
                       lambda a: img.fn(np.column_stack([a[:, 0], np.full(len(a), r)])),
                       img.channels, img.source, f"row alpha_2 = {r:g} of {img.description}",
                       img.note)
    if z == 3:
        frames = _frames(path, rgb, sm)
        return _stack_pattern(frames, invert, rgb, label, str(path), f"{len(frames)} frames of "
                              f"{path.name}")
    if z != 2:
        raise PatternError(f"image {path.name} is a 2-D pattern; z={z} needs a function, a "
                           f"{'row of it (' + path.name + ':row=0.5)' if z == 1 else '.npy array'}")
    return image_pattern(path, smooth=sm, invert=invert, rgb=rgb,
                         name=name if name in images else None)
