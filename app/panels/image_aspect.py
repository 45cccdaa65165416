"""How a non-square image becomes the square α domain: the spec's ``aspect=`` option, the
note that says what was done, and the chooser the pattern panel shows for such an image.

The core crops the centre square by default (``lp.DEFAULT_ASPECT``): the aspect is kept and
every α point is picture. Fit (padded to a square) and stretch are one choice away; the
default is left out of the spec, so a square image's spec stays its plain path.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

import losspattern_core as lp

from ..file_dialogs import is_special

LABELS = {"crop": "crop the centre square", "fit": "fit: pad to a square",
          "stretch": "stretch to a square"}
DONE = {"crop": "is cropped to its centre square (aspect kept)",
        "fit": "is fitted into a square, padded with white (aspect kept)",
        "stretch": "is stretched to the square (aspect not kept)"}
SUFFIX = ":aspect="


def split_aspect(spec: str) -> tuple[str, str]:
    """("photo.jpg", "fit") from "photo.jpg:aspect=fit"; a spec without it has the default."""
    head, sep, mode = spec.rpartition(SUFFIX)
    if sep and mode in lp.PATTERN_ASPECTS:
        return head, mode
    return spec, lp.DEFAULT_ASPECT


def with_aspect(path: str, aspect: str) -> str:
    """The spec of image ``path`` made square by ``aspect`` (the default is left out)."""
    return path if aspect == lp.DEFAULT_ASPECT else f"{path}{SUFFIX}{aspect}"


def image_size(path: str) -> tuple[int, int] | None:
    """(width, height) from the image's header; None for special files, folders, built-ins
    and files Pillow cannot open."""
    if is_special(path) or not Path(path).is_file():
        return None
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except (OSError, ValueError):
        return None


def aspect_note(spec: str) -> str:
    """What happens to a non-square image ("" when square, a built-in, or unreadable)."""
    path, aspect = split_aspect(spec)
    size = image_size(path)
    if size is None or size[0] == size[1]:
        return ""
    return f"Note: this {size[0]}×{size[1]} image {DONE[aspect]}."


class AspectChooser(QWidget):
    """'non-square image: [crop the centre square ▾]', shown only for a non-square image."""

    chosen = Signal(str)   # the new spec

    def __init__(self, parent=None):
        super().__init__(parent)
        self._path = ""
        self.combo = QComboBox()
        for mode in lp.PATTERN_ASPECTS:
            self.combo.addItem(LABELS.get(mode, mode), mode)
        self.combo.setToolTip("How a non-square image becomes the square α grid: crop its "
                              "centre square (default), fit it whole with white padding, or "
                              "stretch it. The pattern's caption says which was used.")
        self.combo.activated.connect(
            lambda _: self.chosen.emit(with_aspect(self._path, self.combo.currentData())))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("non-square"))
        lay.addWidget(self.combo, 1)

    def show_spec(self, spec: str | None) -> None:
        """Show the mode of ``spec`` (an image spec) or hide for anything square or no image."""
        path, aspect = split_aspect(spec or "")
        size = image_size(path) if spec else None
        self._path = path
        self.setVisible(size is not None and size[0] != size[1])
        self.combo.setCurrentIndex(max(self.combo.findData(aspect), 0))
