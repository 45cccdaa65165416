"""Item 4: the window fits laptop screens; panels are dock widgets; a geometry saved on a big
screen is clamped on a small one; the heatmaps keep a readable size.

Each screen size starts the app in a child process under its own Xvfb (a screen's size
cannot change inside one X server); the child measures its cases (a fresh window, a window
restoring a big saved geometry) one after the other and prints them as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = r"""
import json, sys
from PySide6.QtCore import QSettings, QByteArray
from PySide6.QtWidgets import QApplication, QDockWidget
app = QApplication([])
from app import messages
messages.confirm = lambda *a: True
from app.main_window import MainWindow
import time
from app.settings import save_settings


def probe(ini, big):
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


# each case: "fresh" (no saved geometry) or "big"; each with its own settings file
print(json.dumps({case: probe(f"{sys.argv[1]}-{case}.ini", case == "big")
                  for case in sys.argv[2:]}), flush=True)
# measured and printed: skip the interpreter's teardown of torch and Qt (~2 s a child); a clean
# quit of the real app is test_launch's to check, not this probe's
import os
os._exit(0)
"""


def _probe(folder, size: str, *cases: str) -> dict:
    """{case: what the child measured} for each case ("fresh", "big") on a ``size`` screen;
    the cases run one after the other in one child (one Xvfb and one app start)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "OMP_NUM_THREADS": "1"}
    env.pop("DISPLAY", None)
    # each pytest-xdist worker looks for a free display from its own number up: two workers'
    # "xvfb-run -a" started at once from one number could both take it (the second fails)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    out = subprocess.run(
        ["xvfb-run", "-a", "-n", str(200 + 20 * worker), "-s", f"-screen 0 {size}x24",
         sys.executable, "-c", PROBE, str(folder / size), *cases],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def laptop(tmp_path_factory) -> dict:
    """The 1366x768 screen's fresh window and the window restoring a big saved geometry,
    measured in one child."""
    return _probe(tmp_path_factory.mktemp("layout"), "1366x768", "fresh", "big")


@pytest.mark.parametrize("size", ["1280x720", "1366x768", "1920x1080"])
def test_window_fits_the_screen(tmp_path, size, request):
    r = (request.getfixturevalue("laptop") if size == "1366x768"
         else _probe(tmp_path, size, "fresh"))["fresh"]
    aw, ah = r["avail"]
    x, y, w, h = r["win"]
    assert x >= 0 and y >= 0 and x + w <= aw and y + h <= ah, r
    assert {"Pattern", "Dataset", "Network and run", "Run", "Measured"} <= set(r["docks"])
    assert r["movable"] and r["run_visible"]
    assert r["views"][0] >= 600 and r["views"][1] >= 330, r   # the views get the room
    assert min(r["heatmap"]) >= 120, r   # readable heatmaps (the issue saw ~70 px)


def test_big_saved_geometry_is_clamped(laptop):
    r = laptop["big"]
    aw, ah = r["avail"]
    x, y, w, h = r["win"]
    assert w <= aw and h <= ah and x + w <= aw and y + h <= ah, r
