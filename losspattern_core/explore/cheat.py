"""The paper's warning in numbers: a Theorem 2 network beside an ordinary network of the same
family, trained on the same data.

Both are measured the same way: train/test loss and accuracy over every sample (the Theorem 2
network at alpha*, where its pattern has its minimum and it fits the data), a random
filter-normalised landscape around each (one seed, one range, one grid: Li et al.'s picture),
and sharpness there (top Hessian eigenvalue, Hutchinson trace, on a stated stratified subset of
the training split). The Theorem 2 network's axis slice (the constructed directions) draws the
pattern. The point: the two networks classify alike, and their slices look nothing alike.

``cheat(config)`` is a generator of ``Frame``s returning a ``CheatResult``.
"""

from __future__ import annotations

import copy
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import torch

from losspattern_core.frames import Frame
from losspattern_core.grid import range_points

from .measure import measure_points

SHARPNESS_SAMPLES = 2048


@dataclass(frozen=True)
class CheatConfig:
    """The pattern, the data, the family; the landscapes' grid, range and seed."""

    pattern: str = "smiley"
    dataset: str = "digits"
    arch: str = "mlp"
    grid: int = 21
    alpha_range: float = 1.0
    seed: int = 0
    steps: int = 2000
    sharpness_samples: int = SHARPNESS_SAMPLES
    device: str = "cpu"


@dataclass
class CheatResult:
    config: CheatConfig
    construction: object
    measurement: object                      # the Theorem 2 network's axis slices
    construction_metrics: dict
    networks: dict = field(default_factory=dict)   # name -> numbers, landscape arrays


def _at_alpha(con, alpha) -> torch.nn.Module:
    """A copy of the Theorem 2 network with its parameters at alpha (its pattern's point)."""
    from losspattern_core.surface import params_at

    net = copy.deepcopy(con.model).eval()
    with torch.no_grad():
        for k, v in params_at(net, con.directions, alpha).items():
            dict(net.named_parameters())[k].copy_(v)
    return net


def _split(ds, spec, which: str, rows=None):
    from losspattern_core.networks import as_input

    X, y = ds.split(which)
    if rows is not None:
        X, y = X[rows], y[rows]
    return as_input(torch.as_tensor(np.asarray(X), dtype=torch.float32), spec), np.asarray(y)


def _network_numbers(name: str, net, ds, spec, cfg: CheatConfig
                     ) -> Generator[Frame, None, dict]:
    """Loss/accuracy at the network, its random landscape, its sharpness."""
    from losspattern_core.measure.analysis import analyse_surface, sharpness
    from losspattern_core.measure.compare_mpo import stratified_subset

    from .filters import filter_normalized_directions

    dirs = filter_normalized_directions(net, 2, seed=cfg.seed)
    a = cfg.alpha_range
    alphas = range_points(cfg.grid, 2, [[-a, a], [-a, a]])
    out: dict = {"name": name, "parameters": sum(p.numel() for p in net.parameters())}
    for split in ("train", "test"):
        X, y = _split(ds, spec, split)
        here = yield from measure_points(net, [], X, y, np.zeros((1, 0)),
                                         phase=f"{split} at the network")
        out[f"{split}_loss"], out[f"{split}_accuracy"] = float(here.loss[0]), float(here.acc[0])
        land = yield from measure_points(net, dirs, X, y, alphas,
                                         phase=f"{split} random landscape")
        out[f"landscape_{split}"] = land.loss.reshape(cfg.grid, cfg.grid)
        out[f"landscape_{split}_accuracy"] = land.acc.reshape(cfg.grid, cfg.grid)
    lt = out["landscape_train"]
    out["landscape_analysis"] = analyse_surface(None, lt)
    out["landscape_train_range"] = [float(lt.min()), float(lt.max())]
    y_train = ds.split("train")[1]
    rows = stratified_subset(y_train, cfg.sharpness_samples, cfg.seed)
    X, y = _split(ds, spec, "train", rows)
    s = sharpness(net, X, y, top_k=1, samples=32, seed=cfg.seed)
    out["sharpness"] = {"top_eigenvalue": s["top_eigenvalue"], "trace": s["trace"],
                        "trace_stderr": s["trace_stderr"], "residual": s["eigen"]["residuals"][0],
                        "samples": int(len(rows)), "of": int(len(y_train))}
    return out


def cheat(cfg: CheatConfig) -> Generator[Frame, None, CheatResult]:
    """Build the Theorem 2 network, train the ordinary one, measure both (module docstring)."""
    from losspattern_core.config import ConstructionConfig, validate
    from losspattern_core.constructions.theorem2 import construct
    from losspattern_core.measure.metrics import construction_metrics, measure_surfaces
    from losspattern_core.training import train_ordinary

    resolved = validate(ConstructionConfig(pattern=cfg.pattern, dataset=cfg.dataset, theorem=2,
                                           arch=cfg.arch, seed=cfg.seed, steps=cfg.steps,
                                           device=cfg.device))
    con = yield from construct(resolved, run_baseline=False)
    measurement = measure_surfaces(con)
    metrics = construction_metrics(con, measurement, checks=False)
    base = yield from train_ordinary(resolved.dataset, resolved.network, seed=cfg.seed,
                                     device=cfg.device)
    result = CheatResult(cfg, con, measurement, metrics)
    star = _at_alpha(con, con.extras["theorem2"]["alpha_star"])
    ds, spec = resolved.dataset, resolved.network
    result.networks["theorem2"] = yield from _network_numbers("Theorem 2 network at alpha*",
                                                              star, ds, spec, cfg)
    result.networks["ordinary"] = yield from _network_numbers("ordinary network", base.model,
                                                              ds, spec, cfg)
    return result
