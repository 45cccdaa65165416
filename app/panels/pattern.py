"""Pattern panel: gallery (built-in images and functions), function parameters, image files
(dialog and drag-and-drop share ``load_image``), a preview of the pattern and the loss range.

Bound to the state: choosing writes ``pattern`` / ``smooth`` with ``state.choose`` (the state
loads the pattern and refuses one that cannot be used); on every ``choice`` event the gallery,
parameters and preview show what the state holds.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import losspattern_core as lp

from .. import file_dialogs, messages
from ..choice import is_function
from ..state import AppState
from ..views.arrays import plane
from ..views.images import pixmap
from .image_aspect import AspectChooser, aspect_note, split_aspect
from .loss_range import LossRangeEditor
from .pattern_makers import maker_row
from .pattern_params import PARAMS, spec_for, values_of

THUMB = 56
PREVIEW = 150
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
ROLE_SPEC, ROLE_KIND = Qt.UserRole, Qt.UserRole + 1


def _spin(lo: float, hi: float, decimals: int, value: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setDecimals(decimals)
    spin.setSingleStep(1 if decimals == 0 else 10 ** -decimals * 5)
    spin.setValue(value)
    spin.setKeyboardTracking(False)
    return spin


class PatternPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self._mode = None          # (z, rgb) the gallery was filled for
        self._params_for = None    # the function whose parameter spins are shown
        self._param_spins: dict[str, QDoubleSpinBox] = {}
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 22, THUMB + 24))
        self.gallery.setResizeMode(QListView.Adjust)
        self.gallery.setMovement(QListView.Static)
        self.gallery.setFixedHeight(2 * (THUMB + 26) + 6)
        self.gallery.currentItemChanged.connect(lambda cur, _: cur and self._picked(cur))
        self.params_box = QWidget()
        self.params = QFormLayout(self.params_box)
        self.params.setContentsMargins(0, 0, 0, 0)
        self.smooth = _spin(0, 20, 2, state.choice.smooth)
        self.smooth.setSuffix(" px")
        self.smooth.setToolTip("Gaussian blur of the image (sigma in pixels of its 256-px copy); "
                               "smoother images are easier to draw into a loss surface")
        self.smooth.valueChanged.connect(lambda v: self._choose(smooth=float(v)))
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Any image Pillow reads; you can also drop a file on the "
                                    "window (Ctrl+O)")
        self.open_button.clicked.connect(self.open_dialog)
        self.aspect = AspectChooser()
        self.aspect.chosen.connect(lambda spec: self._choose(pattern=spec))
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setStyleSheet("border: 1px solid #aaa;")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: #444;")
        self.loss_range = LossRangeEditor(state)
        self.smooth_row = QWidget()
        sr = QHBoxLayout(self.smooth_row)
        sr.setContentsMargins(0, 0, 0, 0)
        sr.addWidget(QLabel("smoothing"))
        sr.addWidget(self.smooth)
        self.maker_row = maker_row(self)   # Draw… / Text… / Paste (pattern_makers.py)
        side = QVBoxLayout()
        for w in (self.params_box, self.smooth_row, self.open_button, self.maker_row,
                  self.aspect):
            side.addWidget(w)
        side.addWidget(self.description, 1)
        row = QHBoxLayout()
        row.addWidget(self.preview)
        row.addLayout(side, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.gallery)
        lay.addLayout(row)
        lay.addWidget(self.loss_range)
        state.events.choice.connect(self._show_state)
        state.events.run.connect(lambda: self.setEnabled(not self.state.running))
        self._show_state()

    # --- writing the state ---------------------------------------------------------------------
    def _choose(self, report: bool = True, **fields) -> bool:
        """``state.choose``; a pattern the core refuses is reported and nothing changes."""
        try:
            self.state.choose(**fields)
        except lp.LossPatternError as exc:
            if report:
                messages.error(self, "Cannot use this pattern", str(exc))
            self._show_state()   # back to what the state holds
            return False
        return True

    def _picked(self, item: QListWidgetItem) -> None:
        spec = item.data(ROLE_SPEC)
        if item.data(ROLE_KIND) == "function":
            values = values_of(self.state.choice.pattern) \
                if self.state.choice.pattern.partition(":")[0] == spec else {}
            spec = spec_for(spec, values)
        self._choose(pattern=spec)

    def _param_changed(self) -> None:
        name = self._params_for
        if name is not None:
            self._choose(pattern=spec_for(name, {k: s.value()
                                                 for k, s in self._param_spins.items()}))

    def open_dialog(self) -> None:
        path = file_dialogs.open_file(self, "Open a pattern image", IMAGE_FILTER)
        if path:
            self.load_image(path)

    def load_image(self, path: str | Path) -> bool:
        """The one path for dialog and drag-and-drop: a bad image keeps the previous pattern."""
        path = Path(path)
        if self.state.choice.z != 2:
            messages.error(self, "Images are 2-D patterns",
                           f"{path.name} is an image, a 2-D pattern; set z = 2 first "
                           f"(now z = {self.state.choice.z}).")
            return False
        try:
            self.state.choose(pattern=str(path))
        except lp.LossPatternError as exc:
            messages.error(self, "Cannot use this image", str(exc))
            self._show_state()
            return False
        return True

    # --- showing the state ---------------------------------------------------------------------
    def _show_state(self) -> None:
        c, pat = self.state.choice, self.state.pattern
        self.gallery.blockSignals(True)
        if self._mode != (c.z, c.rgb):
            self._fill_gallery(c.z)
            self._mode = (c.z, c.rgb)
        name = c.pattern.partition(":")[0]
        function = is_function(c.pattern)
        image = None if function else split_aspect(c.pattern)[0]
        item = self._find(name if function else c.pattern) or (image and self._find(image))
        if item is None and not function:
            item = self._add_item(Path(image).name, image, "image", c.z)
        self.gallery.setCurrentItem(item)
        self.gallery.blockSignals(False)
        self._show_params(name if function else None, values_of(c.pattern))
        self.smooth.blockSignals(True)
        self.smooth.setValue(c.smooth)
        self.smooth.blockSignals(False)
        self.aspect.show_spec(c.pattern if c.z == 2 and image else None)
        if pat is not None:
            note = aspect_note(c.pattern) if not function and c.z == 2 else ""
            self.description.setText(pat.description + (f"\n{note}" if note else ""))
            grid = pat.grid(64)
            shown = grid if pat.channels == 3 and c.z == 2 else plane(grid)
            self.preview.setPixmap(pixmap(shown, PREVIEW, levels=(0, 1)))
            self.preview.setToolTip(f"pattern {pat.name} (before the loss range): bright = "
                                    f"high loss; α1 right, α2 up")

    def _fill_gallery(self, z: int) -> None:
        self.gallery.clear()
        if z == 2:
            for name in lp.builtin_images():
                self._add_item(name, name, "builtin", z)
        for name in lp.PATTERN_FUNCTIONS:
            self._add_item(name, name, "function", z)

    def _add_item(self, label: str, spec: str, kind: str, z: int) -> QListWidgetItem:
        item = QListWidgetItem(label)
        item.setData(ROLE_SPEC, spec)
        item.setData(ROLE_KIND, kind)
        try:
            thumb = lp.load_pattern(spec, z=z, smooth=None, rgb=False).grid(32)
            item.setIcon(pixmap(plane(thumb), THUMB, levels=(0, 1)))
        except lp.LossPatternError:
            pass
        item.setToolTip(f"{kind}: {spec}")
        self.gallery.addItem(item)
        return item

    def _find(self, spec: str) -> QListWidgetItem | None:
        for i in range(self.gallery.count()):
            if self.gallery.item(i).data(ROLE_SPEC) == spec:
                return self.gallery.item(i)
        return None

    def _show_params(self, function: str | None, values: dict) -> None:
        """Parameter spins of ``function`` holding ``values`` (rebuilt only for a new one)."""
        self.smooth_row.setVisible(function is None)
        if function != self._params_for:
            while self.params.rowCount():
                self.params.removeRow(0)
            self._param_spins = {}
            for key, default, lo, hi, decimals in PARAMS.get(function or "", []):
                spin = _spin(lo, hi, decimals, default)
                spin.valueChanged.connect(lambda _: self._param_changed())
                self.params.addRow(key, spin)
                self._param_spins[key] = spin
            self._params_for = function
        for key, default, *_ in PARAMS.get(function or "", []):
            spin = self._param_spins[key]
            spin.blockSignals(True)
            spin.setValue(values.get(key, default))
            spin.blockSignals(False)

    # --- conveniences (command line, tests) ----------------------------------------------------
    def spec(self) -> str:
        return self.state.choice.pattern

    def select(self, spec: str) -> bool:
        """Choose a pattern by spec; a path is opened as an image."""
        if not is_function(spec) and Path(split_aspect(spec)[0]).suffix \
                and spec not in lp.builtin_images():
            return self.load_image(spec)
        return self._choose(report=False, pattern=spec)
