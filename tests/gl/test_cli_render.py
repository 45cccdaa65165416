"""`losspattern render` draws a bundle to PNG with no window and no X display (EGL)."""

import os
import subprocess
import sys

import numpy as np
from PIL import Image


def test_render_command_without_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    bundle = tmp_path / "b"
    run = lambda *a: subprocess.run([sys.executable, "-m", "losspattern_core.cli", *a], env=env,
                                    capture_output=True, text=True, timeout=240)
    res = run("construct", "--pattern", "rings", "--steps", "60", "--width", "16", "--grid",
              "16", "--batch", "256", "--out", str(bundle), "--quiet")
    assert res.returncode == 0, res.stderr
    for view in ("3d", "heatmaps"):
        png = tmp_path / f"{view}.png"
        res = run("render", str(bundle), "--out", str(png), "--view", view, "--size", "640", "480")
        assert res.returncode == 0, res.stderr
        with Image.open(png) as im:
            assert im.size == (640, 480)
            arr = np.asarray(im.convert("L"), dtype=float)
        assert arr.std() > 5  # a drawn surface, not a blank canvas
