"""What both Theorem 2 paths (MLP blocks, conv-family channel blocks) share: the shifted
target, the regression objective, the exact train surface of a c(x) + g(alpha) network, and the
figures a run reports."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

import losspattern_core.training as training
from losspattern_core.config import Resolved
from losspattern_core.data.patterns import LossRange
from losspattern_core.errors import ConfigError
from losspattern_core.grid import grid_array, range_points
from losspattern_core.losses import mean_cross_entropy_separable

CLASSIFIER_STEPS = training.STEPS   # the classifier phase trains like ordinary training
CONV_CLASSIFIER_STEPS = training.CONV_STEPS   # ... of the conv families
CLASSIFIER_LR = training.LR
CLASSIFIER_BATCH = training.BATCH
SAMPLES_PER_STEP = 64     # training samples whose mean loss is regressed at each alpha
STAR_WEIGHT = 1.0         # weight of alpha* (target: the best loss) beside the batch's mean
SNAPSHOT_CHUNK = 2**22    # floats per chunk of (alphas x samples) in snapshots
STOP_POINTS = 512         # conv families: grid points the early stop measures exactly


def classifier_steps(spec) -> int:
    """The classifier phase's steps for ``spec``'s family; the baseline trained beside a
    Theorem 2 run gets the same budget."""
    return CLASSIFIER_STEPS if spec.family == "mlp" else CONV_CLASSIFIER_STEPS


def refuse_unsupported(resolved: Resolved) -> None:
    if resolved.heads != 1:
        raise ConfigError("Theorem 2 with --rgb is not supported: three heads would need three "
                          "minima at one alpha*. Use Theorem 1 for colour images.")
    if resolved.config.loss != "cross_entropy":
        raise ConfigError("Theorem 2 is built for cross_entropy (its fit at alpha* is a "
                          "classifier); use --loss cross_entropy")


@dataclasses.dataclass(frozen=True)
class ShiftedTarget:
    """T shifted so that its minimum on the grid is the training loss the classifier reached."""

    resolved: Resolved        # with the shifted loss range
    shift: float
    best: float
    alpha_star: list[float]


def shift_target(resolved: Resolved, best: float) -> ShiftedTarget:
    tgrid = resolved.target()
    shift = best - float(tgrid.min())
    lr = resolved.loss_range
    shifted = dataclasses.replace(resolved, loss_range=LossRange(lr.low + shift, lr.high + shift))
    star = np.unravel_index(int(np.argmin(tgrid)), tgrid.shape)
    return ShiftedTarget(shifted, shift, best, [i / (resolved.config.grid - 1) for i in star])


def regression_loss(resolved: Resolved, st: ShiftedTarget, logits_c: torch.Tensor,
                    y: torch.Tensor, pattern: Callable[[torch.Tensor], torch.Tensor]):
    """The regression objective: at a batch of alpha (and alpha*), the mean training loss over
    a minibatch of samples, mean_i CE(c(x_i) + g(alpha), y_i), against T'(alpha)."""
    cfg, lr = resolved.config, resolved.loss_range
    device = logits_c.device
    a_star = torch.tensor([st.alpha_star], dtype=torch.float32, device=device)
    n_sub = min(SAMPLES_PER_STEP, len(y))

    def loss_fn(rng: np.random.Generator) -> torch.Tensor:
        alpha = rng.random((cfg.batch, cfg.z))
        target = np.maximum(lr.apply(resolved.pattern.evaluate(alpha)) + st.shift, st.best)
        a = torch.cat([torch.as_tensor(alpha, dtype=torch.float32, device=device), a_star])
        t = torch.as_tensor(np.append(target, st.best), dtype=torch.float64, device=device)
        idx = torch.as_tensor(rng.choice(len(y), n_sub, replace=False), device=device)
        err = ((mean_cross_entropy_separable(logits_c[idx], y[idx], pattern(a)) - t)
               / lr.span) ** 2
        return err[:-1].mean() + STAR_WEIGHT * err[-1]
    return loss_fn, n_sub


def train_surface_exact(pattern: Callable[[torch.Tensor], torch.Tensor], logits_c: torch.Tensor,
                        y: torch.Tensor, grid: int, z: int) -> np.ndarray:
    """The network's mean loss over every training sample on the G^z grid.

    Exact for these networks: their logits are c(x) + g(alpha) (the coupling blocks are zero),
    so c is computed once per sample and g once per grid point.
    """
    alphas = torch.as_tensor(range_points(grid, z), dtype=torch.float32, device=logits_c.device)
    step = max(1, SNAPSHOT_CHUNK // max(1, len(logits_c)))
    out = []
    with torch.no_grad():
        for s in range(0, len(alphas), step):
            out.append(mean_cross_entropy_separable(logits_c, y, pattern(alphas[s:s + step])))
    return grid_array(torch.cat(out).cpu().numpy()[:, None], grid, z)


def stop_estimate(st: ShiftedTarget, pattern: Callable[[torch.Tensor], torch.Tensor],
                  logits_c: torch.Tensor, y: torch.Tensor, points: int = STOP_POINTS,
                  ) -> Callable[[], float]:
    """The PSNR (dB) of the exact mean training loss against T' on ``points`` evenly spaced
    points of the evaluation grid: the conv families' early-stop estimate (``EarlyStop``)."""
    r = st.resolved
    cfg = r.config
    pts = range_points(cfg.grid, cfg.z)
    keep = np.linspace(0, len(pts) - 1, min(points, len(pts))).round().astype(int)
    alphas = torch.as_tensor(pts[keep], dtype=torch.float32, device=logits_c.device)
    target = r.target().ravel()[keep]
    step = max(1, SNAPSHOT_CHUNK // max(1, len(logits_c)))

    def estimate() -> float:
        with torch.no_grad():
            loss = torch.cat([mean_cross_entropy_separable(logits_c, y, pattern(alphas[s:s + step]))
                              for s in range(0, len(alphas), step)]).cpu().numpy()
        err = np.mean(((loss - target) / r.loss_range.span) ** 2)
        return float(-10 * np.log10(max(err, 1e-24)))
    return estimate


def loss_and_accuracy(logits: torch.Tensor, y) -> tuple[float, float]:
    out = logits.double().cpu()
    yt = torch.as_tensor(np.asarray(y))
    return float(F.cross_entropy(out, yt)), float((out.argmax(1) == yt).double().mean())


def run_figures(st: ShiftedTarget, fit: dict, timings: dict, at_star: dict, base,
                structure: dict, n_sub: int) -> dict:
    """The ``extras`` of a Theorem 2 construction: alpha*, the shift, the fit there, the block
    structure, and the comparison with ordinary training (``base``) and its cost (ease)."""
    timings.update({"classifier_s": fit["wall_s"], "classifier_steps": fit["steps"],
                    "construction_s": fit["wall_s"] + timings["regression_s"],
                    "construction_steps": fit["steps"] + timings["steps"]})
    rng = st.resolved.loss_range
    extras: dict = {"theorem2": {
        "alpha_star": st.alpha_star,
        "best_loss": st.best,
        "best_loss_note": "training loss the classifier phase reached (alpha block off); the "
                          "pattern is shifted so that its minimum on the grid equals it",
        "shift": st.shift,
        "target_range": [rng.low, rng.high],
        "at_alpha_star": at_star,
        "zero_first_layer_rows": list(range(st.resolved.config.z)),
        "blocks": structure,
        "classifier": {k: v for k, v in fit.items() if k != "history"},
        "samples_per_step": n_sub,
    }}
    if base is not None:
        bj = base.to_json()
        extras["baseline"] = bj
        extras["theorem2"]["vs_baseline"] = {
            "train_loss_gap": at_star["train_loss"] - bj["train_loss"],
            "train_accuracy_gap": at_star["train_accuracy"] - bj["train_accuracy"],
            "test_accuracy_gap": at_star["test_accuracy"] - bj["test_accuracy"],
        }
        extras["ease"] = {"construction_s": timings["construction_s"],
                          "construction_steps": timings["construction_steps"],
                          "ordinary_training_s": bj["wall_s"],
                          "ordinary_training_steps": bj["steps"],
                          "ordinary_steps_to_converge": bj["steps_to_converge"]}
    return extras
