"""Theorem 1: every pattern, axis-aligned, for any dataset.

W1 = 0, so the first hidden layer is phi(b1) for every input; b1 = [alpha_1..alpha_z, 0, ...].
The directions move exactly one scalar each (bias i of layer 0). The rest of the network is
fitted by regression so that sigma(g(alpha)) = T(alpha), where sigma needs only the label
marginal of the training split (Observation 2): no image is touched while training.
"""

from __future__ import annotations

from collections.abc import Generator

import torch
import torch.nn.functional as F

from losspattern_core.config import Resolved
from losspattern_core.networks import build_mlp

from .common import (
    Construction,
    Frame,
    first_layer_bias_directions,
    measured_train_surface,
    regression,
    sample_targets,
    sigma_fit_loss,
    target_grid,
)


def construct(resolved: Resolved) -> Generator[Frame, None, Construction]:
    cfg = resolved.config
    z, device = cfg.z, cfg.device
    model = build_mlp(resolved.network, seed=cfg.seed).to(device)
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.zero_()
    act0, lin1, rest = model[1], model[2], model[3:]
    with torch.no_grad():  # every activation we offer maps 0 to 0: idle first-layer units are 0
        assert float(act0(torch.zeros(1, device=device))) == 0.0
    marginal = torch.as_tensor(resolved.dataset.marginal("train"), dtype=torch.float32,
                               device=device)
    directions = first_layer_bias_directions(z)

    def loss_fn(rng):
        alpha, targets = sample_targets(resolved, rng, cfg.batch)
        a = torch.as_tensor(alpha, dtype=torch.float32, device=device)
        # h1 = phi(b1) = [phi(alpha), 0, ...]; only its first z columns reach layer 2.
        h = F.linear(act0(a), lin1.weight[:, :z], lin1.bias)
        logits = rest(h)
        return sigma_fit_loss(logits, torch.as_tensor(targets, dtype=torch.float32,
                                                      device=device), resolved, marginal)

    params = [lin1.weight, lin1.bias, *rest.parameters()]
    timings = yield from regression(
        resolved, params, loss_fn, lambda: measured_train_surface(resolved, model, directions))
    model.eval()
    return Construction(resolved, model, directions, [[0.0, 1.0]] * z, target_grid(resolved),
                        resolved.network.layers(), timings)
