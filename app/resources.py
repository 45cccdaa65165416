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
