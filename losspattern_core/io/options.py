"""Checked parsers for command-line options (argparse ``type=`` callables) and their limits.

Each parser refuses what the program could not honour (NaN, infinities, negative seeds,
integers of hundreds of digits, empty paths) with argparse's usual "invalid value" message,
so a bad option never reaches the work. The same limits serve front ends that are not
argparse: ``check_image_size`` for a picture's pixel size.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from losspattern_core.errors import ConfigError

MAX_SEED = 2**63 - 1
MAX_IMAGE_SIDE = 16384
MAX_THREADS = 1024
FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")
_MAX_DIGITS = 30


def _int_text(text: str) -> int:
    s = text.strip()
    if len(s.lstrip("+-")) > _MAX_DIGITS:
        raise argparse.ArgumentTypeError(f"{text[:20]}... has more than {_MAX_DIGITS} digits")
    try:
        return int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an integer") from None


def int_range(lo: int, hi: int):
    """An integer option in lo..hi."""
    def parse(text: str) -> int:
        value = _int_text(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is outside {lo}..{hi}")
        return value
    parse.__name__ = "integer"
    return parse


def float_range(lo: float, hi: float, open_low: bool = False):
    """A finite float option in [lo, hi] (or (lo, hi] with ``open_low``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text[:40]} is not a finite number")
        if not lo <= value <= hi or (open_low and value == lo):
            left = "(" if open_low else "["
            raise argparse.ArgumentTypeError(f"{value:g} is outside {left}{lo:g}, {hi:g}]")
        return value
    parse.__name__ = "number"
    return parse


def finite_float(text: str) -> float:
    return float_range(-math.inf, math.inf)(text)


finite_float.__name__ = "number"
seed = int_range(0, MAX_SEED)
threads = int_range(1, MAX_THREADS)
pixels = int_range(1, MAX_IMAGE_SIDE)


def nonempty_path(text: str) -> str:
    """A path that is not empty and has no NUL byte."""
    if not text.strip() or "\x00" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable path")
    return text


def check_image_size(size) -> tuple[int, int]:
    """A picture's (width, height): integers in 1..16384 (raises ConfigError)."""
    try:
        w, h = size
    except (TypeError, ValueError):
        raise ConfigError(f"image size must be two integers (width, height), got {size!r}") \
            from None
    for name, v in (("width", w), ("height", h)):
        if type(v) is not int or not 1 <= v <= MAX_IMAGE_SIDE:
            raise ConfigError(f"image {name} {v!r} must be an integer in 1..{MAX_IMAGE_SIDE}")
    return w, h


def check_output_file(path: str | os.PathLike, formats: tuple[str, ...] = FIGURE_FORMATS,
                      what: str = "figure") -> Path:
    """A file we are about to write: a known suffix, an existing folder, not a folder itself."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder; name a file inside it")
    if not str(path).strip() or not path.name:
        raise ConfigError(f"the {what} path {str(path)!r} is empty")
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ConfigError(f"{what} {path}: unknown format {path.suffix or '(no suffix)'!r}; "
                          f"use one of {', '.join('.' + f for f in formats)}")
    if path.exists() and not path.is_file():
        raise ConfigError(f"{what} {path} exists and is not a regular file")
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {path}: folder {parent} is not writable")
    return path


def threads_from_env(env: str = "LOSSPATTERN_THREADS") -> int | None:
    """$LOSSPATTERN_THREADS as a checked integer (None when unset; ConfigError when bad)."""
    text = os.environ.get(env, "").strip()
    if not text:
        return None
    try:
        return threads(text)
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"${env}={text[:30]!r}: {exc}; use 1..{MAX_THREADS}") from None
