"""Screenshot of the GUI after a real tiny run: ``python scripts/screenshot.py out.png``.

Run under Xvfb (xvfb-run sets DISPLAY), e.g.
    QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" \
        python scripts/screenshot.py shot.png
Options: --tab heatmaps|3d|curves, --steps N, --grid G, --width W, --pattern P, --size WxH
(default: the whole screen, e.g. -screen 0 1366x768x24 for a laptop's),
--theorem 1|2, --z 1|2|3, --rgb, --slice F (z = 3: where the slices cut, in [0, 1]).
Examples (the docs' screenshots):
    scripts/screenshot.py docs/screenshot.png
    scripts/screenshot.py docs/screenshot-theorem2.png --theorem 2 --steps 300
    scripts/screenshot.py docs/screenshot-z3.png --z 3 --pattern bumps --grid 24 --tab 3d
    scripts/screenshot.py docs/screenshot-rgb.png --rgb --pattern sunset
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tab", default="heatmaps", choices=("heatmaps", "3d", "curves"))
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--grid", type=int, default=48)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--pattern", default="mountains")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--size", default="screen",
                   help="WxH, or 'screen': the whole available screen (as maximised)")
    p.add_argument("--theorem", type=int, default=1, choices=(1, 2))
    p.add_argument("--z", type=int, default=2, choices=(1, 2, 3))
    p.add_argument("--rgb", action="store_true")
    p.add_argument("--slice", type=float, default=None)
    p.add_argument("--timeout", type=float, default=600, help="seconds before giving up")
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    from app import messages
    from app.main import apply_args, parse_args
    from app.main_window import MainWindow

    messages.confirm = lambda *a: True   # unattended: closing discards the run

    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    win = MainWindow(settings, restore=False)
    extra = ["--theorem", str(args.theorem), "--z", str(args.z)] + (["--rgb"] if args.rgb else [])
    apply_args(win, parse_args(["--pattern", args.pattern, "--dataset", args.dataset,
                                "--steps", str(args.steps), "--grid", str(args.grid),
                                "--width", str(args.width)] + extra))
    if args.size == "screen":
        win.setGeometry(win.screen().availableGeometry())
    else:
        w, h = (int(v) for v in args.size.split("x"))
        win.resize(w, h)
    win.show()
    win.tabs.setCurrentIndex({"heatmaps": 0, "3d": 1, "curves": 2}[args.tab])
    status = {"rc": 1}

    def shoot() -> None:
        if args.slice is not None:
            win.state.set_slice(frac=args.slice)
        win.heatmaps.flush()
        win.view3d().flush()
        app.processEvents()
        ok = win.grab().save(args.out)
        status["rc"] = 0 if ok else 1
        print(f"saved {args.out}" if ok else f"could not save {args.out}")
        win.close()

    win.controller.finished.connect(lambda _: QTimer.singleShot(600, shoot))
    win.controller.failed.connect(lambda m: (print("run failed:", m), win.close()))
    QTimer.singleShot(300, lambda: win.when_ready(win.start_run))
    QTimer.singleShot(int(args.timeout * 1000), win.close)  # never hang
    app.exec()
    return status["rc"]


if __name__ == "__main__":
    sys.exit(main())
