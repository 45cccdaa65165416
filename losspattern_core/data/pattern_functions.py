"""Analytic patterns, defined for any z: ``bumps``, ``rings``, ``checkerboard``, ``sinc``,
``waves``, ``bowl``. Each maker takes (z, options) and returns (function, description); every
option is a finite number inside its stated bounds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from losspattern_core.errors import PatternError


def _opt(opts: dict, key: str, default: float, lo: float, hi: float) -> float:
    try:
        value = float(opts.pop(key, default))
    except (ValueError, OverflowError) as exc:
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
