"""The one place that resolves paths into ``assets/`` (no Qt here: the offscreen path uses it)."""

from __future__ import annotations

from pathlib import Path

from losspattern_assets import path as asset

ROOT = Path(__file__).resolve().parent.parent


def icon_svg() -> Path:
    return asset("icons", "losspattern.svg")


def icon_png() -> Path:
    return asset("icons", "losspattern.png")


def desktop_file() -> Path:
    return asset("losspattern.desktop")


def theorem2_available() -> bool:
    """Theorem 2 is offered only once the core ships its construction."""
    import importlib.util

    try:
        return importlib.util.find_spec("losspattern_core.construct.theorem2") is not None
    except (ImportError, ValueError):
        return False
