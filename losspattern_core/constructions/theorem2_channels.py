"""Theorem 2 on the convolutional families: channel blocks (``channel_blocks``) make
logits(alpha, x) = c(x) + g(alpha) exactly, and the MLP path's two phases run on them.

  1. classifier phase: every parameter of the x block (and the output bias) is trained by
     ordinary minibatch cross-entropy, pattern channels at alpha = 0 (gradient masks keep the
     alpha block and the coupling entries untouched), with the step budget of ordinary training
     of the family (``theorem2_shared.classifier_steps``), the baseline's too;
  2. regression phase: the alpha block is trained so that the mean training loss follows the
     shifted target T' (ending early once the fit has saturated, ``common.EarlyStop``, judged
     exactly on ``theorem2_shared.STOP_POINTS`` grid points). With a zero image, layer 0
     outputs its biases as constant maps, so g(alpha) + c(0) is the network on [alpha, b_x]
     maps; c(x) - c(0) is computed once. theta_0's alpha block keeps only the centre tap of
     every later conv (``pointwise_fit``), so its channels are constant maps for every image
     and g(alpha) is evaluated on channel vectors (``_reduced_pattern``: exact, checked
     against the image-sized pass after the fit) at an MLP's cost per alpha.
BatchNorm runs in eval mode in both phases (its running statistics never change), which is also
how every surface is measured.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch
import torch.nn.functional as F

import losspattern_core.training as training
from losspattern_core.config import Resolved
from losspattern_core.errors import ConstructionError
from losspattern_core.networks import as_input, build_network

from . import theorem2_shared as shared
from .channel_blocks import channel_blocks, check, mask_gradients, zero_coupling
from .common import Construction, EarlyStop, Frame, first_layer_bias_directions, regression
from .pointwise_fit import (
    CENTRE_TAP_NOTE,
    SATURATION_FROM,
    centre_taps_in_block,
    check_alphas,
    constant_map_forward,
    first_map_size,
    refuse_if_differs,
    relative_difference,
    scales_centre_taps,
)
from .theorem2_shared import (
    loss_and_accuracy,
    regression_loss,
    run_figures,
    shift_target,
    stop_estimate,
    train_surface_exact,
)


def _layer0_maps(model, spec, z: int, alpha: torch.Tensor) -> torch.Tensor:
    """Layer 0's output on a zero image at alpha: constant maps [alpha, b_x] (B, C0, H0, W0)."""
    b = torch.cat([alpha, model[0].bias[z:].expand(len(alpha), -1)], dim=1)
    size = model[0](torch.zeros((1, *spec.input_shape), device=alpha.device)).shape[-2:]
    return b[:, :, None, None].expand(-1, -1, *size)


def _logits_at(model, X: torch.Tensor, z: int, alpha, chunk: int = 2048) -> torch.Tensor:
    """The network's logits on every sample at one alpha (pattern biases set to alpha)."""
    params = dict(model.named_parameters())
    bias = params["0.bias"].detach().clone()
    bias[:z] += torch.as_tensor(alpha, dtype=bias.dtype, device=bias.device)
    with torch.no_grad():
        return torch.cat([torch.func.functional_call(model, {**params, "0.bias": bias},
                                                     (X[s:s + chunk],))
                          for s in range(0, len(X), chunk)])


def _reduced_pattern(model, spec, z: int, full_pattern):
    """g(alpha) + c(0) on channel vectors. The alpha channels are constant maps with centre
    taps, and the blocks meet only in the output layer, so the channel-vector evaluation of
    [alpha, b_x] gets the alpha block's contribution exactly; its x part differs from the
    image-sized pass by a constant (the x block and the output bias do not train in this
    phase), measured once at alpha = 0 and added back."""
    size0 = first_map_size(model, spec.input_shape)

    def reduced(a: torch.Tensor) -> torch.Tensor:
        b = torch.cat([a, model[0].bias[z:].expand(len(a), -1)], dim=1)
        return constant_map_forward(model[1:], b, size0)
    with torch.no_grad():
        zero = torch.zeros((1, z), device=model[0].bias.device)
        offset = (full_pattern(zero) - reduced(zero)).detach()
    return lambda a: reduced(a) + offset


def _check_reduced(pattern, full_pattern, z: int, device, rtol: float = 1e-4) -> float:
    """The reduced g(alpha) + c(0) against the image-sized pass at a few alphas; raises if
    they differ by more than ``rtol`` of the logits' scale."""
    alphas = check_alphas(z, device=device)
    with torch.no_grad():
        return refuse_if_differs(relative_difference(full_pattern(alphas), pattern(alphas)),
                                 rtol)


def construct(resolved: Resolved, run_baseline: bool = True,
              ) -> Generator[Frame, None, Construction]:
    cfg, spec, ds = resolved.config, resolved.network, resolved.dataset
    z, device = cfg.z, cfg.device
    Xtr, ytr = ds.split("train")
    X = as_input(torch.as_tensor(np.asarray(Xtr), device=device).float(), spec)
    y = torch.as_tensor(np.asarray(ytr), device=device).long()
    base = None
    if run_baseline:
        base = yield from training.train_ordinary(ds, spec, seed=cfg.seed, device=device,
                                                  steps=shared.classifier_steps(spec))
    model = build_network(spec, seed=cfg.seed).to(device).eval()
    blocks = channel_blocks(model, spec.input_shape, z)
    zero_coupling(model, blocks)
    centre_taps_in_block(model, blocks.alpha, scales_centre_taps(spec.family))

    handles = mask_gradients(model, blocks, "x")           # 1. the classifier (x block)
    try:
        fit = yield from training.fit_classifier(
            model, list(model.parameters()), X, y, steps=shared.classifier_steps(spec),
            lr=shared.CLASSIFIER_LR, batch=shared.CLASSIFIER_BATCH, seed=cfg.seed,
            phase="classifier", check_samples=training.check_samples_for(spec))
    finally:
        for h in handles:
            h.remove()
    with torch.no_grad():
        logits_x = _logits_at(model, X, z, [0.0] * z)
        zero_img = model(torch.zeros((1, *spec.input_shape), device=device))
        best = float(F.cross_entropy(logits_x.double(), y))
    logits_c = logits_x - zero_img                         # c(x) - c(0)

    def full_pattern(a: torch.Tensor) -> torch.Tensor:     # g(alpha) + c(0), image-sized
        return model[1:](_layer0_maps(model, spec, z, a))

    pattern = _reduced_pattern(model, spec, z, full_pattern)
    st = shift_target(resolved, best)                      # 2. the pattern (alpha block)
    loss_fn, n_sub = regression_loss(resolved, st, logits_c, y, pattern)
    handles = mask_gradients(model, blocks, "alpha")
    try:
        timings = yield from regression(
            st.resolved, list(model.parameters()), loss_fn,
            lambda: train_surface_exact(pattern, logits_c, y, cfg.grid, z),
            EarlyStop(stop_estimate(st, pattern, logits_c, y), saturation_from=SATURATION_FROM))
    finally:
        for h in handles:
            h.remove()
    check(model, blocks)
    timings["centre_tap_check_rel"] = _check_reduced(pattern, full_pattern, z, device)
    if bool(model[0].bias[:z].any()):
        raise ConstructionError("Theorem 2's pattern-channel biases moved during training")
    at_star = {}
    for split in ("train", "test"):
        Xs, ys = ds.split(split)
        Xs = as_input(torch.as_tensor(np.asarray(Xs), device=device).float(), spec)
        loss, acc = loss_and_accuracy(_logits_at(model, Xs, z, st.alpha_star), ys)
        at_star.update({f"{split}_loss": loss, f"{split}_accuracy": acc})
    structure = {"pattern_channels_layer0": z,
                 "alpha_entries": int(sum(int(m.sum()) for m in blocks.alpha.values())),
                 "x_entries": int(sum(int(m.sum()) for m in blocks.x.values()))}
    extras = run_figures(st, fit, timings, at_star, base, structure, n_sub)
    extras["theta0"] = CENTRE_TAP_NOTE[2]
    return Construction(st.resolved, model, first_layer_bias_directions(z), [[0.0, 1.0]] * z,
                        st.resolved.target(), spec.layers(), timings, extras)
