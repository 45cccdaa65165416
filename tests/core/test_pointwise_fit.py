"""The centre-tap reduction of Theorem 1 on conv families (constructions/pointwise_fit.py):
the network on full-size real images equals its evaluation on channel vectors, exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import losspattern_core as lp
from losspattern_core.constructions.pointwise_fit import (
    check_reduction,
    choose_centre_taps,
    constant_map_forward,
    first_map_size,
    later_convs,
)
from losspattern_core.data.datasets import load_dataset
from losspattern_core.errors import ConstructionError
from losspattern_core.networks import NetworkSpec, build_network

FAMILIES = [
    dict(family="cnn", channels=(8, 16, 32), batchnorm=False, maxpool=True),
    dict(family="cnn", channels=(8, 16, 32), batchnorm=True, maxpool=True),
    dict(family="cnn", channels=(8, 16), batchnorm=True, maxpool=False),
    dict(family="cnn", channels=(8, 16), batchnorm=False, maxpool=False),
    dict(family="resnet", width=8, blocks=3),       # stem pool, a strided block, 1x1 shortcut
]


@pytest.fixture(scope="module")
def fashion_images():
    X, _ = load_dataset("fashion-mnist").split("train")
    return torch.as_tensor(np.asarray(X[:6]), dtype=torch.float32).view(-1, 1, 28, 28)


def _theta0(kw: dict, activation: str, scale: bool, seed: int = 3):
    """A Theorem 1 theta_0 with centre taps, first-layer bias alpha, non-trivial BatchNorm."""
    spec = NetworkSpec(784, 10, activation=activation, input_shape=(1, 28, 28), **kw)
    model = build_network(spec, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.uniform_(-1, 1, generator=gen)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):       # stored statistics far from 0 / 1
                m.running_mean.uniform_(-0.5, 0.5, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.3, 0.3, generator=gen)
    choose_centre_taps(model, scale)
    return spec, model.eval()


@pytest.mark.parametrize("kw", FAMILIES, ids=lambda kw: "-".join(f"{v}" for v in kw.values()))
@pytest.mark.parametrize("activation, scale", [("relu", False), ("sin", True)])
def test_full_network_on_real_images_equals_the_channel_vector_evaluation(
        kw, activation, scale, fashion_images):
    spec, model = _theta0(kw, activation, scale)
    with torch.no_grad():
        full = model(fashion_images).double()
        reduced = constant_map_forward(model[1:], model[0].bias[None],
                                       first_map_size(model, spec.input_shape)).double()
    assert float((full - full[0]).abs().max()) == 0.0          # every image, the same logits
    scale_ = float(full.abs().max())
    assert float((full[0] - reduced[0]).abs().max()) <= 1e-5 * scale_
    y = torch.arange(len(full)) % 10                           # and so the same loss
    assert abs(float(torch.nn.functional.cross_entropy(full, y))
               - float(torch.nn.functional.cross_entropy(reduced.expand_as(full), y))) < 1e-5


def test_only_the_inside_tap_is_nonzero_and_a_stray_tap_is_caught(fashion_images):
    spec, model = _theta0(FAMILIES[1], "relu", scale=True)
    convs = later_convs(model)
    assert len(convs) == 2
    for conv in convs:
        w = conv.weight.detach().clone()
        assert torch.count_nonzero(w[:, :, 1, 1]) > 0
        w[:, :, 1, 1] = 0
        assert torch.count_nonzero(w) == 0
    size0 = first_map_size(model, spec.input_shape)
    assert check_reduction(model, 2, size0, fashion_images[:1]) <= 1e-5
    with torch.no_grad():
        convs[0].weight[:, :, 0, 0] = 0.5                      # a corner tap reads padding
    with pytest.raises(ConstructionError, match="differs from the full network"):
        check_reduction(model, 2, size0, fashion_images[:1])


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_theorem1_conv_run_keeps_centre_taps_and_says_so(family, small_conv_theorem1):
    _, con = small_conv_theorem1(family, "sin", 60)
    for conv in later_convs(con.model):
        w = conv.weight.detach().clone()
        ph, pw = conv.padding
        w[:, :, ph, pw] = 0
        assert torch.count_nonzero(w) == 0                     # exactly 0 after the fit
    assert con.timings["centre_tap_check_rel"] <= 1e-4
    assert "centre tap" in con.extras["theta0"]


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_theorem2_alpha_block_is_fitted_on_channel_vectors_exactly(family, monkeypatch):
    """Theorem 2's regression evaluates g(alpha) + c(0) on channel vectors: it equals the
    image-sized pass, and the alpha block's off-centre taps stay exactly 0."""
    import losspattern_core.constructions.theorem2 as t2
    import losspattern_core.constructions.theorem2_shared as t2s
    from losspattern_core.constructions.channel_blocks import channel_blocks
    from losspattern_core.constructions.pointwise_fit import centre_tap_masks

    monkeypatch.setattr(t2s, "CONV_CLASSIFIER_STEPS", 20)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", theorem=2, steps=60,
                                batch=64, grid=5, snapshot_every=0)
    r = lp.validate(cfg)
    spec = NetworkSpec(64, 10, family=family, activation="sin", channels=(8, 16), width=8,
                       input_shape=(1, 8, 8), hidden=32, batchnorm=True)
    con = lp.drive(t2.construct(dataclasses.replace(r, network=spec), run_baseline=False))
    assert con.timings["centre_tap_check_rel"] <= 1e-4
    blocks = channel_blocks(con.model, spec.input_shape, 2)
    names = {id(m): n for n, m in con.model.named_modules()}
    for conv, mask in centre_tap_masks(con.model):
        alpha = blocks.alpha[f"{names[id(conv)]}.weight"]
        assert alpha.any()
        assert torch.count_nonzero(conv.weight.detach()[alpha & (mask == 0)]) == 0
        assert torch.count_nonzero(conv.weight.detach()[alpha & (mask == 1)]) > 0
