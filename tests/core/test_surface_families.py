"""The exact evaluator on every network family (cnn with and without BatchNorm, resnet): each
structure it proves (one row, separable, general) equals the naive per-point loop through the
real module, the caller's model is left as it was, and a near-zero coupling weight falls back."""

from __future__ import annotations

import functools
import types

import numpy as np
import pytest
import torch
from torch import nn

import losspattern_core as lp
from losspattern_core.constructions.channel_blocks import channel_blocks, zero_coupling
from losspattern_core.errors import ConfigError
from losspattern_core.measure.progressive import progressive_surface
from losspattern_core.networks import NetworkSpec, as_input, build_network
from losspattern_core.surface import (
    Direction,
    evaluate_points,
    naive_surface,
    prepare,
    random_direction,
    range_points,
    surface,
)
from losspattern_core.surface.families import FamilyPrepared

N = 240          # digits samples (tiny: the naive loop runs the whole split per point)
BIAS = lambda z: [Direction("0.bias", i, 1.0) for i in range(z)]  # noqa: E731


@functools.cache
def digits():
    X, y = lp.load_dataset("digits").split("train")
    return np.asarray(X[:N], dtype=np.float32), np.asarray(y[:N])


def spec_of(family: str, heads: int = 1, bn: bool = False) -> NetworkSpec:
    return NetworkSpec(64, 10, family=family, activation="relu", heads=heads,
                       input_shape=(1, 8, 8), channels=(4, 6), hidden=8, batchnorm=bn,
                       width=8, blocks=3)      # resnet: the third block halves, 1x1 shortcut


def model_of(family: str, heads: int = 1, bn: bool = False, seed: int = 0) -> nn.Sequential:
    """A tiny network whose BatchNorms have nontrivial statistics and affine parameters."""
    m = build_network(spec_of(family, heads, bn), seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.running_mean.normal_(0, 0.3, generator=gen)
                mod.running_var.uniform_(0.5, 2.0, generator=gen)
                mod.weight.uniform_(0.5, 1.5, generator=gen)
                mod.bias.copy_(0.2 * torch.randn(c, generator=gen))
    return m.eval()


def images(family: str):
    X, y = digits()
    return as_input(torch.as_tensor(X), spec_of(family)), y


def check(model, dirs, family, heads=1, loss="cross_entropy", npts=7, seed=1, **kw):
    X, y = images(family)
    pts = np.random.default_rng(seed).uniform(-1, 1.5, size=(npts, len(dirs)))
    ours, per_class = evaluate_points(model, dirs, X, y, pts, classes=10, heads=heads,
                                      loss=loss, **kw)
    ref = naive_surface(model, dirs, X, y, pts, classes=10, heads=heads, loss=loss)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
    counts = np.bincount(y, minlength=10)
    np.testing.assert_allclose(per_class @ counts / len(y), ours, rtol=1e-9, atol=1e-9)
    return ours


def structure(model, dirs, family) -> str:
    prep = prepare(model, dirs, *images(family), 10)
    assert isinstance(prep, FamilyPrepared)
    return prep.info["structure"]


FAMILIES = [("cnn", False), ("cnn", True), ("resnet", True)]


def theorem1(family, bn, heads=1):
    m = model_of(family, heads, bn)
    with torch.no_grad():
        m[0].weight.zero_()
        m[0].bias.zero_()
    return m


def theorem2(family, bn, heads=1, z=2):
    """Theorem 2's channel blocks (the construction's own masks), alpha biases woken up."""
    m = model_of(family, heads, bn)
    blocks = channel_blocks(m, (1, 8, 8), z)
    zero_coupling(m, blocks)
    with torch.no_grad():
        m[0].bias[:z] = torch.linspace(-0.4, 0.3, z)
    return m, blocks


# --- one row: layer 0's weights exactly zero, every sample the same output --------------------

@pytest.mark.parametrize("family,bn", FAMILIES)
@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_one_row(family, bn, heads, loss):
    m = theorem1(family, bn, heads)
    assert structure(m, BIAS(2), family) == "one_row"
    check(m, BIAS(2), family, heads=heads, loss=loss)


@pytest.mark.parametrize("family,bn", FAMILIES)
def test_one_row_with_a_later_layer_moved_too(family, bn):
    m = theorem1(family, bn)
    later = [n for n, _ in m.named_parameters() if not n.startswith("0.")][2]
    dirs = [BIAS(1)[0], random_direction(m, 5, params=[later])]
    assert structure(m, dirs, family) == "one_row"
    check(m, dirs, family)


def test_one_row_needs_the_weights_exactly_zero():
    m = theorem1("cnn", False)
    with torch.no_grad():
        m[0].weight[1, 0, 1, 1] = 1e-12
    assert structure(m, BIAS(2), "cnn") != "one_row"
    check(m, BIAS(2), "cnn")


# --- separable: Theorem 2's channel blocks, logits = c(x) + g(alpha) ----------------------------

@pytest.mark.parametrize("family,bn", FAMILIES)
@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_separable(family, bn, heads, loss):
    m, _ = theorem2(family, bn, heads)
    prep = prepare(m, BIAS(2), *images(family), 10)
    assert prep.info["structure"] == "separable" and "separable" in prep.info
    check(m, BIAS(2), family, heads=heads, loss=loss)


@pytest.mark.parametrize("family,bn", FAMILIES)
def test_a_coupling_weight_of_1e_12_falls_back_and_stays_exact(family, bn):
    m, blocks = theorem2(family, bn)
    name = [n for n in blocks.alpha if n.endswith("weight") and not n.startswith("0.")
            and bool(blocks.coupling(n).any())][0]
    with torch.no_grad():
        p = dict(m.named_parameters())[name]
        p[blocks.coupling(name)] = 0.0
        p.view(-1)[torch.nonzero(blocks.coupling(name).view(-1))[0]] = 1e-12
    assert structure(m, BIAS(2), family) == "general"
    check(m, BIAS(2), family)


def test_separable_with_an_alpha_feature_output_move_and_not_with_an_x_feature_one():
    m, blocks = theorem2("cnn", True)
    out = len(m) - 1
    alpha_cols = blocks.alpha[f"{out}.weight"][0]
    w = torch.zeros_like(m[out].weight)
    w[:, alpha_cols] = 0.3
    dirs = BIAS(1) + [Direction(tensors={f"{out}.weight": w})]
    assert structure(m, dirs, "cnn") == "separable"
    check(m, dirs, "cnn")
    x_col = int(torch.nonzero(~alpha_cols)[0])
    dirs = BIAS(1) + [Direction(f"{out}.weight", x_col, 0.5)]    # moves c(x): not separable
    assert structure(m, dirs, "cnn") == "general"
    check(m, dirs, "cnn")


# --- general: anything else, batched over points -----------------------------------------------

@pytest.mark.parametrize("family,bn", FAMILIES)
@pytest.mark.parametrize("heads", [1, 3])
def test_general_dense_random_directions(family, bn, heads):
    m = model_of(family, heads, bn)
    dirs = [random_direction(m, 1), random_direction(m, 2)]
    assert structure(m, dirs, family) == "general"
    check(m, dirs, family, heads=heads)
    check(m, dirs, family, heads=heads, loss="mse", npts=3)


@pytest.mark.parametrize("family,bn", FAMILIES)
def test_general_bias_and_batchnorm_directions(family, bn):
    m = model_of(family, 1, bn)
    check(m, BIAS(2), family)                    # an ordinary network: input-dependent
    norms = [n for n, mod in m.named_modules() if isinstance(mod, nn.BatchNorm2d)]
    if norms:                                    # the first moved module is not affine
        dirs = [random_direction(m, 3, params=[f"{norms[-1]}.weight", f"{norms[-1]}.bias"])]
        check(m, dirs, family)


def test_tiny_budgets_give_the_same_numbers_and_memory_stays_bounded():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Largest(TorchDispatchMode):
        numel = 0

        def __torch_dispatch__(self, func, types_, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor):
                    Largest.numel = max(Largest.numel, t.numel())
            return out

    X, y = images("resnet")
    X, y = X[:32], y[:32]   # still several tiles; general untiled stays 7x over the bound
    m1, (m2, _), m3 = theorem1("resnet", True), theorem2("resnet", True), model_of("resnet")
    pts = range_points(3, 2)
    for m, dirs in ((m1, BIAS(2)), (m2, BIAS(2)), (m3, [random_direction(m3, 1), BIAS(1)[0]])):
        prep = prepare(m, dirs, X, y, 10)
        big, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep, budget=2**26)
        budget = 8 * prep.net.widest + prep.net.moved_numel()
        Largest.numel = 0
        with Largest():
            small, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep,
                                       budget=budget)
        assert Largest.numel <= 2 * budget, prep.info["structure"]
        np.testing.assert_allclose(small, big, rtol=1e-6, atol=1e-7)
        one, _ = evaluate_points(m, dirs, X, y, pts[:2], classes=10, prepared=prep, budget=1)
        np.testing.assert_allclose(one, big[:2], rtol=1e-6, atol=1e-7)


# --- the caller's model, eval mode, interface ------------------------------------------------

def snapshot(model):
    return ({k: (v.device, v.detach().clone()) for k, v in model.state_dict().items()},
            {n: p.requires_grad for n, p in model.named_parameters()},
            [m.training for m in model.modules()])


@pytest.mark.parametrize("which", ["one_row", "separable", "general"])
def test_the_callers_model_is_left_as_it_was_and_evaluated_in_eval_mode(which, monkeypatch):
    m = {"one_row": lambda: theorem1("resnet", True), "general": lambda: model_of("resnet"),
         "separable": lambda: theorem2("resnet", True)[0]}[which]()
    dirs = [random_direction(m, 1), random_direction(m, 2)] if which == "general" else BIAS(2)
    X, y = images("resnet")
    pts = [[0.3, -0.2], [1.0, 0.5]]
    in_eval = naive_surface(m, dirs, X, y, pts, classes=10)
    m.train()                            # e.g. a training loop's module, shared with a GUI
    m[1].weight.requires_grad_(False)
    before = snapshot(m)
    callers = {id(mod) for mod in m.modules()}

    def refuse(self, *args, **kwargs):   # no .to()/.float()/... on the caller's modules
        assert id(self) not in callers, "the evaluator converted the caller's module"
        return nn.Module._apply(self, *args, **kwargs)
    for mod in m.modules():
        monkeypatch.setattr(mod, "_apply", types.MethodType(refuse, mod), raising=False)
    prep = prepare(m, dirs, X, y, 10)
    assert prep.info["structure"] == which
    ours, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep)
    naive = naive_surface(m, dirs, X, y, pts, classes=10)
    after = snapshot(m)
    assert after[1] == before[1] and after[2] == before[2]      # requires_grad, training flags
    for k, (dev, val) in before[0].items():                     # devices, values, BN statistics
        assert after[0][k][0] == dev and torch.equal(after[0][k][1], val), k
    np.testing.assert_array_equal(naive, in_eval)               # the reference is in eval mode
    np.testing.assert_allclose(ours, in_eval, rtol=1e-5, atol=1e-7)


def test_mlps_keep_their_path_and_flat_rows_into_a_conv_network_are_a_clear_error():
    from losspattern_core.surface.prepare import Prepared

    X, y = digits()
    mlp = build_network(NetworkSpec(64, 10, depth=2, width=8, activation="relu"), seed=0)
    assert isinstance(prepare(mlp, BIAS(2), X, y, 10), Prepared)
    with pytest.raises(ConfigError, match="as_input"):
        prepare(model_of("cnn"), BIAS(2), X, y, 10)
    batch_stats = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False),
                                nn.Flatten(), nn.Linear(72, 10))
    with pytest.raises(ConfigError, match="running statistics"):
        prepare(batch_stats, BIAS(1), *images("cnn"), 10)


def test_surface_and_progressive_refinement_on_a_conv_family():
    m = theorem1("cnn", True, heads=3)
    X, y = images("cnn")
    full = surface(m, BIAS(2), X, y, 5, classes=10, heads=3)
    assert full.shape == (3, 5, 5)
    gen = progressive_surface(m, BIAS(2), X, y, 5, classes=10, heads=3, start=2)
    frames = []
    try:
        while True:
            frames.append(next(gen))
    except StopIteration as stop:
        last = stop.value
    assert frames[-1][0] == 5
    np.testing.assert_allclose(last, full, rtol=1e-6)


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_one_point_tiles_and_several_point_tiles_equal_the_naive_loop(family):
    """The general path runs one point per tile on blocks of >= 64 samples and several points
    per tile on smaller blocks; both (with their ReLU-after-pool and max-of-four shortcuts)
    equal the naive loop, and the split given is left as it was."""
    from losspattern_core.surface.family_kernels import ONE_POINT_BLOCK, general_tiles

    m = model_of(family)
    dirs = [random_direction(m, 1), random_direction(m, 2)]
    X, y = images(family)
    before = X.clone()
    prep = prepare(m, dirs, X, y, 10)
    wide = prep.net.widest
    pts = np.random.default_rng(3).uniform(-1, 1.5, size=(5, 2))
    ref = naive_surface(m, dirs, X, y, pts, classes=10)
    for budget in (2**22, 4 * 16 * wide):
        block, per_tile = general_tiles(prep, budget)
        assert (per_tile == 1) == (block >= ONE_POINT_BLOCK)
        ours, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep, budget=budget)
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
    assert general_tiles(prep, 2**22)[1] == 1 and general_tiles(prep, 4 * 16 * wide)[1] > 1
    assert torch.equal(X, before)
