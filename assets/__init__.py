"""LossPattern's bundled files: built-in pattern images, icons and the desktop launcher.

Installed as the package ``losspattern_assets`` (pyproject maps it to this folder), so the same
code finds them in a checkout, an editable install and a wheel. ``path`` is the one resolver:
the core (built-in patterns) and the app (icons, launcher) both ask it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def path(*parts: str) -> Path:
    """Path of a bundled file (it may not exist; callers decide what that means)."""
    return Path(str(files(__name__).joinpath(*parts)))


def pattern_images() -> dict[str, Path]:
    """The built-in pattern images by name (``smiley`` -> .../patterns/smiley.png)."""
    folder = path("patterns")
    return {p.stem: p for p in sorted(folder.glob("*.png"))} if folder.is_dir() else {}
