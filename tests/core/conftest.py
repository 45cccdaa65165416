"""With LOSSPATTERN_BLOCK_GUI=1 (CI's first test run) importing a GUI package fails here:
the core's tests must pass on a machine without Qt, pyqtgraph, vispy or the app."""

from __future__ import annotations

import importlib.abc
import os
import sys

import pytest

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


def _small_conv_theorem1(family: str, activation: str, steps: int):
    """A Theorem 1 construction on digits (8x8) in a small conv network of ``family``:
    (the resolved run, the construction)."""
    import dataclasses

    import losspattern_core as lp
    from losspattern_core.networks import NetworkSpec

    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", steps=steps, batch=64, grid=5,
                                snapshot_every=0)
    spec = NetworkSpec(64, 10, family=family, activation=activation, width=8, channels=(8, 16),
                       input_shape=(1, 8, 8), batchnorm=True)
    r = dataclasses.replace(lp.validate(cfg), network=spec)
    return r, lp.drive(lp.construct(r))


@pytest.fixture
def small_conv_theorem1():
    """``_small_conv_theorem1`` as a fixture: call it with (family, activation, steps)."""
    return _small_conv_theorem1
