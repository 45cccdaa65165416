"""Theorem 1: every pattern, axis-aligned, for any dataset.

W1 = 0, so the first hidden layer is phi(b1) for every input; b1 = [alpha_1..alpha_z, 0, ...].
The directions move exactly one scalar each (bias i of layer 0). The rest of the network is
fitted by regression so that sigma(g(alpha)) = T(alpha), where sigma needs only the label
marginal of the training split (Observation 2): no image is touched while training.

On the conv families theta_0's later convs have only their centre tap non-zero
(``pointwise_fit``: the choice is free in Theorem 1), so every feature map stays spatially
constant and the regression evaluates g(alpha) on channel vectors (an MLP's cost per alpha)
instead of image-sized maps, exactly; a check against the full network on a real image ends
the fit. Their regression stops once its fit has saturated (``common.EarlyStop``), judged on
``STOP_POINTS`` fixed points of the evaluation grid; MLPs run every step.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.config import Resolved
from losspattern_core.grid import range_points
from losspattern_core.networks import as_input, build_network

from .common import (
    Construction,
    EarlyStop,
    Frame,
    first_layer_bias_directions,
    measured_train_surface,
    regression,
    sample_targets,
    sigma_fit_loss,
    target_grid,
)
from .pointwise_fit import (
    CENTRE_TAP_NOTE,
    SATURATION_FROM,
    apply_masks,
    check_reduction,
    choose_centre_taps,
    constant_map_forward,
    first_map_size,
    scales_centre_taps,
)


def _centre_tap_fit(model: nn.Sequential, spec, z: int):
    """The conv families' regression: theta_0's later convs keep only their centre tap
    (``pointwise_fit.choose_centre_taps``), so layer 0's constant maps (channel i = alpha_i
    for i < z, else 0) stay constant and g(alpha) is evaluated on channel vectors. Returns
    (logits_at, parameters, the mask kept after every step)."""
    masks = choose_centre_taps(model, scale=scales_centre_taps(spec.family))
    size0 = first_map_size(model, spec.input_shape)
    rest, width = model[1:], model[0].out_channels

    def logits_at(a: torch.Tensor) -> torch.Tensor:
        return constant_map_forward(rest, F.pad(a, (0, width - z)), size0)
    return logits_at, list(rest.parameters()), lambda: apply_masks(masks)


STOP_POINTS = 4096     # evaluation-grid points the early stop judges the fit on (conv families;
#                        every point of a 64^2 grid: cheap on channel vectors)
STOP_CHUNK = 4096      # alphas per forward pass while judging

ENOUGH_DB = 40.0       # estimated PSNR at which a conv family's fit counts as drawn (error
#                        below 1% of the loss range: no eye tells it from the target)


def early_stop(resolved: Resolved, logits_at, marginal: torch.Tensor) -> EarlyStop:
    """The conv families' stop rule: the PSNR of sigma(g(alpha)) against T on ``STOP_POINTS``
    evenly spaced points of the evaluation grid (sigma(g) is the training loss exactly here,
    so this estimates the measured surface's PSNR without touching an image)."""
    cfg = resolved.config
    pts = range_points(cfg.grid, cfg.z)
    keep = np.linspace(0, len(pts) - 1, min(STOP_POINTS, len(pts))).round().astype(int)
    target = resolved.target().reshape(resolved.heads, -1)[:, keep].T        # (P, heads)
    device = marginal.device
    alphas = torch.as_tensor(pts[keep], dtype=torch.float32, device=device)
    targets = torch.as_tensor(target, dtype=torch.float32, device=device)

    def estimate() -> float:
        with torch.no_grad():
            err = sum(float(sigma_fit_loss(logits_at(alphas[s:s + STOP_CHUNK]),
                                           targets[s:s + STOP_CHUNK], resolved, marginal))
                      * len(alphas[s:s + STOP_CHUNK]) for s in range(0, len(alphas), STOP_CHUNK))
        return -10 * math.log10(max(err / len(alphas), 1e-24))
    return EarlyStop(estimate, enough_db=ENOUGH_DB, saturation_from=SATURATION_FROM)


def construct(resolved: Resolved) -> Generator[Frame, None, Construction]:
    cfg = resolved.config
    z, device = cfg.z, cfg.device
    spec = resolved.network
    model = build_network(spec, seed=cfg.seed).to(device)
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.zero_()
    model.eval()   # BatchNorm: running statistics, in training as in every measurement
    marginal = torch.as_tensor(resolved.dataset.marginal("train"), dtype=torch.float32,
                               device=device)
    directions = first_layer_bias_directions(z)
    after_step = None
    if spec.family == "mlp":
        act0, lin1, rest = model[1], model[2], model[3:]
        with torch.no_grad():  # every activation we offer maps 0 to 0: idle units are 0
            assert float(act0(torch.zeros(1, device=device))) == 0.0

        def logits_at(a: torch.Tensor) -> torch.Tensor:
            # h1 = phi(b1) = [phi(alpha), 0, ...]; only its first z columns reach layer 2.
            return rest(F.linear(act0(a), lin1.weight[:, :z], lin1.bias))
        params = [lin1.weight, lin1.bias, *rest.parameters()]
    else:
        logits_at, params, after_step = _centre_tap_fit(model, spec, z)

    def loss_fn(rng):
        alpha, targets = sample_targets(resolved, rng, cfg.batch)
        a = torch.as_tensor(alpha, dtype=torch.float32, device=device)
        return sigma_fit_loss(logits_at(a), torch.as_tensor(targets, dtype=torch.float32,
                                                            device=device), resolved, marginal)

    stop = None if spec.family == "mlp" else early_stop(resolved, logits_at, marginal)
    timings = yield from regression(
        resolved, params, loss_fn, lambda: measured_train_surface(resolved, model, directions),
        stop, after_step)
    model.eval()
    if spec.family != "mlp":
        image = as_input(torch.as_tensor(np.asarray(resolved.dataset.split("train")[0][:1]),
                                         dtype=torch.float32, device=device), spec)
        timings["centre_tap_check_rel"] = check_reduction(
            model, z, first_map_size(model, spec.input_shape), image)
    extras = {} if spec.family == "mlp" else {"theta0": CENTRE_TAP_NOTE[1]}
    return Construction(resolved, model, directions, [[0.0, 1.0]] * z, target_grid(resolved),
                        spec.layers(), timings, extras)
