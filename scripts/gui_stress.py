"""GUI stress (a script, not a test): Start/Cancel cycles, windows closed mid-run, runs in a row.

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python scripts/gui_stress.py \
        [--cycles 100] [--closes 20] [--runs 20]

Reports, per phase: QThreads still running and Python threads left after it, exceptions that
reached ``sys.excepthook`` or a message box, and the resident memory (VmRSS) before and after
(target: growth <= 50 MB over the runs in a row). Runs use tiny settings (the point is the
app's life cycle, not the construction) and a short ordinary-training comparison.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import threading
import time

TINY = dict(steps=60, grid=16, width=32)


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def wait(app, predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def new_window(app, errors: list):
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    path = tempfile.mktemp(suffix=".ini")
    win = MainWindow(QSettings(path, QSettings.IniFormat), restore=False)
    win.state.choose(**TINY)
    win.show()
    if not wait(app, lambda: win.state.ready, 60):
        errors.append("dataset never loaded")
    return win


def close(app, win) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    win.close()
    win.deleteLater()
    app.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)   # as the event loop would
    gc.collect()


def report(name: str, n: int, win_or_none, errors: list, rss0: float, t0: float) -> dict:
    live = win_or_none.controller.live_threads() if win_or_none is not None else 0
    row = {"phase": name, "count": n, "qthreads_running": live,
           "python_threads": threading.active_count() - 1, "exceptions": len(errors),
           "rss_start_mb": round(rss0, 1), "rss_end_mb": round(rss_mb(), 1),
           "seconds": round(time.monotonic() - t0, 1)}
    row["rss_growth_mb"] = round(row["rss_end_mb"] - row["rss_start_mb"], 1)
    print(row, flush=True)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=100)
    p.add_argument("--closes", type=int, default=20)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    import losspattern_core.training as training
    from app import messages

    training.STEPS = 100                       # a short ordinary-training comparison
    errors: list = []
    sys.excepthook = lambda *exc: errors.append(repr(exc[1]))
    messages.error = lambda parent, title, text: errors.append(f"{title}: {text}")
    messages.confirm = lambda parent, title, text: True
    app = QApplication.instance() or QApplication(sys.argv[:1])
    rows = []

    win, rss0, t0 = new_window(app, errors), rss_mb(), time.monotonic()
    for _ in range(args.cycles):               # Start, let it run a moment, Cancel
        win.start_run()
        wait(app, lambda: False, 0.05)
        win.cancel_run()
        wait(app, lambda: win.controller.live_threads() == 0, 10)
    rows.append(report("start/cancel cycles", args.cycles, win, errors, rss0, t0))

    rss0, t0 = rss_mb(), time.monotonic()
    for _ in range(args.runs):                 # whole runs, one after another
        done = []
        win.controller.finished.connect(done.append)
        win.start_run()
        if not wait(app, lambda done=done: bool(done), 120):
            errors.append("a run did not finish within 120 s")
        win.controller.finished.disconnect(done.append)
        wait(app, lambda: win.controller.live_threads() == 0, 10)
    rows.append(report("runs in a row", args.runs, win, errors, rss0, t0))
    close(app, win)

    rss0, t0 = rss_mb(), time.monotonic()
    left = 0
    for _ in range(args.closes):               # a window closed while its run is under way
        w = new_window(app, errors)
        w.start_run()
        wait(app, lambda: False, 0.2)
        controller = w.controller
        close(app, w)
        left += controller.live_threads()
    rows.append(report("closed mid-run", args.closes, None, errors, rss0, t0))
    rows[-1]["qthreads_running"] = left
    print(f"threads left after closes: {left}; exceptions: {errors[:5]}")
    ok = all(r["qthreads_running"] == 0 for r in rows) and not errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
