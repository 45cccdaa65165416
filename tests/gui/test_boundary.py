"""The app reaches the core only through its public facade (``import losspattern_core as
lp``), and the app's model (state, what is shown, captions) imports no GUI package."""

from __future__ import annotations

import ast
from pathlib import Path

# not app.__file__: under pytest, "app" can name this test package (tests/app)
APP = Path(__file__).resolve().parents[2] / "app"
QT_FREE = ("state.py", "events.py", "runs.py", "shown.py", "captions.py", "choice.py",
           "records.py", "session.py", "resources.py", "views/arrays.py")
GUI = ("PySide6", "shiboken6", "pyqtgraph", "vispy")


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, wherever the statement stands (inside functions too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def test_the_app_uses_only_the_cores_facade():
    bad = [f"{p.relative_to(APP)}:{line} imports {name}"
           for p in sorted(APP.rglob("*.py")) for line, name in imports(p)
           if name.startswith("losspattern_core.")]
    assert bad == []


def test_the_model_modules_import_no_gui():
    bad = [f"{name}:{line} imports {module}" for name in QT_FREE
           for line, module in imports(APP / name) if module.split(".")[0] in GUI]
    assert bad == []
