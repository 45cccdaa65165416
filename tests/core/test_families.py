"""The network families (mlp, cnn, resnet) and Theorem 1 on the convolutional ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import losspattern_core as lp
from losspattern_core.errors import ConfigError
from losspattern_core.losses import sigma
from losspattern_core.networks import NetworkSpec, build_network


def test_the_fashion_mnist_cnn_of_skorokhodov_and_burtsev_has_their_parameter_count():
    spec = NetworkSpec(784, 10, family="cnn", activation="relu", input_shape=(1, 28, 28))
    model = build_network(spec)
    assert sum(p.numel() for p in model.parameters()) == 153_402
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_resnet_blocks_and_batchnorm_buffers_are_in_the_state_dict():
    spec = NetworkSpec(64, 10, family="resnet", activation="relu", width=8, blocks=3,
                       input_shape=(1, 8, 8))
    sd = build_network(spec).state_dict()
    assert "1.running_mean" in sd and "3.body.0.weight" in sd
    assert any(k.startswith("7.shortcut.0.") for k in sd)   # the block that doubles width


def test_same_seed_same_numbers_and_the_global_rng_is_untouched():
    spec = NetworkSpec(64, 10, family="cnn", activation="relu", input_shape=(1, 8, 8))
    torch.manual_seed(5)
    before = torch.rand(3)
    torch.manual_seed(5)
    a, b = build_network(spec, seed=1), build_network(spec, seed=1)
    assert torch.equal(torch.rand(3), before)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                   b.state_dict().values(), strict=True))


@pytest.mark.parametrize("kw, words", [
    (dict(family="cnn", channels=(8, 16, 32, 64), input_shape=(1, 8, 8)), "at most 3 blocks"),
    (dict(family="cnn", input_shape=None), "image-shaped"),
    (dict(family="cnn", channels=(2, 8), input_shape=(1, 8, 8)), "z = 3 needs"),
    (dict(family="resnet", blocks=9, input_shape=(1, 8, 8)), "halve the image"),
])
def test_networks_that_cannot_take_the_data_are_refused_saying_what_fits(kw, words):
    spec = NetworkSpec(64, 10, activation="relu", **kw)
    with pytest.raises(ConfigError, match=words):
        spec.validate(3)


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_theorem1_on_a_conv_family_is_exact_and_input_independent(family,
                                                                  small_conv_theorem1):
    r, con = small_conv_theorem1(family, "relu", 40)
    assert torch.count_nonzero(con.model[0].weight) == 0
    X, y = r.dataset.split("train")
    Xi = torch.as_tensor(X).view(-1, 1, 8, 8)
    alpha = [0.3, 0.8]
    with torch.no_grad():
        out = torch.func.functional_call(
            con.model, lp.surface.params_at(con.model, con.directions, alpha), (Xi,)).double()
    assert float(out.var(0).max()) == 0.0                  # every input, the same output
    measured = lp.naive_surface(con.model, con.directions, Xi, y, np.array([alpha]),
                                classes=10)[0, 0]
    from_counts = float(sigma(out[0], torch.as_tensor(r.dataset.marginal("train")),
                              "cross_entropy"))
    assert abs(measured - from_counts) < 1e-5             # the loss is sigma(label counts)
    assert measured >= r.floor - 1e-9


def test_theorem2_on_a_cnn_keeps_its_channel_blocks_and_fits_the_data_at_alpha_star(
        monkeypatch):
    import losspattern_core.constructions.theorem2 as t2
    import losspattern_core.constructions.theorem2_shared as t2s
    from losspattern_core.constructions.channel_blocks import channel_blocks
    from losspattern_core.networks import as_input

    monkeypatch.setattr(t2s, "CONV_CLASSIFIER_STEPS", 300)
    monkeypatch.setattr(t2s, "CLASSIFIER_LR", 3e-3)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", theorem=2, steps=120,
                                batch=64, grid=6, snapshot_every=0)
    r = lp.validate(cfg)
    spec = NetworkSpec(64, 10, family="cnn", activation="relu", channels=(8, 16),
                       input_shape=(1, 8, 8), hidden=32)
    r = dataclasses.replace(r, network=spec)
    con = lp.drive(t2.construct(r, run_baseline=False))
    blocks = channel_blocks(con.model, spec.input_shape, 2)
    params = dict(con.model.named_parameters())
    assert all(torch.count_nonzero(params[n][blocks.coupling(n)]) == 0 for n in blocks.alpha)
    s = con.extras["theorem2"]["at_alpha_star"]
    assert s["train_accuracy"] > 0.8          # chance is 0.1
    # logits(alpha, x) = c(x) + g(alpha): the train surface from the shortcut formula equals
    # the full network on every sample (the naive loop) at a grid point
    X, y = r.dataset.split("train")
    alpha = np.array([[0.2, 0.6]])
    naive = lp.naive_surface(con.model, con.directions, as_input(torch.as_tensor(X), spec), y,
                             alpha, classes=10)[0, 0]
    with torch.no_grad():
        g = con.model[1:](t2.theorem2_channels._layer0_maps(con.model, spec, 2,
                                                           torch.tensor(alpha).float()))
    logits_x = t2.theorem2_channels._logits_at(con.model, as_input(torch.as_tensor(X), spec),
                                               2, [0.0, 0.0])
    with torch.no_grad():
        zero = con.model(torch.zeros(1, 1, 8, 8))
    from losspattern_core.losses import mean_cross_entropy_separable
    fast = float(mean_cross_entropy_separable(logits_x - zero, torch.as_tensor(y), g)[0])
    assert abs(fast - naive) < 1e-5 * max(1.0, abs(naive))


@pytest.mark.parametrize("family, theorem", [("cnn", 1), ("resnet", 1), ("cnn", 2)])
def test_a_conv_construction_is_measured_end_to_end_like_an_mlp(family, theorem, monkeypatch):
    """construct -> measure_surfaces -> construction_metrics, snapshots included: the exact
    surfaces equal the naive loop on the images."""
    import losspattern_core.constructions.theorem2_shared as t2s
    from losspattern_core.networks import as_input

    monkeypatch.setattr(t2s, "CONV_CLASSIFIER_STEPS", 40)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", theorem=theorem, steps=30,
                                batch=32, grid=5, snapshot_every=15)
    r = lp.validate(cfg)
    spec = NetworkSpec(64, 10, family=family, activation="relu", width=8, channels=(8, 16),
                       input_shape=(1, 8, 8), hidden=16)
    r = dataclasses.replace(r, network=spec)
    frames: list = []
    gen = lp.construct(r)
    if theorem == 2:
        import losspattern_core.constructions.theorem2 as t2
        gen = t2.construct(r, run_baseline=False)
    con = lp.drive(gen, frames.append)
    assert sum(f.surface is not None for f in frames) >= 2      # live snapshots streamed
    m = lp.measure_surfaces(con)
    metrics = lp.construction_metrics(con, m)
    assert ("pattern_points" in metrics) == (theorem == 1)
    if theorem == 1:
        assert metrics["pattern_points"]["output_variance_max"] == 0.0
        n = len(r.dataset.train_idx)
        assert metrics["pattern_points"]["samples_checked"] == 512 < n      # a stated subset
        assert metrics["pattern_points"]["train_samples"] == n
        assert "x 512 of" in "\n".join(lp.summary_lines(metrics))
    X, y = r.dataset.split("test")
    ref = lp.naive_surface(con.model, con.directions, as_input(X, spec), y,
                           lp.range_points(5, 2), classes=10)[:, 0]
    assert np.allclose(m.surfaces["test"].ravel(), ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("family", ["mlp", "cnn", "resnet"])
def test_every_family_writes_a_format2_bundle_that_plain_torch_and_verify_reproduce(
        family, tmp_path):
    import re
    import subprocess
    import sys

    from losspattern_core.measure.verify import verify

    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", steps=20, batch=32, grid=5,
                                width=16, arch=family, channels=(8, 16), resnet_width=8,
                                batchnorm=family == "cnn", snapshot_every=0)
    r = lp.validate(cfg)
    con = lp.drive(lp.construct(r))
    m = lp.measure_surfaces(con)
    out = lp.save_bundle(tmp_path / family, con, m, lp.construction_metrics(con, m))
    meta = __import__("json").loads((out / "construction.json").read_text())
    assert meta["format"] == "losspattern.construction/2" and meta["method"] == "theorem1"
    assert meta["network"]["input_shape"] == ([64] if family == "mlp" else [1, 8, 8])
    script = (out / "README.txt").read_text().split("loss):\n\n")[1].split("\n\nOr:")[0]
    assert len(script.splitlines()) <= 40
    res = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    recomputed, stored = (float(re.findall(r"[-\d.]+(?:e-?\d+)?", part)[0])
                          for part in res.stdout.split("stored"))
    assert abs(recomputed - stored) < 1e-5
    report = verify(lp.load_bundle(out))
    assert report["ok"], report


def test_the_command_line_offers_exactly_the_families_and_stays_light():
    import subprocess
    import sys

    from losspattern_core.commands.construct_args import ARCHS
    from losspattern_core.networks import FAMILIES

    assert ARCHS == FAMILIES
    code = "import sys, losspattern_core.cli; print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.stdout.strip() == "False", res.stderr[-1000:]


def test_theorem2_network_init_ignores_the_global_rng():
    """Every random number of a run's init comes from its own seed: drawing from (or seeding)
    the global RNG between two builds changes nothing."""
    import losspattern_core.constructions.theorem2 as t2

    r = lp.validate(lp.ConstructionConfig(theorem=2, pattern="bowl", width=48))
    a = t2.build_network(r, t2.blocks_for(r)).state_dict()
    torch.manual_seed(123)
    torch.rand(1000)
    b = t2.build_network(r, t2.blocks_for(r)).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_conv_ease_yardstick_is_a_bounded_stated_budget(monkeypatch):
    import losspattern_core.measure.ease as ease

    monkeypatch.setattr(ease, "CONV_EASE_STEPS", 20)
    monkeypatch.setattr(ease, "CONV_EASE_SAMPLES", 100)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", steps=5, batch=16, grid=4,
                                arch="cnn", channels=(4, 8), snapshot_every=0)
    r = lp.validate(cfg)
    con = lp.drive(lp.construct(r))
    base = lp.drive(ease.ease_comparison(r, con))["baseline"]
    assert base["steps"] == 20 and base["measured_samples"] == {"train": 100, "test": 100}
    assert base["history"][-1][0] == 20
    assert "20 steps" in base["budget"] and "100 evenly spaced" in base["budget"]
    assert "budget" in ease.ease_lines(1.0, 5, base)[-1]
    assert ease.ease_budget(dataclasses.replace(r.network, family="mlp")) == {}
