"""Hessian eigenpairs and trace from Hessian-vector products, against a dense Hessian
(``torch.autograd.functional.hessian`` in float64) of the same full-split loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_explore_directions import data, mlp, snapshot, unchanged

from losspattern_core.errors import ConfigError
from losspattern_core.explore import (
    HessianOperator,
    ParamLayout,
    hessian_directions,
    hutchinson_trace,
    model_at,
    train_trajectory,
)
from losspattern_core.frames import drive


@pytest.fixture(scope="module")
def setup():
    X, y = data()
    model = drive(train_trajectory(mlp(0), X, y, steps=60, lr=0.02, batch=30, seed=0)).model
    layout = ParamLayout.of(model)
    net = model_at(model, {}).double()
    Xd, yd = torch.tensor(X, dtype=torch.float64), torch.tensor(y)

    def loss(theta):
        return F.cross_entropy(torch.func.functional_call(net, layout.unflatten(theta), (Xd,)), yd)

    theta = layout.flatten(dict(model.named_parameters()), dtype=torch.float64)
    H = torch.autograd.functional.hessian(loss, theta).numpy()
    return model, X, y, layout, H


def test_top_eigenpairs_equal_the_dense_hessians(setup):
    model, X, y, layout, H = setup
    before = snapshot(model)
    evals, evecs = np.linalg.eigh(H)
    order = np.argsort(-np.abs(evals))[:2]
    eig = hessian_directions(model, X, y, k=2, seed=1)
    np.testing.assert_allclose(eig.eigenvalues, evals[order], rtol=1e-3)
    assert all(eig.converged) and (eig.residuals <= 1e-4 * np.abs(eig.eigenvalues)).all()
    for d, i in zip(eig.directions, order, strict=True):
        v = layout.flatten(d.tensors, dtype=torch.float64).numpy()
        assert abs(np.linalg.norm(v) - 1) < 1e-5
        assert abs(v @ evecs[:, i]) > 0.999
    assert unchanged(model, before)


def test_hvp_is_exact_over_the_whole_split_in_any_chunking(setup):
    model, X, y, layout, H = setup
    v = torch.randn(layout.size, generator=torch.Generator().manual_seed(0))
    whole = HessianOperator(model, X, y, chunk=10_000)(v)
    chunked = HessianOperator(model, X, y, chunk=7)(v)        # 90 samples: 13 uneven chunks
    np.testing.assert_allclose(chunked.numpy(), whole.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(whole.double().numpy(), H @ v.double().numpy(), rtol=1e-3,
                               atol=1e-5)


def test_hutchinson_trace_is_within_its_stated_error_of_the_dense_trace(setup):
    model, X, y, layout, H = setup
    tr = hutchinson_trace(HessianOperator(model, X, y), samples=100, seed=0)
    assert tr["samples"] == 100 and tr["stderr"] > 0
    assert abs(tr["trace"] - np.trace(H)) < 4 * tr["stderr"]
    with pytest.raises(ConfigError, match="at least 2 samples"):
        hutchinson_trace(HessianOperator(model, X, y), samples=1)


def test_too_large_a_network_is_refused_before_any_work(setup):
    model, X, y, layout, _ = setup
    with pytest.raises(ConfigError, match=r"247 parameters.*GiB.*max_bytes"):
        hessian_directions(model, X, y, k=3, max_bytes=1000)


def test_a_subset_of_parameters_gives_that_block_of_the_hessian(setup):
    model, X, y, layout, H = setup
    names = ["4.weight", "4.bias"]                 # the output layer: the last 33 entries
    eig = hessian_directions(model, X, y, k=1, params=names)
    block = H[-33:, -33:]
    top = np.linalg.eigvalsh(block)
    np.testing.assert_allclose(eig.eigenvalues[0], top[np.argmax(np.abs(top))], rtol=1e-3)
    assert set(eig.directions[0].tensors) == set(names)
