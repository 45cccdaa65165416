"""Menus, toolbar, shortcuts and the export actions of the main window."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle

import losspattern_core as lp

from . import file_dialogs, messages
from .about import show_about
from .export_dialog import PngExportDialog
from .exporting import (
    ExportError,
    export_bundle,
    export_surfaces,
    render_graphics,
    save_qimage,
    save_rgba,
)

VIEW_HEATMAPS, VIEW_3D, VIEW_CURVES, VIEW_RUN = ("heatmaps", "3-D surface", "curves (z = 1)",
                                                  "regression-loss curve")


def export_view_png(window, view: str, path: str | Path, size: tuple[int, int]) -> Path:
    """Write one view as a PNG of ``size`` (W, H); the 3-D view is rendered offscreen."""
    if view == VIEW_3D:
        return save_rgba(path, window.view3d().render(size))
    widget = {VIEW_HEATMAPS: window.heatmaps.widget_for_export(),
              VIEW_CURVES: window.curves.widget_for_export(),
              VIEW_RUN: window.run_panel.plot}[view]
    return save_qimage(path, render_graphics(widget, size))


def _need_result(window) -> bool:
    if window.result is None or not window.result.finished:
        messages.error(window, "Nothing to export yet",
                       "Run a construction first: surfaces and bundles come from a finished run.")
        return False
    return True


def _default_name(window, what: str, cfg=None) -> str:
    """A file name from the settings: the finished run's for its surfaces and bundle, the
    chosen ones for a picture of a view."""
    cfg = cfg or window.state.choice.config()
    return f"{Path(cfg.pattern).stem}-{cfg.dataset.split(':')[0]}-{what}-" \
           f"{datetime.now():%Y%m%d-%H%M%S}"


def png_views(z: int) -> list[str]:
    """The views that show something for ``z`` (z = 1: curves; else heatmaps and 3-D)."""
    return ([VIEW_CURVES] if z == 1 else [VIEW_HEATMAPS, VIEW_3D]) + [VIEW_RUN]


def export_png_interactive(window) -> None:
    current = {0: VIEW_HEATMAPS, 1: VIEW_3D, 2: VIEW_CURVES}.get(window.tabs.currentIndex())
    views = png_views(window.state.shown.z)
    dlg = PngExportDialog(views, current, window)
    if not dlg.exec():
        return
    view, size = dlg.choice()
    path = file_dialogs.save_file(window, "Save PNG", _default_name(window, view.split()[0])
                                  + ".png", "PNG image (*.png)")
    if not path:
        return
    if not path.lower().endswith(".png"):
        path += ".png"
    try:
        out = export_view_png(window, view, path, size)
    except ExportError as exc:
        messages.error(window, "Export failed", str(exc))
        return
    except (OSError, RuntimeError, ValueError) as exc:   # e.g. the renderer: still a message
        messages.error(window, "Export failed", f"could not write {path}: {exc}")
        return
    window.statusBar().showMessage(f"saved {out}", 5000)


def export_surfaces_interactive(window) -> None:
    if not _need_result(window):
        return
    folder = file_dialogs.folder(
        window, f"Folder for run {window.result.run_id}'s target.npy, surface_*.npy and "
        f"surfaces.csv")
    if not folder:
        return
    try:
        files = export_surfaces(folder, window.result)
    except ExportError as exc:
        messages.error(window, "Export failed", str(exc))
        return
    window.state.runs.mark_saved(window.result.run_id)
    window.statusBar().showMessage(f"saved run {window.result.run_id}'s surfaces ({len(files)} "
                                   f"files) to {folder}", 5000)


def export_bundle_interactive(window) -> None:
    if not _need_result(window):
        return
    chosen = file_dialogs.folder(
        window, "Folder for the construction bundle: an empty folder takes it, an existing "
        "bundle is replaced (after asking), any other folder gets a new bundle folder inside")
    if not chosen:
        return
    path, overwrite = bundle_destination(Path(chosen), _default_name(window, "bundle",
                                                                     window.result.config))
    if overwrite and any(path.iterdir()) and not messages.confirm(
            window, "Replace?", f"{path} holds a bundle. Replace it?"):
        return
    try:
        out = export_bundle(path, window.result, overwrite=overwrite)   # MPO runs too
    except (ExportError, lp.LossPatternError, OSError) as exc:
        messages.error(window, "Export failed", str(exc))
        return
    window.state.runs.mark_saved(window.result.run_id)
    window.statusBar().showMessage(f"bundle saved to {out} (check it: losspattern verify "
                                   f"{out})", 8000)


def bundle_destination(chosen: Path, name: str) -> tuple[Path, bool]:
    """Where a bundle goes for a chosen folder, and whether that folder is replaced: an empty
    folder or an existing bundle (it has construction.json) is the bundle; any other folder gets a
    new one inside it, named ``name``."""
    if chosen.is_dir() and (not any(chosen.iterdir()) or (chosen / "construction.json").exists()):
        return chosen, True
    return chosen / name, False


def _export_dialog(window) -> None:
    from .export_dialog import export_interactive  # imports the dialog on first use

    export_interactive(window)


def _edit_menu(window, menu) -> None:
    """Edit → Paste pattern (Ctrl+V inside the pattern panel; not application-wide, so text
    fields keep their paste), Draw pattern…, Text pattern…"""
    from .panels.drawn_patterns import paste_pattern
    from .panels.pattern_makers import open_sketch_pad, open_text_pattern

    panel = window.pattern_panel
    for text, slot in (("&Paste pattern\tCtrl+V in the pattern panel", paste_pattern),
                       ("&Draw pattern…", open_sketch_pad), ("&Text pattern…", open_text_pattern)):
        action = menu.addAction(text)
        action.triggered.connect(lambda _=False, slot=slot: slot(panel))


def install_actions(window) -> dict[str, QAction]:
    style = window.style()

    def act(name, text, shortcut=None, slot=None, icon=None, tip=""):
        a = QAction(text, window)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            a.setIcon(style.standardIcon(icon))
        a.setShortcutContext(Qt.ApplicationShortcut)   # also from docked or floating panels
        a.setToolTip(tip or text)
        a.setStatusTip(tip or text)
        if slot:
            a.triggered.connect(slot)
        window.addAction(a)
        return name, a

    acts = dict([
        act("open", "&Open image…", "Ctrl+O", window.pattern_panel.open_dialog,
            QStyle.SP_DialogOpenButton, "Open an image as the pattern (or drop one on the window)"),
        act("start", "&Start", "Ctrl+R", window.start_run, QStyle.SP_MediaPlay,
            "Start the construction (Ctrl+R)"),
        act("cancel", "&Cancel", "Esc", window.cancel_run, QStyle.SP_MediaStop,
            "Cancel the run (Esc)"),
        act("png", "&PNG of a view…", "Ctrl+Shift+E", lambda: export_png_interactive(window),
            QStyle.SP_DesktopIcon, "Save a view as PNG at a chosen size"),
        act("surfaces", "S&urfaces (.npy, .csv)…", None,
            lambda: export_surfaces_interactive(window), QStyle.SP_FileDialogListView,
            "Save target and measured surfaces as .npy and .csv"),
        act("bundle", "Construction &bundle…", "Ctrl+E", lambda: export_bundle_interactive(window),
            QStyle.SP_DialogSaveButton, "Save the construction bundle (weights, split, surfaces) "
            "that anyone can verify with plain PyTorch (Ctrl+E)"),
        act("export", "&Export…", "Ctrl+Shift+S", lambda: _export_dialog(window),
            QStyle.SP_DialogSaveButton, "Export the finished run in any format: h5, ParaView, "
            "meshes, MP4/GIF animations, SVG/PDF, PNG, .npy/.csv, bundle (Ctrl+Shift+S)"),
        act("quit", "&Quit", "Ctrl+Q", window.close),
        act("help", "&About LossPattern…", "F1", lambda: show_about(window)),
    ])
    state = window.state

    def enable() -> None:   # Start and Cancel follow the state, like the run panel's buttons
        acts["start"].setEnabled(state.start_problem() is None)
        acts["cancel"].setEnabled(state.running)

    for event in (state.events.choice, state.events.run):
        event.connect(enable)
    enable()
    _menus_and_toolbar(window, acts)
    return acts


def _menus_and_toolbar(window, acts: dict[str, QAction]) -> None:
    """The File / Run / Export menus and the toolbar, from the actions."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(acts["open"])
    file_menu.addAction(acts["export"])
    file_menu.addSeparator()
    file_menu.addAction(acts["quit"])
    _edit_menu(window, bar.addMenu("&Edit"))
    run_menu = bar.addMenu("&Run")
    run_menu.addAction(acts["start"])
    run_menu.addAction(acts["cancel"])
    export_menu = bar.addMenu("&Export")
    export_menu.addAction(acts["export"])
    export_menu.addSeparator()
    for key in ("bundle", "surfaces", "png"):
        export_menu.addAction(acts[key])
    window.view_menu = bar.addMenu("&View")   # the main window adds its panels' toggles
    bar.addMenu("&Help").addAction(acts["help"])
    tb = window.addToolBar("Main")
    tb.setObjectName("main-toolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    for key in ("open", "start", "cancel"):
        tb.addAction(acts[key])
    tb.addSeparator()
    for key in ("bundle", "surfaces", "png"):
        tb.addAction(acts[key])
