"""The application starts in its own process, runs a tiny construction and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# ``python -m app`` with the ordinary-training comparison (ease) kept short, as the in-process
# GUI tests keep it (conftest.short_ordinary_training): a run's end waits for that comparison,
# which at its full length takes most of a tiny run's time
APP_WITH_SHORT_EASE = ("import runpy; from losspattern_core import training; "
                       "training.STEPS = 100; runpy.run_module('app', run_name='__main__', "
                       "alter_sys=True)")


def test_app_runs_and_quits(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", APP_WITH_SHORT_EASE, "--no-settings", "--steps", "60", "--grid",
         "16", "--width", "32", "--autostart", "--quit-when-done"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]


def test_bad_pattern_exits_nonzero(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--no-settings", "--pattern", str(tmp_path / "nope.png"),
         "--steps", "10", "--grid", "8", "--width", "16", "--autostart", "--quit-when-done"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 2 and "nope.png" in proc.stderr


def test_core_state_and_offscreen_import_no_qt():
    """One fresh Python (one torch start) checks, in turn: the app's state modules import no
    GUI package at all (not even vispy); the core and the offscreen renderer import no Qt.
    The state modules are imported first and checked alone, as in a process of their own; what
    the second imports add can only add modules, so its check is as strict as on its own."""
    code = ("import sys, app.state, app.runs, app.events, app.shown, app.captions, "
            "app.choice, app.records, app.session\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'shiboken6', 'pyqtgraph', 'vispy')]\n"
            "assert not bad, ('state', bad)\n"
            "import losspattern_core as lp, app.render, app.views.surface_scene, "
            "app.views.heatmap_scene\n"
            "lp.construct, lp.validate, lp.construction_metrics\n"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]\n"
            "assert not bad, ('offscreen', bad)")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
