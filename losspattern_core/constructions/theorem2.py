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
from losspattern_core.errors import ConfigError, ConstructionError
from losspattern_core.networks import build_mlp
from losspattern_core.surface import outputs_at

from . import theorem2_channels
from . import theorem2_shared as shared
from .common import Construction, Frame, first_layer_bias_directions, regression
from .theorem2_shared import (
    loss_and_accuracy,
    refuse_unsupported,
    regression_loss,
    run_figures,
    shift_target,
    train_surface_exact,
)

X_SHARE = 0.25            # share of the hidden units of layers 2..depth given to the x block


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
    gen = torch.Generator().manual_seed(int(cfg.seed))   # build and re-init: one local stream
    model = build_mlp(net, generator=gen)
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
            baseline.init_for_inputs(model, net, gen, rows=slice(b.alpha, None),
                                     cols=slice(b.z, None))
            for lin in lins[2:-1]:
                a_bound, x_bound = math.sqrt(6 / b.alpha), math.sqrt(6 / b.x)
                lin.weight[: b.alpha, : b.alpha].uniform_(-a_bound, a_bound, generator=gen)
                lin.weight[b.alpha:, b.alpha:].uniform_(-x_bound, x_bound, generator=gen)
    return model.to(cfg.device)


def construct(resolved: Resolved, run_baseline: bool = True,
              ) -> Generator[Frame, None, Construction]:
    """Theorem 2 on any family: MLPs with the unit blocks above, conv families with channel
    blocks (``theorem2_channels``). ``run_baseline`` trains an ordinary network beside it."""
    refuse_unsupported(resolved)
    if resolved.network.family != "mlp":
        return (yield from theorem2_channels.construct(resolved, run_baseline))
    return (yield from _construct_mlp(resolved, run_baseline))


def _construct_mlp(resolved: Resolved, run_baseline: bool,
                   ) -> Generator[Frame, None, Construction]:
    cfg = resolved.config
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
        paths.classifier, cls_params, X, y, steps=shared.CLASSIFIER_STEPS, lr=shared.CLASSIFIER_LR,
        batch=shared.CLASSIFIER_BATCH, seed=cfg.seed, phase="classifier")
    with torch.no_grad():
        logits_c = paths.classifier(X).detach()
        best = float(F.cross_entropy(logits_c.double(), y))

    # 2. the pattern: T shifted so that its minimum on the grid is the loss just reached
    st = shift_target(resolved, best)
    loss_fn, n_sub = regression_loss(resolved, st, logits_c, y, paths.pattern)
    pat_params = [lins[1].weight, lins[1].bias, *(p for lin in lins[2:] for p in
                                                  (lin.weight, lin.bias))]
    snap = lambda: train_surface_exact(paths.pattern, logits_c, y, cfg.grid, z)  # noqa: E731
    timings = yield from regression(st.resolved, pat_params, loss_fn, snap)
    model.eval()
    check_zero_blocks(model, b)
    if bool(lins[0].bias[:z].any()):
        raise ConstructionError("Theorem 2's pattern-unit biases moved during training")

    # at alpha*: the fit to the data, on both splits, measured on every sample
    at_star = {}
    for split in ("train", "test"):
        Xs, ys = ds.split(split)
        loss, acc = loss_and_accuracy(outputs_at(model, directions, Xs, st.alpha_star), ys)
        at_star.update({f"{split}_loss": loss, f"{split}_accuracy": acc})
    structure = {"pattern_units_layer1": z, "x_units_layer1": b.first - z,
                 "pattern_block": b.alpha, "x_block": b.x}
    extras = run_figures(st, fit, timings, at_star, base, structure, n_sub)
    return Construction(st.resolved, model, directions, [[0.0, 1.0]] * z, st.resolved.target(),
                        resolved.network.layers(), timings, extras)
