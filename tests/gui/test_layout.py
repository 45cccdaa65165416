"""Item 4: the window fits laptop screens; panels are dock widgets; a geometry saved on a big
screen is clamped on a small one; the heatmaps keep a readable size.

Each screen size needs an X server of its own (a screen's size cannot change inside one X
server, and a Qt application stays on the display it started on). One child process imports
the app and loads the window's dataset once, with no display, then for each screen size starts
an Xvfb of that size and forks: the fork opens its QApplication on that display, measures its
cases (a fresh window, a window restoring a big saved geometry) one after the other and hands
them back as JSON. Every screen's window is still made and measured by a Qt application of its
own on its own X server; the forks only skip a fresh Python's imports (~5 s a screen).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = r"""
import json, os, subprocess, sys, time, traceback
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDockWidget
import losspattern_core as lp
from app import messages
from app.main_window import MainWindow
from app.settings import save_settings
messages.confirm = lambda *a: True
lp.load_dataset("digits")   # the window's dataset, loaded once before the forks (cached)


def probe(app, ini, big):
    if big:   # a geometry saved on a 2560x1440 screen
        w0 = MainWindow(QSettings(ini, QSettings.IniFormat), restore=False)
        w0.setGeometry(0, 0, 2500, 1400)
        save_settings(w0, QSettings(ini, QSettings.IniFormat))
        w0.close()
    w = MainWindow(QSettings(ini, QSettings.IniFormat), restore=big)
    w.show()
    t0 = time.monotonic()
    while not w.state.ready and time.monotonic() - t0 < 120:   # the target preview needs it
        app.processEvents()
        time.sleep(0.01)
    for _ in range(30):
        app.processEvents()
    avail = w.screen().availableGeometry()
    g = w.frameGeometry()
    hm = w.heatmaps
    hm.flush()
    app.processEvents()
    vb = [hm.images["target"].sceneBoundingRect()]   # the drawn preview of the target
    out = {"avail": [avail.width(), avail.height()],
        "win": [g.x(), g.y(), g.width(), g.height()],
        "docks": sorted(d.windowTitle() for d in w.findChildren(QDockWidget)),
        "movable": all(bool(d.features() & QDockWidget.DockWidgetFloatable)
                       for d in w.findChildren(QDockWidget)),
        "views": [w.tabs.width(), w.tabs.height()],
        "heatmap": [min((r.width() for r in vb), default=0), min((r.height() for r in vb),
                   default=0)],
        "run_visible": w.run_panel.start.visibleRegion().isEmpty() is False}
    w.close()
    return out


def on_screen(size, cases, folder):
    # an X server of this size: it prints its display number once it accepts clients
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", f"{size}x24",
                               "-nolisten", "tcp"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        display = server.stdout.readline().decode().strip()
        assert display.isdigit(), f"Xvfb did not start for {size}"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:   # the fork: its own QApplication on its own display
            code = 1
            try:
                os.close(read)
                os.environ["DISPLAY"] = f":{display}"
                app = QApplication([])
                # each case with its own settings file
                out = {case: probe(app, f"{folder}/{size}-{case}.ini", case == "big")
                       for case in cases}
                os.write(write, json.dumps(out).encode())
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:   # skip the teardown of torch and Qt (a clean quit is test_launch's)
                sys.stderr.flush()
                os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, f"the probe on {size} failed"
        return json.loads(data)
    finally:
        server.terminate()
        server.wait(10)


# argv: folder, then {size: [cases]} as JSON; prints {size: {case: measured}}
print(json.dumps({size: on_screen(size, cases, sys.argv[1])
                  for size, cases in json.loads(sys.argv[2]).items()}), flush=True)
os._exit(0)
"""
# each screen and the cases measured on it: "fresh" (no saved geometry) or "big"
SCREENS = {"1280x720": ["fresh"], "1366x768": ["fresh", "big"], "1920x1080": ["fresh"]}


def test_window_fits_each_screen_and_a_big_saved_geometry_is_clamped(tmp_path):
    """Every screen in SCREENS and the big saved geometry, checked from ONE child (one test:
    as separate tests pytest-xdist would spread them over workers and each worker would start
    a child of its own)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "OMP_NUM_THREADS": "1"}
    env.pop("DISPLAY", None)   # the child imports with no display; each fork gets its own
    out = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), json.dumps(SCREENS)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    screens = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(screens) == sorted(SCREENS)
    for size in SCREENS:
        window_fits_the_screen(size, screens[size]["fresh"])
    big_saved_geometry_is_clamped(screens["1366x768"]["big"])


def window_fits_the_screen(size: str, r: dict) -> None:
    aw, ah = r["avail"]
    x, y, w, h = r["win"]
    assert [aw, ah] == [int(n) for n in size.split("x")], (size, r)   # on its own screen
    assert x >= 0 and y >= 0 and x + w <= aw and y + h <= ah, (size, r)
    assert {"Pattern", "Dataset", "Network and run", "Run", "Measured"} <= set(r["docks"]), size
    assert r["movable"] and r["run_visible"], (size, r)
    assert r["views"][0] >= 600 and r["views"][1] >= 330, (size, r)   # the views get the room
    assert min(r["heatmap"]) >= 120, (size, r)   # readable heatmaps (the issue saw ~70 px)


def big_saved_geometry_is_clamped(r: dict) -> None:
    aw, ah = r["avail"]
    x, y, w, h = r["win"]
    assert w <= aw and h <= ah and x + w <= aw and y + h <= ah, r
