"""Our construction (Theorem 1) against Skorokhodov & Burtsev's multi-point optimisation
(MPO), in one run: the same network family (their CNN), the same data and the same icon.

For each method: wall time of the construction and the network evaluations it spent (forward
+ backward of the network for one input at one weight vector), and on the TEST split: the IoU
of the low-loss region with the icon (loss below the midpoint between the median loss of the
icon's cells and of the background's cells: one rule for both methods), the good-minus-bad
accuracy gap on the boundary band (their measure), PSNR against the graded target (ours only:
MPO has no graded target), the transfer gap train -> test, and whether the plane is
axis-aligned. Then how long our construction needs to reach MPO's final IoU (a ladder of
complete constructions with 1, 2, 4, ... steps, each timed on its own).

Our surfaces are exact and cheap: Theorem 1 zeroes the first layer's weights, so every
sample's output is the same and the split's mean loss is sigma(g(alpha)) from its label counts;
this is checked against a naive pass over every sample of the split at a few cells. MPO's
plane moves every layer: each cell costs a full pass over the samples, so ``eval_samples``
may measure it on a stratified subset (labelled as such) when the machine is slow.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch

from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.constructions import construct as construct_ours
from losspattern_core.constructions import mpo
from losspattern_core.constructions.mpo_mask import image_to_grid
from losspattern_core.constructions.mpo_surface import point_surface
from losspattern_core.data.datasets import load_dataset
from losspattern_core.data.patterns import load_pattern
from losspattern_core.errors import ConfigError
from losspattern_core.frames import Frame
from losspattern_core.grid import range_points
from losspattern_core.losses import sigma
from losspattern_core.measure.metrics import fidelity
from losspattern_core.networks import as_input
from losspattern_core.surface import naive_surface


@dataclass(frozen=True)
class CompareConfig:
    """Both runs' settings. ``mpo_steps`` caps MPO (None: their 100 epochs)."""

    pattern: str = "heart"
    dataset: str = "fashion-mnist"
    grid: int = 50
    ours_steps: int = 400
    ours_batch: int = 256
    ours_lr: float = 3e-3
    mpo_steps: int | None = None
    mpo_lr: float = 2.5e-4
    mpo_batch: int = 512
    mpo_cells: int = 50          # good and bad cells per update, each
    tau: float = 2.5
    eval_samples: int | None = None       # MPO test surface: stratified subset (None: all)
    transfer_samples: int | None = None   # MPO train surface: stratified subset (None: all)
    transfer_stride: int = 1              # MPO train surface on every k-th grid point
    spot_cells: int = 2                   # cells where ours is checked against a naive pass
    seed: int = 0
    device: str = "cpu"


def stratified_subset(y: np.ndarray, n: int | None, seed: int) -> np.ndarray:
    """Indices of about n samples, the same number per class (all of them when n is None or
    not smaller than the split), in increasing order."""
    if n is None or n >= len(y):
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    per = max(1, n // len(classes))
    picks = [rng.permutation(np.flatnonzero(y == k))[:per] for k in classes]
    return np.sort(np.concatenate(picks))


def icon_metrics(loss: np.ndarray, acc: np.ndarray, icon: np.ndarray,
                 band: np.ndarray) -> dict:
    """IoU of {loss < midpoint} with the icon, and the band's good - bad accuracy gap.
    Everything in grid layout; icon 1 = shape, band 1 good / -1 bad / 0 ignored."""
    good_level = float(np.median(loss[icon == 1]))
    bad_level = float(np.median(loss[icon == 0]))
    threshold = 0.5 * (good_level + bad_level)
    low = loss < threshold
    shape = icon == 1
    return {"iou": float((low & shape).sum() / max(1, (low | shape).sum())),
            "threshold": threshold, "good_level": good_level, "bad_level": bad_level,
            "acc_gap": float(acc[band == 1].mean() - acc[band == -1].mean()),
            "good_acc": float(acc[band == 1].mean()), "bad_acc": float(acc[band == -1].mean())}


def theorem1_surface(con, X, y, grid: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean loss and accuracy of a Theorem 1 conv network on (X, y) over the grid.

    With layer 0's weights zero its output is its bias map (plus alpha_i on channel i) for
    every input, so every sample gets the same logits p(alpha): the mean loss is
    sum_k pi_k CE(p, k) and the accuracy is pi[argmax p].
    """
    model = con.model
    if int(torch.count_nonzero(model[0].weight)) != 0:
        raise ConfigError("theorem1_surface needs a Theorem 1 network (zero first-layer weights)")
    alphas = torch.as_tensor(range_points(grid, len(con.directions), con.alpha_range),
                             dtype=torch.float32)
    device = next(model.parameters()).device
    counts = np.bincount(np.asarray(y), minlength=classes)
    pi = torch.as_tensor(counts / counts.sum(), dtype=torch.float64)
    with torch.no_grad():
        base = model[0](torch.zeros((1, *X.shape[1:]), device=device)).cpu()
        shift = torch.zeros(len(alphas), base.shape[1])
        for i, d in enumerate(con.directions):
            shift[:, d.index] += alphas[:, i] * d.scale
        logits = []
        for s in range(0, len(alphas), 512):
            h = base + shift[s:s + 512, :, None, None]
            logits.append(model[1:](h.to(device)).double().cpu())
        logits = torch.cat(logits)
    loss = sigma(logits, pi, "cross_entropy").numpy()
    acc = pi[logits.argmax(-1)].numpy()
    return loss.reshape(grid, grid), acc.reshape(grid, grid)


def _spot_check(con, X, y, loss: np.ndarray, cells: int, classes: int, seed: int) -> float:
    """max |naive pass over every sample - theorem1_surface| at a few grid points."""
    grid = loss.shape[0]
    alphas = range_points(grid, 2, con.alpha_range)
    pick = np.random.default_rng(seed).choice(len(alphas), size=cells, replace=False)
    ref = naive_surface(con.model, con.directions, X, y, alphas[pick], classes=classes)[:, 0]
    return float(np.abs(ref - loss.ravel()[pick]).max())


def _ours(resolved, steps: int) -> Generator[Frame, None, tuple]:
    r = dataclasses.replace(resolved, config=resolved.config.replace(steps=steps))
    t0 = time.perf_counter()
    con = yield from construct_ours(r)
    return con, time.perf_counter() - t0


def _measure_ours(con, ds, spec, grid, icon, band) -> dict:
    out = {}
    for split in ("train", "test"):
        X, y = ds.split(split)
        loss, acc = theorem1_surface(con, as_input(torch.as_tensor(X), spec), y, grid,
                                     ds.classes)
        out[split] = {"loss": loss, "acc": acc}
    out["metrics"] = icon_metrics(out["test"]["loss"], out["test"]["acc"], icon, band)
    return out


def _measure_mpo(res, cfg: CompareConfig) -> Generator[Frame, None, dict]:
    ds, spec, grid = res.run.dataset, res.run.network, res.grid
    alphas = range_points(grid, 2, res.alpha_range)
    out = {}
    for split, n, stride in (("test", cfg.eval_samples, 1),
                             ("train", cfg.transfer_samples, cfg.transfer_stride)):
        X, y = ds.split(split)
        idx = stratified_subset(y, n, cfg.seed)
        sub = np.arange(0, grid, stride)
        pts = alphas.reshape(grid, grid, 2)[np.ix_(sub, sub)].reshape(-1, 2)
        loss, acc = yield from point_surface(res.model, res.directions,
                                             as_input(torch.as_tensor(X[idx]), spec), y[idx],
                                             pts)
        out[split] = {"loss": loss.reshape(len(sub), len(sub)),
                      "acc": acc.reshape(len(sub), len(sub)), "samples": int(len(idx)),
                      "of": int(len(y)), "stride": stride}
    return out


def compare(cfg: CompareConfig) -> Generator[Frame, None, dict]:
    """Run both methods and measure them; yields every Frame of the runs and measurements,
    returns the report (numbers and the arrays the figure draws)."""
    ds = load_dataset(cfg.dataset)
    pat = load_pattern(cfg.pattern, z=2)
    run = mpo.validate_mpo(mpo.MpoConfig(
        pattern=cfg.pattern, dataset=cfg.dataset, grid=cfg.grid, steps=cfg.mpo_steps,
        batch=cfg.mpo_batch, good_cells=cfg.mpo_cells, bad_cells=cfg.mpo_cells, tau=cfg.tau,
        lr=cfg.mpo_lr, seed=cfg.seed, device=cfg.device), dataset=ds, pattern=pat)
    resolved = validate(ConstructionConfig(
        pattern=cfg.pattern, dataset=cfg.dataset, grid=cfg.grid, steps=cfg.ours_steps,
        batch=cfg.ours_batch, lr=cfg.ours_lr, seed=cfg.seed, device=cfg.device,
        snapshot_every=0), dataset=ds, pattern=pat)
    resolved = dataclasses.replace(resolved, network=run.network)
    icon, band = image_to_grid(run.icon), image_to_grid(run.mask)

    res = yield from mpo.construct(run)
    m_mpo = yield from _measure_mpo(res, cfg)
    m_mpo["metrics"] = icon_metrics(m_mpo["test"]["loss"], m_mpo["test"]["acc"], icon, band)
    s = cfg.transfer_stride
    m_mpo["transfer"] = float(np.abs(m_mpo["test"]["loss"][::s, ::s]
                                     - m_mpo["train"]["loss"]).mean())

    ladder, reach = [], None
    steps = 1
    while steps < cfg.ours_steps and reach is None:
        con, wall = yield from _ours(resolved, steps)
        iou = _measure_ours(con, ds, run.network, cfg.grid, icon, band)["metrics"]["iou"]
        ladder.append({"steps": steps, "wall_s": wall, "iou": iou})
        if iou >= m_mpo["metrics"]["iou"]:
            reach = ladder[-1]
        steps *= 2
    con, wall = yield from _ours(resolved, cfg.ours_steps)
    m_ours = _measure_ours(con, ds, run.network, cfg.grid, icon, band)
    ladder.append({"steps": cfg.ours_steps, "wall_s": wall, "iou": m_ours["metrics"]["iou"]})
    reach = reach or (ladder[-1] if ladder[-1]["iou"] >= m_mpo["metrics"]["iou"] else None)
    target = resolved.target(cfg.grid)
    m_ours["psnr_db"] = fidelity(m_ours["test"]["loss"], target, resolved.loss_range.span)[
        "psnr_db"]
    m_ours["transfer"] = float(np.abs(m_ours["test"]["loss"] - m_ours["train"]["loss"]).mean())
    Xt, yt = ds.split("test")
    m_ours["spot_check"] = _spot_check(con, as_input(torch.as_tensor(Xt), run.network), yt,
                                       m_ours["test"]["loss"], cfg.spot_cells, ds.classes,
                                       cfg.seed)
    return {"config": dataclasses.asdict(cfg), "icon": icon, "band": band, "target": target,
            "loss_range": [resolved.loss_range.low, resolved.loss_range.high],
            "ours": {**m_ours, "wall_s": wall, "steps": cfg.ours_steps,
                     "sample_passes": cfg.ours_steps * cfg.ours_batch, "ladder": ladder,
                     "reach": reach, "n_test": int(len(yt))},
            "mpo": {**m_mpo, "wall_s": res.timings["mpo_s"], "steps": res.timings["steps"],
                    "epochs": res.timings["epochs"], "stopped": res.stopped,
                    "sample_passes": res.evaluations["sample_passes"], "plane": res.plane,
                    "full_run_steps": res.run.config.epochs * -(-len(ds.train_idx)
                                                                // cfg.mpo_batch),
                    "nonzero": int(sum(int(torch.count_nonzero(t))
                                       for t in res.directions[0].tensors.values()))},
            "parameters": int(sum(p.numel() for p in con.model.parameters()))}
