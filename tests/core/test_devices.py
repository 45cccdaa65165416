"""The exact evaluator on every device torch sees (CPU here; CUDA too on a GPU machine): equal to
the naive reference on CPU, on the separable and the general paths, and the caller's model is
left exactly as it was (device, values, requires_grad)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_surface import BIAS, data, net, theorem2_net

from losspattern_core.surface import evaluate_points, naive_surface, prepare, random_direction

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def case(path: str, act: str, heads: int):
    """(model, directions) taking one of the evaluator's paths."""
    if path == "separable":       # Theorem 2's blocks: logits = c(x) + g(alpha)
        return theorem2_net(act, 2, heads=heads), BIAS(2)
    if path == "split":           # zero first-layer rows, bias directions: C + 1 v(alpha)^T
        return net(act, heads=heads, zero_units=2, depth=3), BIAS(2)
    m = net(act, heads=heads, depth=3)   # dense directions over every layer
    return m, [random_direction(m, seed=s) for s in (1, 2)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", ["separable", "split", "dense"])
@pytest.mark.parametrize("act", ["relu", "tanh", "sin"])
@pytest.mark.parametrize("heads", [1, 3])
def test_evaluator_equals_naive_reference_on(device, path, act, heads):
    X, y = data()
    m, dirs = case(path, act, heads)
    prep = prepare(m, dirs, X, y, 4, device)
    assert prep.device.type == device
    assert ("separable" in prep.info) == (path == "separable")
    if path == "split":
        assert prep.split and prep.info["moved_units_row_constant"]
    if path == "dense":
        assert prep.info["dense_first_layer"]
    pts = np.random.default_rng(2).uniform(-1, 1.5, size=(11, 2))
    for loss in ("cross_entropy", "mse"):
        ours, per_class = evaluate_points(m, dirs, X, y, pts, classes=4, heads=heads, loss=loss,
                                          prepared=prep)
        ref = naive_surface(m, dirs, X, y, pts, classes=4, heads=heads, loss=loss)
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
        assert per_class.shape == (len(pts), heads, 4)


def snapshot(model):
    return [(k, p.device, p.detach().clone(), p.requires_grad) for k, p in
            model.named_parameters()]


def assert_unchanged(model, before):
    after = snapshot(model)
    assert [k for k, *_ in after] == [k for k, *_ in before]
    for (k, dev, val, rg), (_, dev2, val2, rg2) in zip(before, after, strict=True):
        assert dev2 == dev, f"{k} moved from {dev} to {dev2}"
        assert torch.equal(val2, val), f"{k} changed"
        assert rg2 == rg, f"{k}: requires_grad changed"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("path", ["separable", "split", "dense"])
def test_the_callers_cpu_model_is_left_as_it_was(device, path):
    X, y = data()
    m, dirs = case(path, "relu", 1)
    m[0].bias.requires_grad_(False)    # a mix of requires_grad, kept as it is
    before = snapshot(m)
    pts = [[0.3, -0.2], [1.0, 0.5]]
    prep = prepare(m, dirs, X, y, 4, device)
    assert_unchanged(m, before)
    evaluate_points(m, dirs, X, y, pts, classes=4, prepared=prep)
    evaluate_points(m, dirs, X, y, pts, classes=4, device=device)
    assert_unchanged(m, before)
    naive_surface(m, dirs, X, y, pts, classes=4)
    assert_unchanged(m, before)


@pytest.mark.skipif(len(DEVICES) < 2, reason="needs a second device")
def test_a_model_on_another_device_is_evaluated_on_cpu_without_moving():
    X, y = data()
    m, dirs = case("split", "relu", 1)
    ref = naive_surface(m, dirs, X, y, [[0.3, -0.2]], classes=4)
    m = m.to(DEVICES[1])
    before = snapshot(m)
    ours, _ = evaluate_points(m, dirs, X, y, [[0.3, -0.2]], classes=4, device="cpu")
    assert_unchanged(m, before)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("which", ["one_row", "separable", "general"])
def test_the_family_path_on(device, which):
    """A ResNet with BatchNorm on images: every structure on every device equals the naive
    reference on CPU, and the caller's CPU model stays where and as it was."""
    from test_surface_families import BIAS as CONV_BIAS
    from test_surface_families import images, model_of, theorem1, theorem2

    m = {"one_row": lambda: theorem1("resnet", True), "general": lambda: model_of("resnet"),
         "separable": lambda: theorem2("resnet", True)[0]}[which]()
    dirs = [random_direction(m, 1), random_direction(m, 2)] if which == "general" \
        else CONV_BIAS(2)
    X, y = images("resnet")
    pts = np.random.default_rng(5).uniform(-1, 1.5, size=(5, 2))
    before = snapshot(m)
    prep = prepare(m, dirs, X, y, 10, device)
    assert prep.device.type == device and prep.info["structure"] == which
    ours, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep)
    assert_unchanged(m, before)
    ref = naive_surface(m, dirs, X, y, pts, classes=10)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
