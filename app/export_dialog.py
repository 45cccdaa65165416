"""File → Export…: one dialog for every format the core offers for the finished run
(``lp.formats_for``) and the app's own (PNG of a view, .npy/.csv, the bundle), with the
options of the chosen format, the output path, a progress bar and Cancel.

The export runs on a worker thread (``export_worker``); the core writes through a temporary
file renamed into place, so a cancelled or failed export leaves nothing. ``PngExportDialog``
is the small PNG-only dialog of Export → PNG of a view.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import losspattern_core as lp

from . import file_dialogs, messages
from .export_options import ExportOptions
from .export_worker import ExportRunner
from .exporting import APP_ENTRIES, ExportError, app_job, core_job, run_surfaces

ROLE_KEY = Qt.UserRole


class PngExportDialog(QDialog):
    """Which view to export as PNG, and at what resolution."""

    def __init__(self, views: list[str], current: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export PNG")
        self.view = QComboBox()
        self.view.addItems(views)
        if current in views:
            self.view.setCurrentText(current)
        self.width_px, self.height_px = QSpinBox(), QSpinBox()
        for s, v in ((self.width_px, 1600), (self.height_px, 1200)):
            s.setRange(64, 8192)
            s.setSingleStep(100)
            s.setValue(v)
        size = QWidget()
        row = QHBoxLayout(size)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.width_px)
        row.addWidget(QLabel("×"))
        row.addWidget(self.height_px)
        row.addWidget(QLabel("pixels"))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("view", self.view)
        form.addRow("size", size)
        form.addRow(QLabel("The 3-D view is rendered again at this size, not grabbed "
                           "from the screen."))
        form.addRow(buttons)

    def choice(self) -> tuple[str, tuple[int, int]]:
        return self.view.currentText(), (self.width_px.value(), self.height_px.value())


class ExportDialog(QDialog):
    """Export the finished ``run`` (a ``records.Run``) of ``window``; ``snapshots`` are the
    run's recorded (step, train surface, dB) for the forming animation."""

    def __init__(self, window, run, snapshots=(), views: list[str] = (), parent=None):
        super().__init__(parent or window)
        self.setWindowTitle(f"Export run {run.run_id}")
        self.window_, self.run = window, run
        self.data = run_surfaces(run, getattr(window.state, 'opened', {}).get(run.run_id))
        self.formats = {f.name: f for f in lp.formats_for(self.data)}
        self.runner = ExportRunner(self)
        self.format = QComboBox()
        for f in self.formats.values():
            self.format.addItem(f.label, f.name)
        for key, (label, _) in APP_ENTRIES.items():
            if key != "png" or views:
                self.format.addItem(label, key)
        self.options = ExportOptions(self.data, list(snapshots), views, run.config.steps)
        self.path = QLineEdit()
        self.path.setMinimumWidth(420)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel(self._label_text())
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.close_button.clicked.connect(self.close)
        self._layout()
        self.format.currentIndexChanged.connect(self._format_changed)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.running_changed.connect(self._running)
        self._running(False)
        self._format_changed()
        # closing the main window (or quitting) cancels a running export and joins its thread
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.runner.wait)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Close and watched is self.window_:
            self.runner.wait()
        return False

    def _layout(self) -> None:
        top = QFormLayout()
        top.addRow("format", self.format)
        path_row = QWidget()
        pr = QHBoxLayout(path_row)
        pr.setContentsMargins(0, 0, 0, 0)
        pr.addWidget(self.path, 1)
        pr.addWidget(self.browse)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.options)
        form = QFormLayout()
        form.addRow("save to", path_row)
        lay.addLayout(form)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addLayout(buttons)

    def _label_text(self) -> str:
        info = self.data.info
        return (f"{info.get('title', '')} · grid {'×'.join(map(str, self.data.shape))} · the "
                f"file is labelled with what it is (method, pattern, dataset, loss range).")

    # --- what is chosen ------------------------------------------------------------------------
    def key(self) -> str:
        """The chosen entry: a core format name, or "png" / "npy-csv" / "bundle"."""
        return self.format.currentData(ROLE_KEY)

    def offered_core_formats(self) -> list[str]:
        keys = [self.format.itemData(i, ROLE_KEY) for i in range(self.format.count())]
        return [k for k in keys if k not in APP_ENTRIES]

    def select(self, key: str) -> None:
        self.format.setCurrentIndex(self.format.findData(key, ROLE_KEY))

    def _suffix(self) -> str:
        key = self.key()
        return APP_ENTRIES[key][1] if key in APP_ENTRIES else self.formats[key].suffix

    def _default_path(self) -> str:
        cfg = self.run.config
        what = self.options.what(self.key())
        name = (f"{Path(cfg.pattern).stem}-{cfg.dataset.split(':')[0]}-{what}-"
                f"{datetime.now():%Y%m%d-%H%M%S}{self._suffix()}")
        return os.path.join(file_dialogs.last_folder(self.window_), name)

    def _format_changed(self) -> None:
        key = self.key()
        self.options.show_for(key, self.formats.get(key))
        current = self.path.text().strip()
        if not current or current == getattr(self, "_proposed", None):   # not edited: a name
            self._proposed = self._default_path()                       # for this format
            self.path.setText(self._proposed)
        else:   # keep the folder and the name, change the suffix
            stem = Path(current)
            for s in [f.suffix for f in self.formats.values()] + [".png"]:
                if stem.suffix.lower() == s:
                    stem = stem.with_suffix("")
            self.path.setText(str(stem) + self._suffix())
        self.adjustSize()

    def _browse(self) -> None:
        suffix = self._suffix()
        if suffix:
            path = file_dialogs.save_file(self, "Export to", Path(self.path.text()).name,
                                          f"{self.format.currentText()} (*{suffix})")
        else:
            path = file_dialogs.folder(self, "Folder that will hold the export")
            if path:
                path = os.path.join(path, Path(self.path.text()).name)
        if path:
            self.path.setText(path if not suffix or path.endswith(suffix) else path + suffix)

    # --- running -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start the chosen export (False: refused, with a message)."""
        if self.runner.running:
            return False
        key, out = self.key(), self.path.text().strip()
        if not out:
            messages.error(self, "Export", "choose where to save the export")
            return False
        out = str(Path(out).expanduser())
        overwrite = False
        if Path(out).exists():
            if not messages.confirm(self, "Replace?", f"{out} exists. Replace it?"):
                return False
            overwrite = True
        file_dialogs.remember(self.window_, str(Path(out).parent))
        self.status.setText(f"exporting {Path(out).name}…")
        if key == "png":
            return self._png(out)
        if key in APP_ENTRIES:
            job = app_job(key, out, self.run, overwrite)
        else:
            try:
                job = core_job(self.data, key, out, self.options.values(key), overwrite)
            except lp.LossPatternError as exc:
                self._failed(str(exc))
                return False
        self.progress.setRange(0, 0)
        return self.runner.start(job)

    def _png(self, out: str) -> bool:
        """A view's picture is drawn by the GUI thread (Qt scenes, the 3-D canvas): quick."""
        from .actions import export_view_png

        view, size = self.options.png_choice()
        try:
            path = export_view_png(self.window_, view, out, size)
        except ExportError as exc:
            self._failed(str(exc))
            return False
        except (OSError, RuntimeError, ValueError) as exc:
            self._failed(f"could not write {out}: {exc}")
            return False
        self._finished(str(path))
        return True

    def _running(self, running: bool) -> None:
        for w in (self.export_button, self.format, self.options, self.path, self.browse,
                  self.close_button):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, max(1, total)))

    def _finished(self, path: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.status.setText(f"saved {path}")
        if self.key() in ("npy-csv", "bundle"):
            self.window_.state.runs.mark_saved(self.run.run_id)
        bar = getattr(self.window_, "statusBar", None)
        if bar is not None:
            bar().showMessage(f"saved {path}", 8000)

    def _failed(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"export failed: {message}")
        messages.error(self, "Export failed", message)

    def _cancelled(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText("export cancelled: nothing was written")

    def closeEvent(self, event) -> None:
        self.runner.wait()   # a running export is cancelled (it leaves nothing)
        super().closeEvent(event)

    def reject(self) -> None:   # Esc: stop a running export first
        if self.runner.running:
            self.runner.cancel()
            return
        self.runner.wait()
        super().reject()


def export_interactive(window) -> ExportDialog | None:
    """File → Export…: the dialog for the finished run (non-modal, one at a time)."""
    from .actions import _need_result, png_views

    if not _need_result(window):
        return None
    old = getattr(window, "export_dialog", None)
    if old is not None and old.isVisible():
        old.raise_()
        old.activateWindow()
        return old
    run = window.result
    recorder = getattr(window, "recording", None)
    snapshots = recorder.snapshots_for(run) if recorder is not None else []
    try:
        dlg = ExportDialog(window, run, snapshots, png_views(run.config.z))
    except lp.LossPatternError as exc:
        messages.error(window, "Nothing to export", str(exc))
        return None
    dlg.setAttribute(Qt.WA_DeleteOnClose)
    window.export_dialog = dlg
    dlg.destroyed.connect(lambda *_: setattr(window, "export_dialog", None))
    dlg.show()
    return dlg
