"""Patterns made in the app (drawn, typed, pasted) become patterns exactly like a loaded image.

The grey array (rows top to bottom, values in [0, 1], bright = high loss) is written as an
8-bit greyscale PNG (decoded exactly by the core's image reader) in the app's pattern folder
and chosen as the pattern by its path, so it goes through the core's image→pattern path
(``lp.load_pattern``: smoothing, bilinear sampling, α1 right and α2 up) and every later step
(runs, history, saved settings, the bundle's pattern source) sees an ordinary image file. The
PNG carries its provenance ("drawn", "text: WORDS", "clipboard") in a text chunk, which the
bundle records.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QImage

PROVENANCE_KEY = "losspattern-provenance"   # the PNG text chunk the bundle reads
FOLDER: Path | None = None                   # tests point this at a temporary folder


def pattern_folder() -> Path:
    """Where drawn patterns are kept (they must outlive the session: runs refer to them)."""
    if FOLDER is not None:
        return Path(FOLDER)
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) \
        or str(Path.home() / ".local" / "share" / "LossPattern")
    return Path(base) / "patterns"


def file_name(provenance: str, folder: Path) -> str:
    """``drawn-1.png``, ``text-HELLO-WORLD.png``, ``clipboard-2.png``: short (the stem is the
    pattern's name in captions and bundles), safe, not yet in ``folder``."""
    kind, _, words = provenance.partition(":")
    stem = "-".join(p for p in (kind.strip() or "pattern",
                                re.sub(r"[^A-Za-z0-9]+", "-", words).strip("-")[:40]) if p)
    if words and not (folder / f"{stem}.png").exists():
        return f"{stem}.png"
    n = 1
    while (folder / f"{stem}-{n}.png").exists():
        n += 1
    return f"{stem}-{n}.png"


def save_grey(array: np.ndarray, provenance: str, folder: Path | None = None) -> Path:
    """Write ``array`` (H, W) in [0, 1] as an 8-bit grey PNG with its provenance; atomic."""
    from PIL import Image, PngImagePlugin

    arr = np.asarray(array, dtype=np.float64)
    if arr.ndim != 2 or min(arr.shape) < 2 or not np.isfinite(arr).all():
        raise ValueError(f"a pattern image is a finite 2-D array, got shape {arr.shape}")
    folder = Path(folder or pattern_folder())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(provenance, folder)
    info = PngImagePlugin.PngInfo()
    info.add_text(PROVENANCE_KEY, provenance)
    img = Image.fromarray(np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8), mode="L")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=folder)
    os.close(fd)
    try:
        img.save(tmp, format="PNG", pnginfo=info)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def grey_of_qimage(image: QImage) -> np.ndarray:
    """A QImage as a grey array in [0, 1] (rows top to bottom); transparent pixels count as
    black (no loss)."""
    if image.isNull():
        raise ValueError("the image is empty")
    rgba = image.convertToFormat(QImage.Format_RGBA8888)
    w, h = rgba.width(), rgba.height()
    buf = np.frombuffer(rgba.constBits(), dtype=np.uint8, count=rgba.sizeInBytes())
    px = buf.reshape(h, rgba.bytesPerLine())[:, :4 * w].reshape(h, w, 4).astype(np.float64)
    grey = (0.299 * px[..., 0] + 0.587 * px[..., 1] + 0.114 * px[..., 2]) / 255.0
    return grey * (px[..., 3] / 255.0)


def use_as_pattern(panel, array: np.ndarray, provenance: str) -> bool:
    """Make ``array`` the pattern through the panel's image path (``PatternPanel.load_image``:
    z = 2 only, a refused image keeps the previous pattern with a message)."""
    from .. import messages

    if panel.state.running:
        messages.error(panel, "A run is under way", "the pattern can change when the run "
                                                    "has finished or is cancelled")
        return False
    try:
        path = save_grey(array, provenance)
    except (OSError, ValueError) as exc:
        messages.error(panel, "Cannot use this pattern", f"could not keep the pattern image: "
                                                         f"{exc}")
        return False
    return panel.load_image(path)


def paste_pattern(panel) -> bool:
    """Edit → Paste pattern (Ctrl+V in the pattern panel): the clipboard's image, or an
    image file copied in a file manager, becomes the pattern."""
    from PySide6.QtGui import QGuiApplication

    from .. import messages

    data = QGuiApplication.clipboard().mimeData()
    if data is not None and data.hasImage():
        image = QImage(data.imageData())
        try:
            return use_as_pattern(panel, grey_of_qimage(image), "clipboard")
        except ValueError as exc:
            messages.error(panel, "Cannot paste", str(exc))
            return False
    urls = data.urls() if data is not None and data.hasUrls() else []
    if len(urls) == 1 and urls[0].isLocalFile():
        return panel.load_image(urls[0].toLocalFile())
    messages.error(panel, "Nothing to paste", "the clipboard holds no image (copy an image, "
                                              "or an image file, first)")
    return False
