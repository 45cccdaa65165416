"""app.render renders a bundle with EGL, without Qt and without an X server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    import losspattern_core as lp

    r = lp.validate(lp.ConstructionConfig(steps=60, grid=16, width=32, snapshot_every=0))
    con = lp.drive(lp.construct(r))
    m = lp.measure_surfaces(con)
    out = tmp_path_factory.mktemp("b") / "bundle"
    return lp.save_bundle(out, con, m, lp.construction_metrics(con, m, checks=False))


def test_render_bundle_in_a_qt_free_process(bundle, tmp_path):
    code = (
        "import sys\n"
        "from app.render import render_bundle\n"
        f"render_bundle({str(bundle)!r}, {str(tmp_path / '3d.png')!r}, '3d', (400, 300))\n"
        f"render_bundle({str(bundle)!r}, {str(tmp_path / 'hm.png')!r}, 'heatmaps', (500, 450))\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]\n"
        "assert not bad, bad\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    env.update(EGL_PLATFORM="surfaceless", PYOPENGL_PLATFORM="egl")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name, size in (("3d.png", (400, 300)), ("hm.png", (500, 450))):
        with Image.open(tmp_path / name) as im:
            assert im.size == size
            arr = np.asarray(im.convert("RGB"), dtype=float)
        assert arr.std() > 10, f"{name} is blank"
