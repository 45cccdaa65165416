"""The evaluator's 2x2 max pool shortcut (the max of four strided views) equals ``max_pool2d``
bit for bit, on even and odd maps (floor mode drops the odd last row and column), and a conv
network whose pools meet odd maps evaluates as the naive loop does."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.networks import NetworkSpec, as_input, build_network
from losspattern_core.surface import evaluate_points, naive_surface, random_direction
from losspattern_core.surface.pointwise import _halving_max_pool, _max_of_four


@pytest.mark.parametrize("size", [(8, 8), (7, 7), (7, 10), (9, 6), (2, 3)])
def test_max_of_four_equals_max_pool2d_bit_for_bit(size):
    h = torch.randn(3, 5, 4, *size, generator=torch.Generator().manual_seed(0))
    want = F.max_pool2d(h.flatten(0, 1), 2).unflatten(0, (3, 5))
    assert torch.equal(_max_of_four(h), want)
    cl = h.flatten(0, 1).contiguous(memory_format=torch.channels_last)
    assert torch.equal(_max_of_four(cl), F.max_pool2d(cl, 2))
    # per-point activations (P, B, C, H, W) laid out channels-last within each sample
    per_point = cl.unflatten(0, (3, 5))
    assert per_point.movedim(-3, -1).is_contiguous()
    assert torch.equal(_max_of_four(per_point), want)


def test_only_plain_halving_pools_take_the_shortcut():
    assert _halving_max_pool(nn.MaxPool2d(2))
    assert _halving_max_pool(nn.MaxPool2d((2, 2), stride=2))
    assert not _halving_max_pool(nn.MaxPool2d(2, ceil_mode=True))
    assert not _halving_max_pool(nn.MaxPool2d(3, stride=2))
    assert not _halving_max_pool(nn.MaxPool2d(2, padding=1))
    assert not _halving_max_pool(nn.MaxPool2d(2, return_indices=True))


def test_a_conv_network_whose_pools_meet_odd_maps_equals_the_naive_loop():
    """10x10 inputs: 10 -> 5 -> 2, so the second pool drops a row and a column."""
    spec = NetworkSpec(100, 10, family="cnn", activation="relu", input_shape=(1, 10, 10),
                       channels=(4, 6), hidden=8, maxpool=True)
    m = build_network(spec, seed=0).eval()
    pools = [mod for mod in m.modules() if isinstance(mod, nn.MaxPool2d)]
    assert len(pools) == 2
    gen = torch.Generator().manual_seed(1)
    X = as_input(torch.randn(300, 100, generator=gen), spec)
    y = torch.randint(0, 10, (300,), generator=gen)
    dirs = [random_direction(m, 1), random_direction(m, 2)]
    pts = np.random.default_rng(2).uniform(-1, 1.5, size=(6, 2))
    ours, _ = evaluate_points(m, dirs, X, y, pts, classes=10)
    ref = naive_surface(m, dirs, X, y, pts, classes=10)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
