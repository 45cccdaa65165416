"""Patterns: targets T on [0,1]^z with values in [0,1], mapped into a loss range [low, high].

A pattern spec is a built-in name (``bumps``, ``smiley``), a function with parameters
(``rings:freq=4``) or a path to an image file. Axis k of every grid array is direction k.
Images are drawn with direction 1 pointing right and direction 2 pointing up, so an image
appears upright in a plot with alpha_1 on the x axis.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import ConfigError, PatternError

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "patterns"
MAX_IMAGE_PIXELS = 64_000_000  # refuse before decoding anything larger
MAX_FILE_BYTES = 256 * 1024 * 1024
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


def grid_axis(size: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, size)


def grid_points(size: int, z: int) -> np.ndarray:
    """All points of the G^z grid, (G**z, z), in C order (last direction fastest)."""
    axes = np.meshgrid(*([grid_axis(size)] * z), indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


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


FUNCTIONS: dict[str, Callable] = {
    "bumps": _bumps, "rings": _rings, "checkerboard": _checkerboard, "sinc": _sinc,
    "waves": _waves, "bowl": _bowl,
}


# --- images ----------------------------------------------------------------------------------

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
    return Pattern(name or path.stem, 2, lambda a: bilinear(img, a), channels, str(path),
                   f"image {path.name} ({img.shape[1]}x{img.shape[0]} working resolution"
                   f"{', smoothed sigma=%g px' % smooth if smooth else ''})")


def builtin_images() -> dict[str, Path]:
    return {p.stem: p for p in sorted(ASSET_DIR.glob("*.png"))}


def available_patterns() -> dict[str, str]:
    out = {name: f"built-in image {path.name}" for name, path in builtin_images().items()}
    for name, make in FUNCTIONS.items():
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
    if name in FUNCTIONS:
        fn, desc = FUNCTIONS[name](z, opts)
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
        if not path.suffix and not path.exists():
            raise PatternError(f"unknown pattern {spec!r}; built in: "
                               f"{', '.join(available_patterns())}, or a path to an image")
        opts = {}
    if z != 2:
        raise PatternError(f"image {path.name} is a 2-D pattern; z={z} needs a function")
    invert = opts.pop("invert", "0") not in ("0", "false", "no")
    if "smooth" in opts:
        smooth = _opt(opts, "smooth", 0, 0, 50)
    if opts:
        raise PatternError(f"pattern {name}: unknown option(s) {sorted(opts)}")
    return image_pattern(path, smooth=1.0 if smooth is None else smooth, invert=invert, rgb=rgb,
                         name=name if name in images else None)
