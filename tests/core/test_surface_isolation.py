"""The evaluator works from detached copies of the parameters: it never moves or converts the
caller's modules (which a GUI thread may share), and what it prepared does not change when the
model does."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from test_surface import BIAS, check, data, net, theorem2_net
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.surface import (
    evaluate_points,
    naive_surface,
    outputs_at,
    prepare,
    random_direction,
)


def forbid_conversions(model, monkeypatch):
    """Make ``.to()``/``.cuda()``/``.float()``... on any of the caller's modules an error."""
    callers = {id(mod) for mod in model.modules()}

    def refuse(self, *args, **kwargs):   # a deep copy is rebound to the copy: allowed
        if id(self) in callers:
            raise AssertionError("the evaluator converted the caller's module in place")
        return nn.Module._apply(self, *args, **kwargs)

    for mod in model.modules():
        monkeypatch.setattr(mod, "_apply", types.MethodType(refuse, mod), raising=False)


@pytest.mark.parametrize("which", ["separable", "split", "dense", "theorem1"])
def test_no_module_of_the_callers_model_is_converted(which, monkeypatch):
    X, y = data()
    m = {"separable": lambda: theorem2_net("relu", 2), "theorem1": lambda: net(zero_units=9),
         "split": lambda: net(zero_units=2), "dense": lambda: net(depth=3)}[which]()
    dirs = [random_direction(m, 1), random_direction(m, 2)] if which == "dense" else BIAS(2)
    ref = naive_surface(m, dirs, X, y, [[0.2, 0.4]], classes=4)
    forbid_conversions(m, monkeypatch)
    prep = prepare(m, dirs, X, y, 4, "cpu")
    ours, _ = evaluate_points(m, dirs, X, y, [[0.2, 0.4]], classes=4, prepared=prep)
    evaluate_points(m, dirs, X, y, [[0.2, 0.4]], classes=4, device=torch.device("cpu"))
    outputs_at(m, dirs, X, [0.2, 0.4])
    np.testing.assert_allclose(ours, ref, rtol=2e-5)


def test_prepared_is_a_snapshot_not_a_view_of_the_model():
    X, y = data()
    m = net("tanh", depth=3)
    dirs = [random_direction(m, 1), BIAS(1)[0]]
    pts = np.random.default_rng(0).uniform(-1, 1, size=(5, 2))
    prep = prepare(m, dirs, X, y, 4)
    before, _ = evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1.5)       # e.g. training continuing on another thread
    again, _ = evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep)
    np.testing.assert_array_equal(again, before)
    fresh, _ = evaluate_points(m, dirs, X, y, pts, classes=4)
    assert not np.allclose(fresh, before)


def prelu_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(7, 9), nn.PReLU(9), nn.Linear(9, 9), nn.Tanh(),
                         nn.Linear(9, 4))


def test_a_module_with_its_own_parameters_is_copied_and_exact(monkeypatch):
    X, y = data()
    m = prelu_net()
    dirs = [random_direction(m, 1, params=["0.weight", "0.bias", "2.weight", "4.bias"]),
            BIAS(1)[0]]
    check(m, dirs, X, y, 4)
    forbid_conversions(m, monkeypatch)
    prepare(m, dirs, X, y, 4)


def test_a_direction_that_moves_a_non_linear_layer_is_evaluated_not_ignored():
    """A move of any other module (here PReLU's slopes) takes the family path: exact."""
    X, y = data()
    m = prelu_net()
    dirs = [random_direction(m, 1), random_direction(m, 2, params=["1.weight"])]
    prep = prepare(m, dirs, X, y, 4)
    assert prep.info["structure"] == "general"
    check(m, dirs, X, y, 4)


def test_bad_models_and_directions_are_clear_errors():
    X, y = data()

    class NotSequential(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(7, 4)

        def forward(self, x):
            return self.lin(x)

    from losspattern_core.surface import Direction

    with pytest.raises(ConfigError, match="nn.Sequential"):
        prepare(NotSequential(), [Direction("lin.bias", 0)], X, y, 4)
    m = net()
    with pytest.raises(ConfigError, match="shape"):
        prepare(m, [Direction(tensors={"0.bias": torch.ones(3)})], X, y, 4)
