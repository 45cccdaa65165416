"""Patterns: targets T on [0,1]^z with values in [0,1], mapped into a loss range [low, high].

A pattern spec is a built-in name (``bumps``, ``smiley``), a function with parameters
(``rings:freq=4``) or a path to an image file. Axis k of every grid array is direction k.

Sources by dimension z:
  * any z: the analytic functions (``bumps``, ``rings``, ...);
  * z = 1: a ``.csv`` or ``.npy`` of values, or one row of an image (``smiley:row=0.5``, the
    2-D pattern's slice at alpha_2 = 0.5, 0 = bottom row);
  * z = 2: an image (greyscale or, with --rgb, colour), or a 2-D ``.npy``/``.csv``; a
    non-square image is cropped to its centre square unless ``aspect=fit`` (padded to a
    square) or ``aspect=stretch`` says otherwise (``photo.jpg:aspect=fit``);
  * z = 3: a ``.npy`` volume, a folder of images (sorted by name: slice k along direction 3)
    or a multi-frame image (TIFF/GIF stack);
  * z >= 4: functions or a ``.npy`` of rank z.
Arrays are min-max normalised to [0, 1] and interpolated (multilinear) between their samples;
their axis k is direction k (a leading or trailing axis of 3 is the colour channel with --rgb).
Images are drawn with direction 1 pointing right and direction 2 pointing up, so an image
appears upright in a plot with alpha_1 on the x axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from losspattern_assets import pattern_images

from losspattern_core.data.images import (  # noqa: F401
    ASPECTS,
    DEFAULT_ASPECT,
    MAX_FILE_BYTES,
    MAX_IMAGE_PIXELS,
    check_aspect,
)
from losspattern_core.data.pattern_core import (  # noqa: F401
    LossRange,
    Pattern,
    check_loss_range,
    default_loss_range,
)
from losspattern_core.data.pattern_files import (  # noqa: F401
    IMAGE_SUFFIXES,
    MAX_ARRAY_VALUES,
    array_pattern,
    bilinear,
    image_frames,
    image_pattern,
    image_stack,
    load_values,
    stack_pattern,
)
from losspattern_core.data.pattern_functions import PATTERN_FUNCTIONS, _opt
from losspattern_core.errors import PatternError

MAX_SPEC = 4096  # characters of a pattern spec


def default_grid(z: int, theorem: int = 1) -> int:
    """Evaluation grid G per direction when none is given: G^z stays a few thousand to ~30k
    points (z=1: 256, z=2: 64, z=3: 24, z=4: 10, z=5: 6, z>=6: 4). Theorem 2 networks are
    measured per training sample, so their z=3 default is 16 and z>=4 uses one less."""
    g = {1: 256, 2: 64, 3: 24, 4: 10, 5: 6}.get(z, 4)
    if theorem == 2 and z >= 3:
        g = 16 if z == 3 else max(3, g - 2)
    return g


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


def _function_pattern(spec: str, name: str, opts: dict, z: int, rgb: bool) -> Pattern:
    fn, desc = PATTERN_FUNCTIONS[name](z, opts)
    if opts:
        raise PatternError(f"pattern {name}: unknown option(s) {sorted(opts)}")
    if rgb:
        base = fn
        fn = lambda a: np.stack([base(a), base(np.roll(a, 1, axis=1) if a.shape[1] > 1
                                                 else a[:, ::-1]), base(1 - a)], axis=1)
        desc += " (three channels: the function, its axes swapped, and mirrored)"
    return Pattern(spec, z, fn, 3 if rgb else 1, f"function:{spec}", desc)


def _row_pattern(path: Path, row: str, z: int, img: Pattern, label: str) -> Pattern:
    """z = 1: one row of an image (0 = bottom row)."""
    try:
        r = float(row)
    except ValueError as exc:
        raise PatternError("pattern option row must be a number in [0, 1]") from exc
    if not 0 <= r <= 1:
        raise PatternError(f"pattern option row={r:g} is outside [0, 1] (0 = bottom row)")
    if z != 1:
        raise PatternError(f"{path.name}:row={row} is a 1-D curve; it needs z = 1, not {z}")
    return Pattern(f"{label}:row={r:g}", 1,
                   lambda a: img.fn(np.column_stack([a[:, 0], np.full(len(a), r)])),
                   img.channels, img.source, f"row alpha_2 = {r:g} of {img.description}",
                   img.note)


def load_pattern(spec: str, z: int = 2, smooth: float | None = None, rgb: bool = False,
                 aspect: str | None = None) -> Pattern:
    """Resolve a pattern spec: a function name, a built-in image name or an image path.

    ``aspect`` (crop, fit, stretch; None: the spec's ``aspect=`` option or crop) says how a
    non-square image becomes the square alpha domain; functions and arrays ignore it."""
    if not isinstance(spec, str) or not spec.strip() or len(spec) > MAX_SPEC or "\x00" in spec:
        raise PatternError(f"pattern spec {str(spec)[:60]!r} is empty, too long or not text")
    name, opts = parse_options(spec)
    if name in PATTERN_FUNCTIONS:
        return _function_pattern(spec, name, opts, z, rgb)
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
        return array_pattern(load_values(path), z, rgb, label, str(path),
                             "values" if suffix != ".npy" else "array")
    invert = opts.pop("invert", "0") not in ("0", "false", "no")
    aspect = check_aspect(opts.pop("aspect", aspect))
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
        return image_stack(files, sm, invert, rgb, label, str(path), aspect)
    row = opts.pop("row", None)
    if opts:
        raise PatternError(f"pattern {name}: unknown option(s) {sorted(opts)}")
    if row is not None:
        return _row_pattern(path, row, z, image_pattern(path, smooth=sm, invert=invert,
                                                        rgb=rgb, name=label, aspect=aspect),
                            label)
    if z == 3:
        frames = image_frames(path, rgb, sm, aspect)
        return stack_pattern(frames, invert, rgb, label, str(path), f"{len(frames)} frames of "
                              f"{path.name}")
    if z != 2:
        raise PatternError(f"image {path.name} is a 2-D pattern; z={z} needs a function, a "
                           f"{'row of it (' + path.name + ':row=0.5)' if z == 1 else '.npy array'}")
    return image_pattern(path, smooth=sm, invert=invert, rgb=rgb,
                         name=name if name in images else None, aspect=aspect)
