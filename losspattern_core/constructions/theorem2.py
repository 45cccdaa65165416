"""Theorem 2: the pattern's minimum sits at (near) a global minimum of the training loss.

Structure (what the directions and the zero weights are):
  * the first z units of layer 1 have zero input weights and zero bias at theta_0; direction i
    adds alpha_i to bias i of layer 0, exactly as in Theorem 1 (axis-aligned, one-hot);
  * every other first-layer unit keeps its weights and sees x.

How "rest" is found, fast. The hidden units of layers 2..depth are split into an alpha block
(reads only the z pattern units) and an x block (reads only the x units); the blocks meet in the
output layer, so the network computes logits(alpha, x) = c(x) + g(alpha) exactly:
  1. classifier phase: the x block and the output bias are trained by ordinary minibatch
     cross-entropy on the training split (this is the "fit the data at alpha*" part; its
     training loss L* is the best loss the run reaches and the shifted pattern's minimum);
  2. regression phase: the alpha block is trained so that the network's mean training loss at
     alpha, mean_i CE(c(x_i) + g(alpha), y_i), follows T'(alpha) = T(alpha) - min T + L*.
     Each step draws a batch of alpha points and a minibatch of training samples and regresses
     the minibatch mean loss at every alpha onto T'. Because the alpha units are the same for
     every sample, c(x) is computed once for the whole split and g once per alpha: a step costs
     a Theorem-1-sized forward pass plus a (alphas x samples x classes) log-sum-exp.
The network is a plain MLP; the surface is measured by the general evaluator (surface.py) on
every training and test sample. Because the surface is pinned to the training sample through
c(x_i), the test surface does not follow T: the run measures that gap and shows it.

An ordinary network of the same architecture is trained normally first (``baseline.py``): its
training loss and accuracy are the yardstick for the construction's fit at alpha*, its wall time
the yardstick for "ease" (Observation 2).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Generator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import losspattern_core.training as baseline
from losspattern_core.config import Resolved
from losspattern_core.data.patterns import LossRange
from losspattern_core.errors import ConfigError, ConstructionError
from losspattern_core.networks import build_mlp
from losspattern_core.surface import grid_array, outputs_at, range_points

from .common import Construction, Frame, first_layer_bias_directions, regression, target_grid

X_SHARE = 0.25            # share of the hidden units of layers 2..depth given to the x block
SAMPLES_PER_STEP = 64     # training samples whose mean loss is regressed at each alpha
STAR_WEIGHT = 1.0         # weight of alpha* (target: the best loss) beside the batch's mean
CLASSIFIER_STEPS = baseline.STEPS
CLASSIFIER_LR = baseline.LR
CLASSIFIER_BATCH = baseline.BATCH
SNAPSHOT_CHUNK = 2**22    # floats per chunk of (alphas x samples) in snapshots


@dataclasses.dataclass(frozen=True)
class Blocks:
    z: int            # pattern units in layer 1 (zero input weights)
    first: int        # first-layer width
    width: int        # width of layers 2..depth
    alpha: int        # alpha-block units in layers 2..depth: [0, alpha)
    depth: int

    @property
    def x(self) -> int:
        return self.width - self.alpha


def blocks_for(resolved: Resolved) -> Blocks:
    net, z = resolved.network, resolved.config.z
    first = net.first_width or net.width
    x = max(net.classes, round(net.width * X_SHARE))
    if first - z < 1:
        raise ConfigError(f"Theorem 2 needs first-layer units that see x: width {first} leaves "
                          f"none after the z = {z} pattern units; use --width >= {z + 8}")
    if net.width - x < 2:
        raise ConfigError(f"Theorem 2 splits layers 2..depth into a pattern block and a "
                          f"classifier block of {x} units: width {net.width} is too small; "
                          f"use --width >= {x + 16}")
    return Blocks(z, first, net.width, net.width - x, net.depth)


class _Paths:
    """The two blocks of one nn.Sequential as functions (views into the real parameters)."""

    def __init__(self, model: nn.Sequential, b: Blocks):
        self.lins = [m for m in model if isinstance(m, nn.Linear)]
        self.acts = [model[2 * i + 1] for i in range(b.depth)]
        self.b = b

    def classifier(self, x: torch.Tensor) -> torch.Tensor:
        """c(x): the logits the x block contributes (with the output bias)."""
        b, L, A = self.b, self.lins, self.acts
        h = A[0](F.linear(x, L[0].weight[b.z:], L[0].bias[b.z:]))
        h = A[1](F.linear(h, L[1].weight[b.alpha:, b.z:], L[1].bias[b.alpha:]))
        for i in range(2, b.depth):
            h = A[i](F.linear(h, L[i].weight[b.alpha:, b.alpha:], L[i].bias[b.alpha:]))
        return F.linear(h, L[-1].weight[:, b.alpha:], L[-1].bias)

    def pattern(self, alpha: torch.Tensor) -> torch.Tensor:
        """g(alpha): the logits the alpha block contributes (first-layer bias = alpha)."""
        b, L, A = self.b, self.lins, self.acts
        h = A[0](alpha + L[0].bias[: b.z])
        h = A[1](F.linear(h, L[1].weight[: b.alpha, : b.z], L[1].bias[: b.alpha]))
        for i in range(2, b.depth):
            h = A[i](F.linear(h, L[i].weight[: b.alpha, : b.alpha], L[i].bias[: b.alpha]))
        return F.linear(h, L[-1].weight[:, : b.alpha])


def build_theorem2_network(resolved: Resolved) -> nn.Sequential:
    """An untrained network with Theorem 2's structure for ``resolved`` (on its device): the z
    pattern units read no input, and the alpha and x blocks meet only at the output layer."""
    return build_network(resolved, blocks_for(resolved))


def zero_blocks(model: nn.Sequential, b: Blocks) -> list[tuple[str, torch.Tensor]]:
    """The weight blocks the structure requires to be exactly zero, as named views."""
    lins = [m for m in model if isinstance(m, nn.Linear)]
    out = [("layer 1 weights of the pattern units", lins[0].weight[: b.z]),
           ("layer 2: alpha block <- x units", lins[1].weight[: b.alpha, b.z:]),
           ("layer 2: x block <- pattern units", lins[1].weight[b.alpha:, : b.z])]
    for i, lin in enumerate(lins[2:-1], start=3):
        out += [(f"layer {i}: alpha block <- x block", lin.weight[: b.alpha, b.alpha:]),
                (f"layer {i}: x block <- alpha block", lin.weight[b.alpha:, : b.alpha])]
    return out


def check_zero_blocks(model: nn.Sequential, b: Blocks) -> None:
    """Raise if training touched a block that must stay exactly zero (logits = c(x) + g(alpha)
    holds only then; the optimisers never receive those entries, and this proves it)."""
    for name, block in zero_blocks(model, b):
        nonzero = int(torch.count_nonzero(block))
        if nonzero:
            raise ConstructionError(f"Theorem 2's structure broke: {name} has {nonzero} nonzero "
                                    "entries after training (they must be exactly 0)")


def build_network(resolved: Resolved, b: Blocks) -> nn.Sequential:
    """theta_0's architecture with the block structure: off-diagonal blocks are exactly 0."""
    cfg, net = resolved.config, resolved.network
    model = build_mlp(net, seed=cfg.seed)
    lins = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        lins[0].weight[: b.z].zero_()           # the pattern units see no input ...
        lins[0].bias[: b.z].zero_()             # ... and their bias is alpha (0 at theta_0)
        lins[1].weight[: b.alpha, b.z:].zero_()  # alpha block ignores the x units
        lins[1].weight[b.alpha:, : b.z].zero_()  # x block ignores the pattern units
        for lin in lins[2:-1]:
            lin.weight[: b.alpha, b.alpha:].zero_()
            lin.weight[b.alpha:, : b.alpha].zero_()
        if net.activation == "sin":  # SIREN bounds for each block's own fan-in
            baseline.init_for_inputs(model, net, rows=slice(b.alpha, None), cols=slice(b.z, None))
            for lin in lins[2:-1]:
                lin.weight[: b.alpha, : b.alpha].uniform_(-math.sqrt(6 / b.alpha),
                                                          math.sqrt(6 / b.alpha))
                lin.weight[b.alpha:, b.alpha:].uniform_(-math.sqrt(6 / b.x), math.sqrt(6 / b.x))
    return model.to(cfg.device)


def mean_loss_grid(logits_c: torch.Tensor, y: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """mean_i CE(c_i + g_a, y_i) for every row a of g: (A, K) -> (A,), in float64.

    sum_k exp(c_ik + g_ak) factorises into a matrix product of exp(c) and exp(g) (each shifted
    by its row maximum), so the (A, N, K) tensor of logits is never formed.
    """
    c, g = logits_c.double(), g.double()
    cm = c.max(1, keepdim=True).values
    gm = g.max(1, keepdim=True).values
    lse = (torch.exp(g - gm) @ torch.exp(c - cm).T).log() + gm + cm.T   # (A, N)
    picked = c.gather(1, y.view(-1, 1)).squeeze(1)
    return (lse - picked - g[:, y]).mean(1)


def train_surface_exact(paths: _Paths, logits_c: torch.Tensor, y: torch.Tensor, grid: int,
                        z: int) -> np.ndarray:
    """The network's mean loss over every training sample on the G^z grid.

    Exact for this network: its logits are c(x) + g(alpha) (the off-diagonal blocks are zero),
    so c is computed once per sample and g once per grid point.
    """
    alphas = torch.as_tensor(range_points(grid, z), dtype=torch.float32, device=logits_c.device)
    step = max(1, SNAPSHOT_CHUNK // max(1, len(logits_c)))
    out = []
    with torch.no_grad():
        for s in range(0, len(alphas), step):
            g = paths.pattern(alphas[s:s + step])
            out.append(mean_loss_grid(logits_c, y, g))
    total = torch.cat(out).cpu().numpy()[:, None]
    return grid_array(total, grid, z)


def _accuracy_at(model, directions, X, y, alpha) -> tuple[float, float]:
    """Loss and accuracy at ``alpha`` over every sample, on the model's own device."""
    out = outputs_at(model, directions, X, alpha).double().cpu()
    yt = torch.as_tensor(np.asarray(y))
    return float(F.cross_entropy(out, yt)), float((out.argmax(1) == yt).double().mean())


def construct(resolved: Resolved, run_baseline: bool = True,
              ) -> Generator[Frame, None, Construction]:
    cfg = resolved.config
    if resolved.heads != 1:
        raise ConfigError("Theorem 2 with --rgb is not supported: three heads would need three "
                          "minima at one alpha*. Use Theorem 1 for colour images.")
    if cfg.loss != "cross_entropy":
        raise ConfigError("Theorem 2 is built for cross_entropy (its fit at alpha* is a "
                          "classifier); use --loss cross_entropy")
    z, device = cfg.z, cfg.device
    b = blocks_for(resolved)
    ds = resolved.dataset
    X, y = (torch.as_tensor(np.asarray(a), device=device) for a in ds.split("train"))
    X, y = X.float(), y.long()

    base = None
    if run_baseline:
        base = yield from baseline.train_ordinary(ds, resolved.network, seed=cfg.seed,
                                                  device=device)

    model = build_network(resolved, b)
    paths = _Paths(model, b)
    lins = paths.lins
    directions = first_layer_bias_directions(z)

    # 1. fit the data: the x block (and the output bias) by ordinary cross-entropy
    cls_params = [lins[0].weight, lins[0].bias, *(p for lin in lins[1:] for p in
                                                  (lin.weight, lin.bias))]
    fit = yield from baseline.fit_classifier(
        paths.classifier, cls_params, X, y, steps=CLASSIFIER_STEPS, lr=CLASSIFIER_LR,
        batch=CLASSIFIER_BATCH, seed=cfg.seed, phase="classifier")
    with torch.no_grad():
        logits_c = paths.classifier(X).detach()
        best = float(F.cross_entropy(logits_c.double(), y))

    # 2. the pattern: T shifted so that its minimum on the grid is the loss just reached
    tgrid = target_grid(resolved)
    shift = best - float(tgrid.min())
    lr = resolved.loss_range
    shifted = dataclasses.replace(resolved, loss_range=LossRange(lr.low + shift, lr.high + shift))
    star_index = np.unravel_index(int(np.argmin(tgrid)), tgrid.shape)
    alpha_star = [i / (cfg.grid - 1) for i in star_index]
    a_star = torch.tensor([alpha_star], dtype=torch.float32, device=device)
    span = lr.span
    n_sub = min(SAMPLES_PER_STEP, len(y))

    def loss_fn(rng: np.random.Generator) -> torch.Tensor:
        alpha = rng.random((cfg.batch, z))
        vals = resolved.pattern.evaluate(alpha)
        target = np.maximum(lr.apply(vals) + shift, best)
        a = torch.cat([torch.as_tensor(alpha, dtype=torch.float32, device=device), a_star])
        t = torch.as_tensor(np.append(target, best), dtype=torch.float64, device=device)
        idx = torch.as_tensor(rng.choice(len(y), n_sub, replace=False), device=device)
        err = ((mean_loss_grid(logits_c[idx], y[idx], paths.pattern(a)) - t) / span) ** 2
        return err[:-1].mean() + STAR_WEIGHT * err[-1]

    pat_params = [lins[1].weight, lins[1].bias, *(p for lin in lins[2:] for p in
                                                  (lin.weight, lin.bias))]
    snap = lambda: train_surface_exact(paths, logits_c, y, cfg.grid, z)  # noqa: E731
    timings = yield from regression(shifted, pat_params, loss_fn, snap)
    model.eval()
    check_zero_blocks(model, b)
    if bool(lins[0].bias[:z].any()):
        raise ConstructionError("Theorem 2's pattern-unit biases moved during training")

    # at alpha*: the fit to the data, on both splits, measured on every sample
    tr_loss, tr_acc = _accuracy_at(model, directions, *ds.split("train"), alpha_star)
    te_loss, te_acc = _accuracy_at(model, directions, *ds.split("test"), alpha_star)
    timings.update({"classifier_s": fit["wall_s"], "classifier_steps": fit["steps"],
                    "construction_s": fit["wall_s"] + timings["regression_s"],
                    "construction_steps": fit["steps"] + timings["steps"]})
    extras = {"theorem2": {
        "alpha_star": alpha_star,
        "best_loss": best,
        "best_loss_note": "training loss the classifier phase reached (alpha block off); the "
                          "pattern is shifted so that its minimum on the grid equals it",
        "shift": shift,
        "target_range": [shifted.loss_range.low, shifted.loss_range.high],
        "at_alpha_star": {"train_loss": tr_loss, "train_accuracy": tr_acc,
                          "test_loss": te_loss, "test_accuracy": te_acc},
        "zero_first_layer_rows": list(range(z)),
        "blocks": {"pattern_units_layer1": z, "x_units_layer1": b.first - z,
                   "pattern_block": b.alpha, "x_block": b.x},
        "classifier": {k: v for k, v in fit.items() if k != "history"},
        "samples_per_step": n_sub,
    }}
    if base is not None:
        bj = base.to_json()
        extras["baseline"] = bj
        extras["theorem2"]["vs_baseline"] = {
            "train_loss_gap": tr_loss - bj["train_loss"],
            "train_accuracy_gap": tr_acc - bj["train_accuracy"],
            "test_accuracy_gap": te_acc - bj["test_accuracy"],
        }
        extras["ease"] = {"construction_s": timings["construction_s"],
                          "construction_steps": timings["construction_steps"],
                          "ordinary_training_s": bj["wall_s"],
                          "ordinary_training_steps": bj["steps"],
                          "ordinary_steps_to_converge": bj["steps_to_converge"]}
    return Construction(shifted, model, directions, [[0.0, 1.0]] * z, target_grid(shifted),
                        resolved.network.layers(), timings, extras)
