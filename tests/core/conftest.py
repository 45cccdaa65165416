"""With LOSSPATTERN_BLOCK_GUI=1 (CI's first test run) importing a GUI package fails here:
the core's tests must pass on a machine without Qt, pyqtgraph, vispy or the app."""

from __future__ import annotations

import importlib.abc
import os
import sys

BLOCKED = ("app", "PySide6", "shiboken6", "pyqtgraph", "vispy")


class _BlockGui(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED:
            raise ImportError(f"{fullname} is blocked: the core's tests run without the GUI")
        return None


if os.environ.get("LOSSPATTERN_BLOCK_GUI") == "1":
    for name in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
        del sys.modules[name]
    sys.meta_path.insert(0, _BlockGui())
