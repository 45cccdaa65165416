"""One chunk of grid points evaluated the way a Ray worker does it: Ray-free, so it runs (and
is tested) in any process.

A worker receives only a bundle folder's path, the split names and a plain (P, z) array of
points. It loads the bundle through the core's validated loader (``io.bundle.load_bundle``:
JSON, safetensors and numeric .npy only, every checksum checked; nothing is unpickled) and the
data itself, by the dataset name the bundle records, then runs the exact evaluator
(``surface.evaluate_points``, or ``surface.point_statistics`` for loss and accuracy together)
on the chunk. The loaded bundle, data and the evaluator's
per-split preparation are cached per worker process, keyed by the folder and the SHA-256 of its
construction.json, so a worker that evaluates many chunks loads them once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

# Test-only hook: when this variable names an existing file, the first chunk that sees the
# file removes it and fails as the file says ("raise": an exception; "exit": the worker process
# dies), so a test can check that a failed or lost chunk is evaluated again. Unset in normal use.
FAIL_ONCE_ENV = "LOSSPATTERN_RAY_FAIL_ONCE"

_CACHE: dict[tuple[str, str], dict] = {}


class InjectedFailure(RuntimeError):
    """The test hook's failure (never raised unless ``FAIL_ONCE_ENV`` is set)."""


def _maybe_fail_once() -> None:
    flag = os.environ.get(FAIL_ONCE_ENV)
    if not flag:
        return
    try:
        mode = Path(flag).read_text().strip()
        os.remove(flag)          # exactly one chunk wins the removal
    except OSError:
        return
    if mode == "exit":
        os._exit(1)
    raise InjectedFailure(f"injected failure ({FAIL_ONCE_ENV}={flag})")


def _key(bundle_dir: str) -> tuple[str, str]:
    path = Path(bundle_dir).resolve()
    try:
        digest = hashlib.sha256((path / "construction.json").read_bytes()).hexdigest()
    except OSError:
        digest = ""   # load_bundle reports the missing or unreadable file
    return str(path), digest


def _state(bundle_dir: str) -> dict:
    """The bundle, its dataset and per-split caches, loaded once per worker process."""
    from losspattern_core.data.datasets import load_dataset
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.measure.verify import check_dataset

    key = _key(bundle_dir)
    if key not in _CACHE:
        bundle = load_bundle(bundle_dir)
        ds = load_dataset(bundle.meta["dataset"]["name"])
        check_dataset(bundle, ds)
        _CACHE.clear()           # one bundle at a time: a worker's memory stays bounded
        _CACHE[key] = {"bundle": bundle, "dataset": ds, "splits": {}}
    return _CACHE[key]


def _split(state: dict, split: str, device: torch.device):
    """(X, y, prepared) of ``split``: the data as the network takes it and the evaluator's
    per-split preparation (both independent of the points, so cached)."""
    from losspattern_core.measure.verify import bundle_split
    from losspattern_core.surface import prepare

    if split not in state["splits"]:
        b = state["bundle"]
        X, y = bundle_split(b, state["dataset"], split)
        prep = prepare(b.model, b.directions, X, y, b.classes, device)
        state["splits"][split] = (X, y, prep)
    return state["splits"][split]


def tile_points(prep, device: torch.device) -> int:
    """Points per tile the exact evaluator uses for ``prep`` (its default budget).

    A point's float32 arithmetic can depend on which points share its tile (matrix products of
    different sizes may take different kernels), so chunks that are whole multiples of this
    give exactly the values one ``evaluate_points`` call over all points gives. Mirrors the
    tiling of ``surface.kernels``, ``surface.separable`` and ``surface.family_kernels``."""
    from losspattern_core.surface.evaluate import default_budget
    from losspattern_core.surface.families import FamilyPrepared
    from losspattern_core.surface.family_kernels import _points_per_tile, general_tiles
    from losspattern_core.surface.kernels import tiles

    family = isinstance(prep, FamilyPrepared)
    budget = default_budget(device, family)
    sep = prep.sep if (not family or prep.mode == "separable") else None
    if sep is not None:
        tile = max(1, budget // (2 * sep.classes))
        rows = max(1, min(sep.rows.c.shape[0], max(tile // 16, 1)))
        return max(1, tile // rows)
    if not family:
        return tiles(prep, budget)[0]
    if prep.mode == "one_row":
        return _points_per_tile(prep, 1, budget)
    return general_tiles(prep, budget)[1]


def split_tiles(bundle_dir: str, splits: tuple[str, ...], device: str = "cpu") -> dict:
    """{split: the evaluator's points per tile} for the bundle's splits (loads and caches)."""
    state, dev = _state(bundle_dir), torch.device(device)
    return {s: tile_points(_split(state, s, dev)[2], dev) for s in splits}


def evaluate_chunk(bundle_dir: str, points: np.ndarray, splits: tuple[str, ...],
                   accuracy: bool = True, device: str = "cpu") -> dict:
    """{split: {"loss": (P, heads), "acc": (P, heads)}} at ``points`` (P, z), exact over each
    split (``acc`` only with ``accuracy``). The loss is ``evaluate_points``'s, bit for bit; the
    accuracy comes from the same kernels (``surface.point_statistics``)."""
    from losspattern_core.surface import evaluate_points, point_statistics

    _maybe_fail_once()
    state = _state(bundle_dir)
    b = state["bundle"]
    dev = torch.device(device)
    points = np.asarray(points, dtype=np.float64)
    out = {}
    for split in splits:
        X, y, prep = _split(state, split, dev)
        kw = dict(classes=b.classes, heads=b.heads, loss=b.meta.get("loss", "cross_entropy"),
                  device=dev, prepared=prep)
        if accuracy:
            got = point_statistics(b.model, b.directions, X, y, points, **kw)
            out[split] = {"loss": got.loss, "acc": got.acc}
        else:
            out[split] = {"loss": evaluate_points(b.model, b.directions, X, y, points, **kw)[0]}
    return out
