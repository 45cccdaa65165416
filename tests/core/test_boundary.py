"""The core never imports Qt or the GUI libraries."""

import subprocess
import sys


def test_core_imports_no_gui_modules():
    code = ("import sys, losspattern_core.cli, losspattern_core.construct.theorem1, "
            "losspattern_core.io.bundle, losspattern_core.measure.verify, losspattern_core.io.figure, "
            "losspattern_core.measure.metrics; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'vispy', 'app')]; print(bad)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
