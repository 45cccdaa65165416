"""Benchmark (not a test): how responsive the GUI stays while a run streams frames.

1. Event-loop stalls: a 10 ms QTimer probe runs on the GUI thread during a real run with the
   heatmaps shown; each gap beyond its interval is time the thread did not process events.
   Reported: p50, p99 and the longest stall (target: p99 <= 100 ms).
2. 3-D rotation: the 3-D tab is shown and its camera turned by one degree per event-loop
   turn while the same run streams; reported: frames the canvas drew per second, counted by
   its draw event (target: >= 15 fps under software OpenGL), how many of them drew the
   surface, and GUI-thread CPU per frame. While the camera moves the view holds the run's new
   frames back (app/views/camera_idle.py); reported: whether data was held when the rotation
   stopped and whether it was applied after the camera rested (it must be).

--profile FILE runs cProfile on the GUI thread during both measurements and prints the
functions that took the most time there (the profiler slows the thread: stall and fps
numbers of a profiled run are not the benchmark's). The load average is printed with the
numbers: on a shared machine, stalls are mostly time the GUI thread waited for a core.

Run under Xvfb with software OpenGL, e.g.
    LIBGL_ALWAYS_SOFTWARE=1 QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \\
        .venv/bin/python scripts/gui_responsiveness.py --seconds 12
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
PROBE_MS = 10


def percentile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))] if v else float("nan")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=12, help="per measurement")
    p.add_argument("--steps", type=int, default=100_000, help="long enough to outlast both")
    p.add_argument("--grid", type=int, default=48)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--profile", default="", help="write a cProfile of the GUI thread here")
    args = p.parse_args()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("LIBGL_ALWAYS_SOFTWARE", "1")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    import losspattern_core as lp

    lp.configure_threads(reserve=1)
    app = QApplication([sys.argv[0]])
    from app import messages
    from app.main_window import MainWindow

    messages.confirm = lambda *a: True
    messages.error = lambda parent, title, text: print(f"{title}: {text}", file=sys.stderr)
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.IniFormat)
    win = MainWindow(settings, restore=False)
    win.state.choose(steps=args.steps, grid=args.grid, width=args.width)
    win.show()
    gaps: list[float] = []
    frames: list[float] = []
    last = {"t": None}
    result: dict = {}

    def probe() -> None:
        now = time.perf_counter()
        if last["t"] is not None:
            gaps.append(max(0.0, (now - last["t"]) * 1000 - PROBE_MS))
        last["t"] = now

    timer = QTimer()
    timer.setInterval(PROBE_MS)
    timer.timeout.connect(probe)
    view3d = win.surface3d
    with_surface: list[bool] = []   # whether each counted frame drew a surface

    def drawn(_event) -> None:
        frames.append(time.perf_counter())
        surface = view3d.scene.surface
        with_surface.append(surface is not None and surface.visible)

    view3d.scene.canvas.events.draw.connect(drawn)
    turner = QTimer()
    turner.setInterval(0)

    def turn() -> None:
        cam = view3d.scene.view.camera
        cam.azimuth = (cam.azimuth + 1) % 360
        view3d.scene.canvas.update()

    turner.timeout.connect(turn)

    def start() -> None:
        # the 3-D tab was drawn once before (its GL context, shaders and glyphs exist): a
        # person rotates a view they have seen; its first draw is not the frame rate
        win.tabs.setCurrentIndex(1)
        view3d._wait_first_draw(timeout_s=60)
        win.tabs.setCurrentIndex(0)
        win.start_run()
        QTimer.singleShot(2000, lambda: (timer.start(), profiler and profiler.enable(),
                                         QTimer.singleShot(int(args.seconds * 1000),
                                                           phase_two)))   # after first frames

    def phase_two() -> None:
        timer.stop()
        if profiler is not None:   # the profile holds the rotation alone from here
            import pstats

            profiler.disable()
            print("--- GUI thread while the heatmaps are shown ---")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
            profiler.clear()
            profiler.enable()
        result["stall_ms"] = {"p50": percentile(gaps, 50), "p99": percentile(gaps, 99),
                              "max": max(gaps, default=float("nan")), "samples": len(gaps)}
        win.tabs.setCurrentIndex(1)
        frames.clear()
        with_surface.clear()
        result["gui_cpu_s"] = time.thread_time()
        turner.start()
        QTimer.singleShot(int(args.seconds * 1000), finish)

    def finish() -> None:
        turner.stop()
        if profiler is not None:
            profiler.disable()
        n = len(frames)
        span = frames[-1] - frames[0] if n > 1 else float("nan")
        result["rotation_fps"] = (n - 1) / span if n > 1 else 0.0
        result["rotation_frames"] = n
        # GUI-thread CPU per drawn frame: vispy's Python side and the run's frames shown
        # elsewhere; llvmpipe rasterises in its own threads
        result["gui_cpu_ms_per_frame"] = (time.thread_time() - result.pop("gui_cpu_s")) \
            * 1000 / max(n, 1)
        result["frames_with_surface"] = f"{sum(with_surface)}/{len(with_surface)}"
        # the run's frames that arrived during the rotation were held (app/views/camera_idle)
        result["data_held_at_stop"] = view3d.holding_data
        QTimer.singleShot(1000, after_rest)

    def after_rest() -> None:
        # the camera rested: the newest data is applied (the picture that stops is current)
        result["data_held_after_rest"] = view3d.holding_data
        result["running_throughout"] = win.state.running
        result["step_reached"] = (win.state.progress.frame.step
                                  if win.state.progress.frame is not None else None)
        win.cancel_run()
        win.close()

    QTimer.singleShot(200, lambda: win.when_ready(start))
    QTimer.singleShot(int((4 * args.seconds + 120) * 1000), win.close)   # never hang
    app.exec()
    result["load_average"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    print(json.dumps(result, indent=1))
    if profiler is not None:
        import pstats

        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(30)
    ok = result.get("stall_ms", {}).get("p99", 1e9) <= 100 and result.get(
        "rotation_fps", 0) >= 15
    print("targets met" if ok else "targets NOT met (p99 <= 100 ms, >= 15 fps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
