"""Explorer directions: filter normalisation, interpolation, and every kind's surface equal to
the naive per-point loop (``naive_surface``) to 1e-5 relative."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from losspattern_core.errors import ConfigError, LossPatternError
from losspattern_core.explore import (
    filter_normalized_direction,
    filter_normalized_directions,
    hessian_directions,
    interpolation,
    model_at,
    split_loss,
    train_trajectory,
    trajectory_pca,
)
from losspattern_core.frames import drive
from losspattern_core.grid import range_points
from losspattern_core.surface import evaluate_points, naive_surface

CLASSES = 3


def mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 10), nn.ReLU(),
                         nn.Linear(10, CLASSES))


def data(n: int = 90, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    return X, y


def same_as_naive(model: nn.Module, directions, X, y, alphas) -> None:
    fast, _ = evaluate_points(model, directions, X, y, alphas, classes=CLASSES)
    slow = naive_surface(model, directions, X, y, alphas, classes=CLASSES)
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=0)
    assert np.ptp(slow) > 1e-3, "the surface should not be flat (the check would be vacuous)"


def snapshot(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def unchanged(model: nn.Module, before: dict) -> bool:
    return all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


# --- filter normalisation ---------------------------------------------------------------------

def test_each_filter_has_the_networks_filter_norm_and_biases_are_zero_by_default():
    model = mlp()
    d = filter_normalized_direction(model, seed=3)
    for name, p in model.named_parameters():
        t = d.tensors[name]
        assert t.shape == p.shape
        if p.ndim == 1:
            assert torch.count_nonzero(t) == 0, f"{name} should be zero (ignore biasbn)"
        else:
            np.testing.assert_allclose(t.norm(dim=1).numpy(), p.detach().norm(dim=1).numpy(),
                                       rtol=1e-5)
            assert not torch.allclose(t, p.detach()), "a random direction, not the weights"


def test_conv_filters_are_output_channels_and_batchnorm_is_zero():
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(2, 5, 3), nn.BatchNorm2d(5), nn.ReLU(), nn.Flatten(),
                        nn.Linear(5 * 4 * 4, 3))
    d = filter_normalized_direction(cnn, seed=1)
    w = cnn[0].weight.detach()
    np.testing.assert_allclose(d.tensors["0.weight"].flatten(1).norm(dim=1).numpy(),
                               w.flatten(1).norm(dim=1).numpy(), rtol=1e-5)
    for name in ("0.bias", "1.weight", "1.bias", "4.bias"):
        assert torch.count_nonzero(d.tensors[name]) == 0


def test_including_biasbn_copies_the_parameter_as_loss_landscape_does():
    model = mlp()
    d = filter_normalized_direction(model, seed=3, ignore_biasbn=False)
    assert torch.equal(d.tensors["0.bias"], model[0].bias.detach())


def test_directions_are_seeded_and_z_directions_extend_the_same_stream():
    model = mlp()
    one = filter_normalized_directions(model, 1, seed=5)
    three = filter_normalized_directions(model, 3, seed=5)
    again = filter_normalized_directions(model, 3, seed=5)
    other = filter_normalized_directions(model, 1, seed=6)
    assert torch.equal(one[0].tensors["2.weight"], three[0].tensors["2.weight"])
    assert all(torch.equal(a.tensors["0.weight"], b.tensors["0.weight"])
               for a, b in zip(three, again, strict=True))
    assert not torch.equal(three[0].tensors["0.weight"], three[1].tensors["0.weight"])
    assert not torch.equal(one[0].tensors["0.weight"], other[0].tensors["0.weight"])
    with pytest.raises(ConfigError):
        filter_normalized_directions(model, 0)


# --- interpolation ----------------------------------------------------------------------------

def test_interpolation_goes_from_a_to_b_and_refuses_other_architectures():
    a, b = mlp(0), mlp(1)
    before_a, before_b = snapshot(a), snapshot(b)
    line = interpolation(a, b)
    X, y = data()
    loss = split_loss(a, X, y)
    ends = evaluate_points(line.origin, [line.direction], X, y, [[0.0], [1.0]],
                           classes=CLASSES)[0][:, 0]
    np.testing.assert_allclose(ends, [loss(dict(a.named_parameters())),
                                      loss(dict(b.named_parameters()))], rtol=1e-5)
    assert line.alpha_range == (-0.5, 1.5)
    assert unchanged(a, before_a) and unchanged(b, before_b)
    from_states = interpolation(a.state_dict(), b.state_dict(), template=mlp(7))
    assert torch.equal(from_states.direction.tensors["2.weight"],
                       line.direction.tensors["2.weight"])

    wider = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 11), nn.ReLU(),
                          nn.Linear(11, CLASSES))
    with pytest.raises(LossPatternError, match=r"'2\.weight'.*\(10, 12\).*\(11, 12\)"):
        interpolation(a, wider)
    deeper = nn.Sequential(*mlp(2), nn.Tanh(), nn.Linear(CLASSES, CLASSES))
    with pytest.raises(ConfigError, match=r"'6\.weight'"):
        interpolation(a, deeper)
    with pytest.raises(ConfigError, match="template"):
        interpolation(a.state_dict(), b.state_dict())


# --- every kind equals the naive loop ---------------------------------------------------------

@pytest.fixture(scope="module")
def trained():
    X, y = data()
    result = drive(train_trajectory(mlp(0), X, y, steps=60, lr=0.02, batch=30,
                                    snapshot_every=5, seed=0))
    return result, X, y


def test_random_filter_normalised_surface_equals_naive():
    X, y = data()
    model = mlp()
    before = snapshot(model)
    dirs = filter_normalized_directions(model, 2, seed=0)
    same_as_naive(model, dirs, X, y, range_points(7, 2, [[-1, 1], [-1, 1]]))
    same_as_naive(model, dirs[:1], X, y, range_points(9, 1, [[-1, 1]]))
    three = filter_normalized_directions(model, 3, seed=0)
    same_as_naive(model, three, X, y, range_points(3, 3, [[-1, 1]] * 3))
    assert unchanged(model, before)


def test_interpolation_surface_equals_naive(trained):
    result, X, y = trained
    init = model_at(result.model, result.initial_params)
    line = interpolation(init, result.model)
    same_as_naive(line.origin, [line.direction], X, y, line.alphas(21))


def test_pca_surface_equals_naive(trained):
    result, X, y = trained
    pca = trajectory_pca(result.trajectory, 2)
    origin = model_at(result.model, pca.origin)
    c = pca.coords
    rng = [[c[:, i].min() - 0.2, c[:, i].max() + 0.2] for i in range(2)]
    same_as_naive(origin, pca.directions, X, y, range_points(7, 2, rng))


def test_hessian_surface_equals_naive(trained):
    result, X, y = trained
    eig = hessian_directions(result.model, X, y, k=2, max_iter=60)
    same_as_naive(result.model, eig.directions, X, y, range_points(7, 2, [[-2, 2], [-2, 2]]))


def test_small_cnn_surface_equals_naive_when_the_evaluator_takes_convolutions():
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, CLASSES))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 1, 6, 6)).astype(np.float32)
    y = rng.integers(0, CLASSES, 40)
    dirs = filter_normalized_directions(cnn, 2, seed=0)
    alphas = range_points(5, 2, [[-1, 1], [-1, 1]])
    try:
        evaluate_points(cnn, dirs, X, y, alphas[:1], classes=CLASSES)
    except ConfigError as err:
        pytest.skip(f"evaluate_points does not take this CNN yet: {err}")
    same_as_naive(cnn, dirs, X, y, alphas)
