"""Entry point: ``losspattern-gui`` / ``python -m app``.

``losspattern-gui DIR`` (or ``python -m app DIR``) opens a saved bundle folder or a
loss-landscape ``.h5`` file at start. Options exist for tests and screenshots: ``--pattern
--dataset --steps --grid --width --autostart --quit-when-done --no-settings``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="losspattern-gui", description="LossPattern desktop GUI")
    p.add_argument("bundle", nargs="?", metavar="DIR",
                   help="a bundle folder (or a loss-landscape .h5 file) to open at start")
    p.add_argument("--pattern", help="built-in name, function[:opts] or image path")
    p.add_argument("--dataset", help="dataset spec, e.g. digits")
    p.add_argument("--steps", type=int)
    p.add_argument("--grid", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--theorem", type=int, choices=(1, 2))
    p.add_argument("--z", type=int, choices=(1, 2, 3))
    p.add_argument("--rgb", action="store_true", help="three heads, one per colour channel")
    p.add_argument("--autostart", action="store_true", help="start a run at once")
    p.add_argument("--quit-when-done", action="store_true",
                   help="exit when the run ends (0 finished, 1 failed or cancelled)")
    p.add_argument("--no-settings", action="store_true",
                   help="neither read nor write the remembered settings")
    return p.parse_args(argv)


def apply_args(window, args: argparse.Namespace) -> None:
    """Write the command line's choices into the window's state (checked by ``check_args``)."""
    state = window.state
    if args.dataset:
        state.choose(dataset=args.dataset)
    mode = {k: getattr(args, k, None) for k in ("theorem", "z") if getattr(args, k, None)}
    if getattr(args, "rgb", False):
        mode.update(rgb=True, z=2)
    state.choose(**mode)  # first: the mode decides which patterns exist
    if args.pattern:
        window.pattern_panel.select(args.pattern)
    state.choose(**{k: getattr(args, k) for k in ("steps", "grid", "width") if getattr(args, k)})


def check_args(args: argparse.Namespace) -> str | None:
    """Refuse a bad --pattern/--dataset before any window opens (message for stderr)."""
    import losspattern_core as lp

    if getattr(args, "bundle", None) and not Path(args.bundle).expanduser().exists():
        return f"{args.bundle}: no such bundle folder or file"
    try:
        if args.dataset:
            lp.load_dataset(args.dataset)
        if args.pattern:
            lp.load_pattern(args.pattern, z=args.z or 2, rgb=args.rgb)
    except lp.LossPatternError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = check_args(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    import losspattern_core as lp

    lp.configure_threads(reserve=1)   # one core stays free for the GUI thread

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("LossPattern")
    app.setApplicationName("LossPattern")
    app.setDesktopFileName("losspattern")
    from . import messages
    from .main_window import MainWindow

    if args.quit_when_done:  # unattended: report on stderr instead of waiting on a dialog
        messages.error = lambda parent, title, text: print(f"{title}: {text}", file=sys.stderr)
        messages.confirm = lambda parent, title, text: True   # it was asked to quit

    settings = QSettings()
    if args.no_settings:
        import tempfile

        settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.IniFormat)
    window = MainWindow(settings, restore=not args.no_settings)
    apply_args(window, args)
    window.show()
    code = {"value": 0}
    if args.quit_when_done:
        def finish(value: int) -> None:
            code["value"] = value
            QTimer.singleShot(50, window.close)
        window.controller.finished.connect(lambda _: finish(0))
        window.controller.failed.connect(lambda _: finish(1))
        window.controller.cancelled.connect(lambda: finish(1))
    if args.bundle:
        from .opening import open_at_start

        open_at_start(window, args.bundle)
        if args.quit_when_done and not args.autostart:   # opened (0) or refused (1), then quit
            window.opening.opened.connect(lambda _: finish(0))
            window.opening.failed.connect(lambda *_: finish(1))
    if args.autostart:
        def autostart() -> None:
            if window.start_run() is None and args.quit_when_done:
                finish(1)
        QTimer.singleShot(0, lambda: window.when_ready(autostart))
    rc = app.exec()
    return code["value"] or rc


if __name__ == "__main__":
    sys.exit(main())
