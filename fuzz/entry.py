"""Library entry points the harness calls in a child (cheaper than a whole ``construct``):
each loads an input through LossPattern's loader and prints "ok" only if what was accepted
is sound, else "bad: <why>" (the oracle ``printed-ok`` reads it)."""

from __future__ import annotations

import numpy as np


def pattern(path: str, z: str = "2", rgb: str = "") -> None:
    """Load a pattern file and evaluate it on a grid: finite values in [0, 1]."""
    from losspattern_core.data.patterns import load_pattern

    pat = load_pattern(path, z=int(z), rgb=bool(rgb))
    grid = pat.grid(7)
    want = ((3,) if rgb else ()) + (7,) * int(z)
    if grid.shape != want or not np.isfinite(grid).all() or grid.min() < 0 or grid.max() > 1:
        print(f"bad: grid {grid.shape} (want {want}), range {grid.min()}..{grid.max()}")
    else:
        print("ok")


def dataset(spec: str) -> None:
    """Load a dataset: finite float32 X, int64 labels in range, disjoint non-empty splits."""
    from losspattern_core.data.datasets import load_dataset

    ds = load_dataset(spec)
    problems = []
    if ds.X.dtype != np.float32 or not np.isfinite(ds.X).all() or ds.X.ndim != 2:
        problems.append(f"X {ds.X.dtype} {ds.X.shape} not finite float32 (N, d)")
    if ds.y.dtype != np.int64 or ds.y.min() < 0 or ds.y.max() >= ds.classes:
        problems.append("labels out of range")
    tr, te = ds.train_idx, ds.test_idx
    if not len(tr) or not len(te) or np.intersect1d(tr, te).size or max(tr.max(), te.max()) \
            >= len(ds.y):
        problems.append("splits empty, overlapping or out of range")
    print("bad: " + "; ".join(problems) if problems else "ok")
