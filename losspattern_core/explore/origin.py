"""The two choices of an explore run before any surface: which network sits at theta_0 (trained
here, keeping its trajectory, or opened from a bundle) and along which directions it is seen.

* ``random``: z filter-normalised Gaussian directions at the trained network (Li et al.);
  range [-A, A], A = 1 by default.
* ``pca``: the top z principal directions of the trajectory, origin the final network; the
  range covers every snapshot's projection, widened by A (0.25) of the extent.
* ``hessian``: the top z eigenvectors (largest magnitude) of the training loss's Hessian at the
  trained network, unit norm; range [-A, A].
* ``interpolation``: the line from the initial network (or ``--from``) to the trained one (or
  ``--to``); range [-A, 1 + A], A = 0.5: beyond both ends.
"""

from __future__ import annotations

import copy
from collections.abc import Generator

import numpy as np

from losspattern_core.errors import ConfigError
from losspattern_core.frames import Frame

from .config import ResolvedExplore

DEFAULT_A = {"random": 1.0, "hessian": 1.0, "interpolation": 0.5, "pca": 0.25}


def origin_network(resolved: ResolvedExplore, X, y) -> Generator[Frame, None, dict]:
    """{"initial": the network before training, "model": theta_0's network, "result": the
    TrainingResult (None when nothing was trained)}."""
    from losspattern_core.networks import build_network

    from .training import train_trajectory

    cfg = resolved.config
    if resolved.source is not None:
        initial = copy.deepcopy(resolved.source.model).eval()
    else:
        initial = build_network(resolved.spec, seed=cfg.seed).eval()
    needs_training = resolved.source is None or cfg.directions == "pca" or (
        cfg.directions == "interpolation" and resolved.target is None)
    if not needs_training:
        return {"initial": initial, "model": initial, "result": None}
    result = yield from train_trajectory(
        initial, X, y, steps=cfg.steps, optimizer=cfg.optimizer, lr=cfg.lr, batch=cfg.batch,
        seed=cfg.seed,
        snapshot_every=cfg.snapshot_every or max(1, cfg.steps // 20))
    return {"initial": initial, "model": result.model.eval(), "result": result}


def check_hessian_memory(resolved: ResolvedExplore) -> None:
    """Refuse a Hessian request over the memory bound before any training (the same estimate
    as ``hessian.HessianOperator``: (5 z + 6) parameter-sized float32 vectors)."""
    from losspattern_core.networks import build

    from .hessian import VECTORS

    cfg = resolved.config
    layers = (resolved.source.meta["network"]["layers"] if resolved.source is not None
              else resolved.spec.layers())
    n = sum(p.numel() for p in build(layers, device="meta").parameters())
    need = n * 4 * (5 * cfg.z + VECTORS)
    if need > cfg.hessian_max_bytes:
        raise ConfigError(
            f"Hessian directions for this network ({n:,} parameters, {cfg.z} eigenvector(s)) "
            f"need about {need / 2**20:,.1f} MiB, over the bound of "
            f"{cfg.hessian_max_bytes / 2**20:,.1f} MiB: use a smaller network, fewer directions "
            "(--z), or raise --hessian-max-mb")


def layer_mismatch(a: list[dict], b: list[dict], path: str = "") -> str | None:
    """A sentence naming the first layer where two bundles' layer lists differ (None if equal)."""
    for i in range(max(len(a), len(b))):
        where = f"layer {path}{i}"
        if i >= len(a) or i >= len(b):
            return f"{where} exists in only one network ({len(a)} vs {len(b)} layers)"
        la, lb = a[i], b[i]
        if la.get("type") == lb.get("type") == "residual":
            why = (layer_mismatch(la["body"], lb["body"], f"{path}{i}.body.")
                   or layer_mismatch(la["shortcut"], lb["shortcut"], f"{path}{i}.shortcut."))
            if why:
                return why
        elif la != lb:
            return f"{where} is {la} in --from and {lb} in --to"
    return None


def _interpolation(resolved: ResolvedExplore, training: dict):
    from .interpolation import first_mismatch, interpolation

    a_range = DEFAULT_A["interpolation"] if resolved.config.alpha_range is None \
        else resolved.config.alpha_range
    if resolved.target is not None:
        src, dst = resolved.source, resolved.target
        why = first_mismatch(src.model.state_dict(), dst.model.state_dict(),
                             ("--from", "--to")) or layer_mismatch(
            src.meta["network"]["layers"], dst.meta["network"]["layers"])
        if why:
            raise ConfigError(f"cannot interpolate: {src.path} and {dst.path} are not the same "
                              f"architecture: {why}")
        a, b = src.model, dst.model
    else:
        a, b = training["initial"], training["model"]
    line = interpolation(a, b, alpha_range=(-a_range, 1.0 + a_range))
    return line.origin.eval(), [line.direction], [list(line.alpha_range)]


def _pca_range(coords: np.ndarray, widen: float) -> list[list[float]]:
    out = []
    for c in coords.T:
        lo, hi = min(float(c.min()), 0.0), max(float(c.max()), 0.0)
        pad = widen * max(hi - lo, 1e-6)
        out.append([lo - pad, hi + pad])
    return out


def choose_directions(resolved: ResolvedExplore, training: dict, X, y
                      ) -> Generator[Frame, None, tuple]:
    """(origin network, directions, alpha_range, TrajectoryPCA or None, HessianEigen or None)."""
    from .filters import filter_normalized_directions
    from .hessian import hessian_directions
    from .objective import split_loss
    from .pca import trajectory_pca

    cfg = resolved.config
    kind, z = cfg.directions, cfg.z
    a = DEFAULT_A[kind] if cfg.alpha_range is None else float(cfg.alpha_range)
    model = training["model"]
    if kind == "interpolation":
        return _interpolation(resolved, training) + (None, None)
    if kind == "random":
        dirs = filter_normalized_directions(model, z, seed=cfg.seed)
        return model, dirs, [[-a, a]] * z, None, None
    if kind == "hessian":
        eig = hessian_directions(model, X, y, k=z, seed=cfg.seed,
                                 max_bytes=cfg.hessian_max_bytes,
                                 max_iter=cfg.hessian_iterations)
        return model, eig.directions, [[-a, a]] * z, None, eig
    pca = trajectory_pca(training["result"].trajectory, z, loss_fn=split_loss(model, X, y))
    yield from ()
    return model, pca.directions, _pca_range(pca.coords, a), pca, None
