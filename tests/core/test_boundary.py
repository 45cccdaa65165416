"""The core/GUI boundary: the core never imports the GUI, not even inside a function.

Two checks that see different things: an AST scan of every import statement in the core's
source (module level, inside functions, ``importlib.import_module("...")`` with a literal), and
a fresh interpreter that imports every core module and lists what got loaded. import-linter's
contracts in pyproject.toml state the same rule for CI (``lint-imports``).
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import losspattern_core

CORE = Path(losspattern_core.__file__).resolve().parent
FORBIDDEN = ("app", "PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "vispy")


def imported_names(source: str) -> list[tuple[int, str]]:
    """Every module an AST imports, wherever the statement stands, with its line number."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            out.append((node.lineno, node.args[0].value))
    return out


def forbidden_imports(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        for line, name in imported_names(path.read_text()):
            if name.split(".")[0] in FORBIDDEN:
                bad.append(f"{path.relative_to(root.parent)}:{line} imports {name}")
    return bad


def test_the_scan_sees_lazy_imports():
    src = "def f():\n    from app.render import x\n    import importlib\n" \
          "    importlib.import_module('vispy.scene')\n"
    assert [n for _, n in imported_names(src)] == ["app.render", "importlib", "vispy.scene"]


def test_core_source_never_imports_the_gui():
    assert forbidden_imports(CORE) == []


def test_importing_every_core_module_loads_no_gui_module():
    names = [m.name for m in pkgutil.walk_packages([str(CORE)], "losspattern_core.")]
    assert len(names) > 15
    code = (f"import importlib, sys\nfor n in {names!r}: importlib.import_module(n)\n"
            f"print([m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}])")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[]"
