"""Pattern panel: gallery (built-in images and functions), function parameters, image files
(dialog and drag-and-drop share ``load_image``), a target preview and the loss range.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
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

from losspattern_core.errors import LossPatternError
from losspattern_core.data.patterns import PATTERN_FUNCTIONS as FUNCTIONS, Pattern, builtin_images, load_pattern

from .. import messages
from ..views.images import pixmap
from .loss_range import LossRangeEditor
from .pattern_params import PARAMS, spec_for

THUMB = 56
PREVIEW = 150
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
ROLE_SPEC, ROLE_KIND = Qt.UserRole, Qt.UserRole + 1


class PatternPanel(QWidget):
    """``pattern`` is the loaded Pattern; ``spec()`` the string for ConstructionConfig."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.z, self.rgb = 2, False
        self.pattern: Pattern | None = None
        self._spec = ""
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListView.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 22, THUMB + 24))
        self.gallery.setResizeMode(QListView.Adjust)
        self.gallery.setMovement(QListView.Static)
        self.gallery.setFixedHeight(2 * (THUMB + 26) + 6)
        self.gallery.currentItemChanged.connect(lambda cur, _: cur and self._select(cur))
        self.params_box = QWidget()
        self.params = QFormLayout(self.params_box)
        self.params.setContentsMargins(0, 0, 0, 0)
        self._param_spins: dict[str, QDoubleSpinBox] = {}
        self.smooth = QDoubleSpinBox()
        self.smooth.setRange(0, 20)
        self.smooth.setValue(1.0)
        self.smooth.setSuffix(" px")
        self.smooth.setKeyboardTracking(False)
        self.smooth.setToolTip("Gaussian blur of the image (sigma in pixels of its 256-px copy); "
                               "smoother images are easier to draw into a loss surface")
        self.smooth.valueChanged.connect(lambda _: self._reload())
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("Any image Pillow reads; you can also drop a file on the "
                                    "window (Ctrl+O)")
        self.open_button.clicked.connect(self.open_dialog)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setStyleSheet("border: 1px solid #aaa;")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: #444;")
        self.loss_range = LossRangeEditor()
        self.loss_range.changed.connect(self.changed)
        side = QVBoxLayout()
        side.addWidget(self.params_box)
        self.smooth_row = QWidget()
        sr = QHBoxLayout(self.smooth_row)
        sr.setContentsMargins(0, 0, 0, 0)
        sr.addWidget(QLabel("smoothing"))
        sr.addWidget(self.smooth)
        side.addWidget(self.smooth_row)
        side.addWidget(self.open_button)
        side.addWidget(self.description, 1)
        row = QHBoxLayout()
        row.addWidget(self.preview)
        row.addLayout(side, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.gallery)
        lay.addLayout(row)
        lay.addWidget(self.loss_range)
        self._fill_gallery()

    # --- gallery -----------------------------------------------------------------------------
    def _fill_gallery(self) -> None:
        self.gallery.blockSignals(True)
        self.gallery.clear()
        if self.z == 2:
            for name in builtin_images():
                self._add_item(name, name, "builtin")
        for name in FUNCTIONS:
            self._add_item(name, name, "function")
        self.gallery.blockSignals(False)

    def _add_item(self, label: str, spec: str, kind: str) -> QListWidgetItem:
        item = QListWidgetItem(label)
        item.setData(ROLE_SPEC, spec)
        item.setData(ROLE_KIND, kind)
        try:
            thumb = load_pattern(spec, z=self.z, smooth=None, rgb=False).grid(32)
            from ..views.arrays import plane

            item.setIcon(pixmap(plane(thumb), THUMB, levels=(0, 1)))
        except LossPatternError:
            pass
        item.setToolTip(f"{kind}: {spec}")
        self.gallery.addItem(item)
        return item

    def _find(self, spec: str) -> QListWidgetItem | None:
        for i in range(self.gallery.count()):
            if self.gallery.item(i).data(ROLE_SPEC) == spec:
                return self.gallery.item(i)
        return None

    def _select(self, item: QListWidgetItem) -> None:
        kind, spec = item.data(ROLE_KIND), item.data(ROLE_SPEC)
        self._build_params(spec if kind == "function" else None)
        self._try_load(spec, kind)

    # --- parameters --------------------------------------------------------------------------
    def _build_params(self, function: str | None, values: dict | None = None) -> None:
        while self.params.rowCount():
            self.params.removeRow(0)
        self._param_spins = {}
        self.smooth_row.setVisible(function is None)
        for key, default, lo, hi, decimals in PARAMS.get(function or "", []):
            spin = QDoubleSpinBox()
            spin.setRange(lo, hi)
            spin.setDecimals(decimals)
            spin.setSingleStep(1 if decimals == 0 else 10 ** -decimals * 5)
            spin.setValue((values or {}).get(key, default))
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda _: self._reload())
            self.params.addRow(key, spin)
            self._param_spins[key] = spin

    def _function_spec(self, name: str) -> str:
        return spec_for(name, {k: s.value() for k, s in self._param_spins.items()})

    # --- loading -------------------------------------------------------------------------------
    def _try_load(self, spec: str, kind: str, report: bool = False) -> bool:
        try:
            pat = load_pattern(spec, z=self.z, smooth=self.smooth.value(), rgb=self.rgb)
        except LossPatternError as exc:
            if report:
                messages.error(self, "Cannot use this pattern", str(exc))
            return False
        self.pattern, self._spec, self._kind = pat, spec, kind
        self.description.setText(pat.description)
        grid = pat.grid(64)
        from ..views.arrays import plane

        self.preview.setPixmap(pixmap(grid if pat.channels == 3 and self.z == 2 else plane(grid),
                                      PREVIEW, levels=(0, 1)))
        self.preview.setToolTip(f"target T of {pat.name}: bright = high loss; α1 right, α2 up")
        self.changed.emit()
        return True

    def _reload(self) -> None:
        item = self.gallery.currentItem()
        if item is None:
            return
        kind, spec = item.data(ROLE_KIND), item.data(ROLE_SPEC)
        self._try_load(self._function_spec(spec) if kind == "function" else spec, kind,
                       report=True)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a pattern image", str(Path.home()),
                                              IMAGE_FILTER)
        if path:
            self.load_image(path)

    def load_image(self, path: str | Path) -> bool:
        """The one path for dialog and drag-and-drop: a bad image keeps the previous pattern."""
        path = Path(path)
        if self.z != 2:
            messages.error(self, "Images are 2-D patterns",
                           f"{path.name} is an image, a 2-D pattern; set z = 2 first "
                           f"(now z = {self.z}).")
            return False
        previous = self.gallery.currentItem()
        try:
            load_pattern(str(path), z=2, smooth=self.smooth.value(), rgb=self.rgb)
        except LossPatternError as exc:
            messages.error(self, "Cannot use this image", str(exc))
            return False
        item = self._find(str(path))
        if item is None:
            self.gallery.blockSignals(True)
            item = self._add_item(path.name, str(path), "image")
            self.gallery.blockSignals(False)
        self.gallery.setCurrentItem(item)
        if self._spec != str(path):  # selection did not change (already current): load now
            self._build_params(None)
            ok = self._try_load(str(path), "image", report=True)
            if not ok and previous is not None:
                self.gallery.setCurrentItem(previous)
            return ok
        return True

    # --- state ---------------------------------------------------------------------------------
    def spec(self) -> str:
        return self._spec

    def select(self, spec: str) -> bool:
        """Select by spec (settings, command line); a path is opened as an image."""
        name = spec.partition(":")[0]
        item = self._find(name)
        if item is None:
            if Path(spec).suffix:
                return self.load_image(spec)
            return False
        values = {}
        if item.data(ROLE_KIND) == "function" and ":" in spec:
            for kv in spec.partition(":")[2].split(","):
                k, _, v = kv.partition("=")
                try:
                    values[k.strip()] = float(v)
                except ValueError:
                    pass
        self.gallery.blockSignals(True)
        self.gallery.setCurrentItem(item)
        self.gallery.blockSignals(False)
        kind = item.data(ROLE_KIND)
        self._build_params(name if kind == "function" else None, values)
        return self._try_load(self._function_spec(name) if kind == "function" else name, kind)

    def set_mode(self, z: int, rgb: bool) -> None:
        """z or RGB changed: images exist only for z = 2; reload the current pattern."""
        if (z, rgb) == (self.z, self.rgb):
            return
        old = self._spec
        self.z, self.rgb = z, rgb
        self._fill_gallery()
        if not self.select(old):
            self.select("bumps")

    def is_valid(self) -> bool:
        return self.pattern is not None and self.loss_range.is_valid()
