"""How long Cancel takes to leave no worker thread, and how soon the first frame arrives.

    xvfb-run -a .venv/bin/python scripts/measure_cancel.py [repeats]

Each repeat starts a default construction, lets it run a little longer than the last, cancels,
and reports the first frame's latency and the time until no worker thread is alive.
"""

import sys
import time

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

import losspattern_core as lp
from app.controller import RunController


def spin(app, cond, timeout: float) -> None:
    t0 = time.perf_counter()
    while not cond() and time.perf_counter() - t0 < timeout:
        app.processEvents(QEventLoop.AllEvents, 5)
        time.sleep(0.001)


def main(repeats: int) -> None:
    app = QApplication(sys.argv[:1])
    c = RunController()
    frames = []
    c.progress.connect(frames.append)
    for rep in range(repeats):
        frames.clear()
        t0 = time.perf_counter()
        c.start(lp.ConstructionConfig())
        spin(app, lambda: len(frames) > 0, 60)
        first = time.perf_counter() - t0
        spin(app, lambda: False, 0.5 + 0.3 * rep)
        t1 = time.perf_counter()
        c.cancel()
        spin(app, lambda: c.live_threads() == 0, 5)
        print(f"first frame {first:.3f} s; cancel -> no live thread "
              f"{time.perf_counter() - t1:.3f} s; live threads {c.live_threads()}")
    c.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
