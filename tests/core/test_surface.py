"""The structured evaluator equals the naive per-point loop on small random cases."""

import numpy as np
import pytest
import torch
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.networks import NetworkSpec, build_mlp
from losspattern_core.surface import (
    Direction,
    evaluate_points,
    naive_surface,
    prepare,
    random_direction,
    range_points,
    surface,
)


def data(n=60, d=7, classes=4, dup=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, classes, n)
    if dup:  # repeated inputs, some with another label: unique rows must weigh label counts
        X[n // 2: n // 2 + 10] = X[:10]
        X[-3:] = X[3]
    return X, y


def net(act="relu", classes=4, heads=1, d=7, width=9, depth=2, seed=0, zero_units=None):
    m = build_mlp(NetworkSpec(d, classes, depth, width, act, heads), seed=seed)
    if zero_units is not None:  # Theorem 2 (z units) or Theorem 1 (all units) structure
        with torch.no_grad():
            m[0].weight[:zero_units] = 0
    return m


def check(model, dirs, X, y, classes, heads=1, loss="cross_entropy", npts=9, seed=1, **kw):
    pts = np.random.default_rng(seed).uniform(-1, 1.5, size=(npts, len(dirs)))
    ours, per_class = evaluate_points(model, dirs, X, y, pts, classes=classes, heads=heads,
                                      loss=loss, **kw)
    ref = naive_surface(model, dirs, X, y, pts, classes=classes, heads=heads, loss=loss)
    np.testing.assert_allclose(ours, ref, rtol=2e-5, atol=2e-5)
    # per-class means recombine to the total
    counts = np.bincount(y, minlength=classes)
    np.testing.assert_allclose(per_class @ counts / len(y), ours, rtol=1e-9, atol=1e-9)
    return ours


BIAS = lambda z: [Direction("0.bias", i, 1.0) for i in range(z)]  # noqa: E731


@pytest.mark.parametrize("act", ["relu", "tanh", "gelu", "sin"])
@pytest.mark.parametrize("z", [1, 2, 3])
def test_first_layer_biases_theorem2_structure(act, z):
    X, y = data()
    m = net(act, zero_units=z)
    prep = prepare(m, BIAS(z), X, y, 4)
    assert prep.split and prep.info["moved_units_row_constant"]  # C + 1 v(alpha)^T
    check(m, BIAS(z), X, y, 4)


@pytest.mark.parametrize("act", ["relu", "sin"])
@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_theorem1_structure_collapses_to_one_row(act, heads, loss):
    X, y = data()
    m = net(act, heads=heads, zero_units=9)
    prep = prepare(m, BIAS(2), X, y, 4)
    assert prep.rows == 1
    check(m, BIAS(2), X, y, 4, heads=heads, loss=loss)


@pytest.mark.parametrize("act", ["relu", "tanh", "gelu", "sin"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_bias_directions_on_an_ordinary_network(act, loss):
    X, y = data()
    m = net(act)
    check(m, [Direction("0.bias", 2), Direction("0.bias", 5, -0.7)], X, y, 4, loss=loss)


@pytest.mark.parametrize("act", ["relu", "tanh", "gelu", "sin"])
@pytest.mark.parametrize("heads", [1, 3])
def test_dense_filter_normalised_directions_all_layers(act, heads):
    X, y = data()
    m = net(act, heads=heads, depth=3)
    dirs = [random_direction(m, seed=s) for s in (1, 2)]
    prep = prepare(m, dirs, X, y, 4)
    assert prep.info["dense_first_layer"] and prep.rows < len(y)  # duplicates found
    check(m, dirs, X, y, 4, heads=heads)
    check(m, dirs, X, y, 4, heads=heads, loss="mse")


@pytest.mark.parametrize("z", [1, 2, 3])
def test_mixed_and_later_layer_directions(z):
    X, y = data()
    m = net("tanh", depth=3)
    pool = [Direction("2.weight", 5, 0.3), Direction("0.bias", 1),
            random_direction(m, 7, params=["4.weight", "4.bias"]),
            random_direction(m, 8, params=["6.weight"])]
    check(m, pool[:z], X, y, 4)
    check(m, pool[-z:], X, y, 4)
    check(m, [Direction("0.weight", 3, 0.5)] + pool[: z - 1], X, y, 4)


def test_dense_first_layer_only_and_output_layer_only():
    X, y = data()
    m = net("gelu")
    check(m, [random_direction(m, 3, params=["0.weight", "0.bias"])], X, y, 4)
    check(m, [random_direction(m, 4, params=["4.weight"]),
              random_direction(m, 5, params=["4.bias"])], X, y, 4)


def test_later_layer_direction_on_theorem1_net_uses_few_rows():
    X, y = data()
    m = net("sin", zero_units=9)
    dirs = [Direction("0.bias", 0), random_direction(m, 2, params=["2.weight", "4.weight"])]
    assert prepare(m, dirs, X, y, 4).rows == 1
    check(m, dirs, X, y, 4)


def test_all_distinct_rows_and_all_identical_rows():
    X, y = data(dup=False)
    m = net("relu")
    dirs = [random_direction(m, 1)]
    assert prepare(m, dirs, X, y, 4).rows == len(y)
    check(m, dirs, X, y, 4)
    Xs = np.repeat(X[:1], len(y), axis=0)
    assert prepare(m, dirs, Xs, y, 4).rows == 1
    check(m, dirs, Xs, y, 4)


def test_tiny_budget_gives_the_same_numbers():
    X, y = data(n=96)   # budget 1000 still cuts 81 points x 96 rows x width 9 into tiles
    m = net("tanh", depth=3)
    dirs = [random_direction(m, 1), Direction("0.bias", 0)]
    pts = range_points(9, 2, [[-1, 1], [-1, 1]])
    big, _ = evaluate_points(m, dirs, X, y, pts, classes=4)
    for budget in (1, 50, 1000):
        small, _ = evaluate_points(m, dirs, X, y, pts, classes=4, budget=budget)
        np.testing.assert_allclose(small, big, rtol=1e-6, atol=1e-6)


def test_large_grid_memory_stays_bounded():
    """Every tensor made while evaluating a big grid is budget-sized (tiles), apart from the
    (points, heads, classes) result itself."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Largest(TorchDispatchMode):
        numel = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor):
                    Largest.numel = max(Largest.numel, t.numel())
            return out

    X, y = data(n=200)
    for m, dirs in ((net("relu", width=16, zero_units=2), BIAS(2)),
                    (net("tanh", width=16), [random_direction(net("tanh", width=16), 1)]),
                    (theorem2_net("relu", 2, width=16, alpha=10), BIAS(2))):
        prep = prepare(m, dirs, X, y, 4)
        pts = range_points(64, len(dirs))  # untiled: 4096 points x 200 rows x 16 = 13M floats
        budget = 2**13
        Largest.numel = 0
        with Largest():
            small, _ = evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep,
                                       budget=budget)
        assert Largest.numel <= max(2 * budget, len(pts) * 4)
        big, _ = evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep, budget=2**26)
        np.testing.assert_allclose(small, big, rtol=1e-6, atol=1e-6)


def test_surface_shape_and_model_not_mutated():
    X, y = data()
    m = net("relu", heads=3)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    s = surface(m, BIAS(2), X, y, 5, classes=4, heads=3)
    assert s.shape == (3, 5, 5)
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k])


def test_errors_are_clear():
    X, y = data()
    m = net("relu")
    with pytest.raises(ConfigError, match="move no parameter"):
        evaluate_points(m, [Direction(tensors={"0.bias": torch.zeros(9)})], X, y, [[0.0]],
                        classes=4)
    with pytest.raises(ConfigError, match="points must be"):
        evaluate_points(m, BIAS(2), X, y, [[0.0]], classes=4)
    with pytest.raises(ConfigError, match="outputs"):
        evaluate_points(m, BIAS(1), X, y, [[0.0]], classes=4, heads=2)
    seq = nn.Sequential(nn.Linear(7, 4))
    check(seq, [Direction("0.bias", 1)], X, y, 4)


# --- separable networks (Theorem 2's block structure): logits = c(x) + g(alpha) -----------------

def theorem2_net(act="relu", z=2, heads=1, classes=4, d=7, width=12, alpha=8, depth=3, seed=0):
    from types import SimpleNamespace

    from losspattern_core.constructions.theorem2 import Blocks, build_network

    spec = NetworkSpec(d, classes, depth, width, act, heads)
    m = build_network(SimpleNamespace(config=SimpleNamespace(seed=seed, device="cpu"),
                                      network=spec), Blocks(z, width, width, alpha, depth))
    with torch.no_grad():  # wake the alpha block up (its first-layer bias is alpha, 0 at theta_0)
        m[0].bias[:z] = torch.linspace(-0.5, 0.5, z)
    return m


@pytest.mark.parametrize("act", ["relu", "tanh", "gelu", "sin"])
@pytest.mark.parametrize("z", [1, 2, 3])
def test_separable_theorem2_network(act, z):
    X, y = data()
    m = theorem2_net(act, z)
    prep = prepare(m, BIAS(z), X, y, 4)
    assert "separable" in prep.info
    check(m, BIAS(z), X, y, 4)
    check(m, BIAS(z), X, y, 4, loss="mse")


@pytest.mark.parametrize("heads", [1, 3])
def test_separable_with_heads_and_alpha_only_output_moves(heads):
    X, y = data()
    m = theorem2_net("tanh", 2, heads=heads, depth=2)
    out = len(m) - 1
    dirs = BIAS(1) + [random_direction(m, 4, params=[f"{out}.bias"]),
                      Direction(tensors={f"{out}.weight": torch.zeros_like(m[out].weight)
                                         .index_fill_(1, torch.tensor([0, 3]), 0.4)})]
    assert "separable" in prepare(m, dirs, X, y, 4).info  # alpha-unit columns 0, 3 move
    check(m, dirs, X, y, 4, heads=heads)
    check(m, dirs, X, y, 4, heads=heads, loss="mse")


def test_non_separable_falls_back():
    X, y = data()
    # a tiny nonzero in a 'zero' block couples the blocks: not separable, still exact
    m = theorem2_net("relu", 2)
    with torch.no_grad():
        m[2].weight[0, 11] = 1e-6
    prep = prepare(m, BIAS(2), X, y, 4)
    assert "separable" not in prep.info
    check(m, BIAS(2), X, y, 4)
    # a direction moving an x unit's output weight mixes alpha into c(x): not separable
    m = theorem2_net("relu", 2)
    out = len(m) - 1
    dirs = BIAS(1) + [Direction(f"{out}.weight", 11, 0.5)]   # row 0, column 11 (an x unit)
    assert "separable" not in prepare(m, dirs, X, y, 4).info
    check(m, dirs, X, y, 4)
    # an ordinary network with zero rows (Theorem 2's directions, no blocks): not separable
    m = net("relu", zero_units=2, depth=3)
    assert "separable" not in prepare(m, BIAS(2), X, y, 4).info


def test_separable_extreme_logits_use_the_exact_path(monkeypatch):
    """exp-factorised sums that underflow float32 go through the float64 log-sum-exp."""
    X, y = data()
    m = theorem2_net("relu", 2)
    out = len(m) - 1
    with torch.no_grad():  # c(x) prefers class 0 by 200 nats, g(alpha) class 1 by far more
        m[out].weight[:, 8:] *= 0.01
        m[out].bias[:] = torch.tensor([0.0, -200.0, -200.0, -200.0])
        m[out].weight[:, :8] = -1e4
        m[out].weight[1, :8] = 0.0
    prep = prepare(m, BIAS(2), X, y, 4)
    assert "separable" in prep.info
    calls = []
    lse = torch.logsumexp
    monkeypatch.setattr(torch, "logsumexp", lambda *a, **k: calls.append(1) or lse(*a, **k))
    pts = np.random.default_rng(3).uniform(-1, 1.5, size=(9, 2))
    ours, _ = evaluate_points(m, BIAS(2), X, y, pts, classes=4, prepared=prep)
    monkeypatch.undo()
    assert calls
    ref = naive_surface(m, BIAS(2), X, y, pts, classes=4)
    np.testing.assert_allclose(ours, ref, rtol=2e-5, atol=1e-4)
