"""The one factorised cross-entropy of separable logits c(x) + g(alpha) (losses.py): equal to the
direct cross-entropy, with label counts and heads, differentiable, and exact where float32's
exp underflows."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from losspattern_core.losses import (
    mean_cross_entropy_separable,
    separable_cross_entropy_sums,
    separable_rows,
)


def direct_sums(c, g, counts):
    """sum_i counts_ik CE(c_ih + g_ah, k) from the full (P, U, H, K) logits, in float64."""
    lg = c.double().unsqueeze(0) + g.double().unsqueeze(1)           # (P, U, H, K)
    ell = -torch.log_softmax(lg, dim=-1)
    return torch.einsum("puhk,uk->phk", ell, counts.double())


def random_case(u=23, heads=3, classes=5, points=7, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    c = torch.randn(u, heads, classes, generator=gen, dtype=dtype) * 3
    g = torch.randn(points, heads, classes, generator=gen, dtype=dtype) * 3
    counts = torch.randint(0, 4, (u, classes), generator=gen).double()
    return c, g, counts


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("rows_per_tile", [None, 1, 5])
def test_counts_weighted_sums_with_heads_equal_the_direct_formula(dtype, rows_per_tile):
    c, g, counts = random_case(dtype=dtype)
    ours = separable_cross_entropy_sums(separable_rows(c, counts), g, rows_per_tile)
    assert ours.dtype == torch.float64 and ours.shape == (7, 3, 5)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(ours, direct_sums(c, g, counts), rtol=tol, atol=tol)


def test_mean_cross_entropy_separable_is_the_mean_ce_and_its_gradient():
    gen = torch.Generator().manual_seed(1)
    c = torch.randn(40, 6, generator=gen)
    y = torch.randint(0, 6, (40,), generator=gen)
    g = torch.randn(9, 6, generator=gen, requires_grad=True)
    ours = mean_cross_entropy_separable(c, y, g)
    assert ours.dtype == torch.float64 and ours.shape == (9,)
    g_ref = g.detach().clone().requires_grad_(True)
    ref = torch.stack([F.cross_entropy(c.double() + ga, y) for ga in g_ref.double()])
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    w = torch.linspace(0.5, 2.0, 9, dtype=torch.float64)
    (ours * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(g.grad, g_ref.grad, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_underflowing_factorisation_falls_back_to_the_exact_sum(dtype, monkeypatch):
    """c prefers class 0 and g class 1 by far more than the dtype's exp range: the factorised
    sum is 0 (log = -inf); the kernel must notice and give the exact, finite value."""
    gap = 200.0 if dtype == torch.float32 else 1000.0
    c = torch.tensor([[[0.0, -gap, -gap]], [[0.0, -gap, -gap]]], dtype=dtype)
    g = torch.tensor([[[-gap, 0.0, -gap]], [[0.0, 0.0, 0.0]]], dtype=dtype)
    counts = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, 1.0]])
    rows = separable_rows(c, counts)
    S = (g[0, 0] - g[0, 0].max()).exp() @ rows.ec_t[0]
    assert float(S.min()) == 0.0        # the naive factorisation really underflows here
    calls = []
    lse = torch.logsumexp
    monkeypatch.setattr(torch, "logsumexp", lambda *a, **k: calls.append(1) or lse(*a, **k))
    ours = separable_cross_entropy_sums(rows, g)
    monkeypatch.undo()
    assert calls and torch.isfinite(ours).all()
    torch.testing.assert_close(ours, direct_sums(c, g, counts), rtol=1e-9, atol=1e-9)


def test_mean_cross_entropy_separable_survives_extreme_logits():
    c = torch.tensor([[0.0, -1000.0], [-1000.0, 0.0]], dtype=torch.float64)
    y = torch.tensor([0, 1])
    g = torch.tensor([[-1000.0, 1000.0]], dtype=torch.float64)
    ours = mean_cross_entropy_separable(c, y, g)
    ref = F.cross_entropy(c + g, y)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours[0], ref, rtol=1e-12, atol=1e-9)
