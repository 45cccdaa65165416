"""`losspattern render` draws a bundle to PNG with no window and no X display (EGL).

The three commands (construct, then render each view) run one after the other in ONE child
process with no display, each through the CLI's own entry point (``cli.main(argv)``, what
``python -m losspattern_core.cli`` calls): one Python + torch start instead of three. The
construction skips the ordinary-training comparison (``--no-baseline``): the renderer never
reads it.
"""

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

# each command's exit code and its stderr, as JSON on the last line of stdout
CHILD = r"""
import contextlib, io, json, sys
from losspattern_core.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(argv)
    out.append([rc, err.getvalue()])
print(json.dumps(out))
"""


def test_render_command_without_display(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    bundle = tmp_path / "b"
    views = ("3d", "heatmaps")
    commands = [["construct", "--pattern", "rings", "--steps", "60", "--width", "16", "--grid",
                 "16", "--batch", "256", "--no-baseline", "--out", str(bundle), "--quiet"]]
    commands += [["render", str(bundle), "--out", str(tmp_path / f"{view}.png"), "--view", view,
                  "--size", "640", "480"] for view in views]
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(commands)], env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == len(commands)
    for argv, (rc, err) in zip(commands, results, strict=True):
        assert rc == 0, (argv[0], err)
    for view in views:
        with Image.open(tmp_path / f"{view}.png") as im:
            assert im.size == (640, 480)
            arr = np.asarray(im.convert("L"), dtype=float)
        assert arr.std() > 5  # a drawn surface, not a blank canvas
