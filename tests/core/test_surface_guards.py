"""Device guards of the general path: the fused bias + ReLU (``aten._add_relu``, a CPU-only op)
is used on CPU tensors only, and the unfused fallback (what CUDA runs) gives the same numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_surface import BIAS, check, data, net

import losspattern_core.surface.kernels as kernels
from losspattern_core.surface import evaluate_points, prepare, random_direction


def test_fused_add_relu_only_on_cpu_tensors():
    assert kernels.fused_add_relu_ok(torch.zeros(2))
    assert not kernels.fused_add_relu_ok(torch.zeros(2, device="meta"))
    if torch.cuda.is_available():
        assert not kernels.fused_add_relu_ok(torch.zeros(2, device="cuda"))


@pytest.mark.parametrize("which", ["split", "dense", "later"])
def test_unfused_relu_path_gives_the_same_numbers(which, monkeypatch):
    X, y = data()
    m = net("relu", depth=3, zero_units=2 if which == "split" else None)
    dirs = {"split": BIAS(2), "dense": [random_direction(m, 1), random_direction(m, 2)],
            "later": [random_direction(m, 3, params=["2.weight", "4.bias"])]}[which]
    pts = np.random.default_rng(4).uniform(-1, 1.5, size=(9, len(dirs)))
    prep = prepare(m, dirs, X, y, 4)
    fused, _ = evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep)
    used = []
    monkeypatch.setattr(kernels, "fused_add_relu_ok", lambda t: used.append(t.device) or False)
    unfused, _ = evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep)
    assert used                        # the guard was consulted on this path
    np.testing.assert_allclose(unfused, fused, rtol=1e-6, atol=1e-6)
    check(m, dirs, X, y, 4)
