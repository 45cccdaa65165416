"""The options of the Export dialog: one row per option, shown only for the formats that take
it (the core's ``ExportFormat.options``), read back as the core's keyword options."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

import losspattern_core as lp

COLORMAPS = ("viridis", "magma", "plasma", "inferno", "cividis", "turbo", "gray")
ANIMATION_LABELS = {"forming": "construction forming (the run's recorded snapshots)",
                    "turntable": "3-D turntable", "slices": "z-slices of the volume"}
SOURCE_LABELS = {"train": "measured train loss", "test": "measured test loss",
                 "target": "target T"}


def _double(lo: float, hi: float, value: float, decimals: int = 2, suffix: str = ""):
    spin = QDoubleSpinBox()
    spin.setRange(lo, hi)
    spin.setDecimals(decimals)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin


def _int(lo: int, hi: int, value: int, step: int = 1, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(lo, hi)
    spin.setSingleStep(step)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin


class ExportOptions(QWidget):
    """Rows: view (PNG), surface, head, animation, exaggeration, base and print size (STL),
    colormap, frame rate, frames (turntable), size in pixels."""

    def __init__(self, data, snapshots: list, views: list[str], total_steps: int, parent=None):
        super().__init__(parent)
        self.data, self.snapshots, self.total_steps = data, snapshots, int(total_steps)
        self.view = QComboBox()
        self.view.addItems(list(views))
        self.source = QComboBox()
        for s in ("train", "test", "target"):
            if s in data.surfaces:
                self.source.addItem(SOURCE_LABELS[s], s)
        self.head = _int(1, max(1, data.heads), 1)
        self.animation = QComboBox()
        kinds = (["forming"] if snapshots else []) + (["turntable"] if data.z >= 2 else []) \
            + (["slices"] if data.z >= 3 else [])
        for k in kinds:
            self.animation.addItem(ANIMATION_LABELS[k], k)
        self.exaggeration = _double(0.01, 1000.0, 1.0)
        self.exaggeration.setToolTip("height = exaggeration × loss (1: one loss unit is as "
                                     "tall as one α unit is long)")
        self.base = _double(0.1, 100.0, 5.0, 1, " mm")
        self.print_size = _double(10.0, 2000.0, 100.0, 0, " mm")
        self.cmap = QComboBox()
        self.cmap.addItems(COLORMAPS)
        self.fps = _double(1.0, 60.0, 10.0, 1, " frames/s")
        self.frames = _int(4, 720, 72, 4)
        self.elevation = _double(0.0, 90.0, 30.0, 0, "°")
        self.elevation.setToolTip("the camera's height above the α plane (90°: from above)")
        self.width_px, self.height_px = _int(64, 7680, 960, 16), _int(64, 4320, 540, 16)
        size = QWidget()
        row = QHBoxLayout(size)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.width_px, QLabel("×"), self.height_px, QLabel("pixels")):
            row.addWidget(w)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.rows = {}
        for key, label, widget in (
                ("view", "view", self.view), ("source", "surface", self.source),
                ("head", "head (colour channel)", self.head),
                ("animation", "animation", self.animation),
                ("exaggeration", "vertical exaggeration", self.exaggeration),
                ("base", "base thickness", self.base), ("print", "print size", self.print_size),
                ("cmap", "colormap", self.cmap), ("fps", "frame rate", self.fps),
                ("frames", "frames (one turn)", self.frames),
                ("elevation", "camera elevation", self.elevation), ("pixels", "size", size),
                ("note", "", self.note)):
            self.form.addRow(label, widget)
            self.rows[key] = widget
        self.animation.currentIndexChanged.connect(lambda _: self.show_for(*self._shown))
        self._shown = ("png", None)

    def rows_for(self, key: str, fmt) -> set[str]:
        """Which rows the entry ``key`` (core format ``fmt`` or the app's) uses."""
        if fmt is None:
            return {"view", "pixels"} if key == "png" else set()
        opts = set(fmt.options)
        rows = {r for r in ("source", "exaggeration", "cmap", "fps", "frames", "base")
                if r in opts}
        if "head" in opts and self.data.heads > 1:
            rows.add("head")
        if fmt.kind == "animation":
            rows |= {"animation", "pixels"}
            kind = self.animation.currentData()
            rows -= {"frames"} if kind != "turntable" else set()
            rows |= {"elevation"} if kind == "turntable" else set()
            rows -= {"source"} if kind == "forming" else set()
        if fmt.name == "stl":
            rows |= {"print"}
        return rows

    def show_for(self, key: str, fmt) -> None:
        self._shown = (key, fmt)
        rows = self.rows_for(key, fmt) | {"note"}
        for name, widget in self.rows.items():
            self.form.setRowVisible(widget, name in rows)
        self.note.setText(self._note(key, fmt))

    def _note(self, key: str, fmt) -> str:
        if fmt is not None and fmt.kind == "animation":
            kind = self.animation.currentData()
            if kind == "forming":
                return (f"{len(self.snapshots)} snapshots recorded during the run, each frame "
                        f"labelled with its step and train fidelity.")
            if kind is None:
                return "no animation for this run: nothing was recorded and z = 1 has no surface"
        if fmt is not None and self.data.z >= 3 and fmt.kind in ("mesh", "data") \
                and fmt.name != "vti":
            return "a plane through the middle of direction 3 (the volume: .vti)"
        return {"npy-csv": "target.npy, surface_train.npy, surface_test.npy and surfaces.csv "
                           "in a new folder",
                "bundle": "weights, split, surfaces and provenance: verifiable with plain "
                          "PyTorch"}.get(key, "")

    def what(self, key: str) -> str:
        """A word for the default file name."""
        if key == "png":
            return self.view.currentText().split()[0]
        if key in ("mp4", "gif"):
            return self.animation.currentData() or "animation"
        return {"npy-csv": "surfaces"}.get(key, key if key == "bundle" else "surface")

    def png_choice(self) -> tuple[str, tuple[int, int]]:
        return self.view.currentText(), (self.width_px.value(), self.height_px.value())

    def values(self, key: str) -> dict:
        """The core's keyword options for format ``key`` (only those it takes)."""
        fmt = next(f for f in lp.formats_for(self.data) if f.name == key)
        rows = self.rows_for(key, fmt)
        out = {}
        if "source" in rows:
            out["source"] = self.source.currentData()
        if "head" in rows:
            out["head"] = self.head.value() - 1
        for name, spin in (("exaggeration", self.exaggeration), ("base", self.base),
                           ("fps", self.fps)):
            if name in rows:
                out[name] = float(spin.value())
        if "cmap" in rows:
            out["cmap"] = self.cmap.currentText()
        if "print" in rows:
            out["size"] = float(self.print_size.value())
        if fmt.kind == "animation":
            kind = self.animation.currentData()
            out["animation"] = kind
            out["size"] = (self.width_px.value(), self.height_px.value())
            if kind == "turntable":
                out["frames"] = self.frames.value()
                out["elevation"] = float(self.elevation.value())
            if kind == "forming":
                out["snapshots"] = self.snapshots
                out["total_steps"] = self.total_steps
        return out
