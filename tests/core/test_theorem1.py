"""Structural truths of the Theorem 1 construction, measured on the real digits data."""

import numpy as np
import pytest
import torch

from losspattern_core.losses import sigma
from losspattern_core.surface import evaluate_points, naive_surface, outputs_at, range_points


def test_first_layer_weights_are_zero_and_directions_one_hot(tiny_t1):
    con, *_ = tiny_t1
    assert torch.count_nonzero(con.model[0].weight) == 0
    for i, d in enumerate(con.directions):
        delta = d.delta(con.model)
        assert list(delta) == ["0.bias"]
        v = delta["0.bias"]
        assert torch.count_nonzero(v) == 1 and v[i] == 1.0 and float(v.norm()) == 1.0


def test_outputs_identical_for_every_input(tiny_t1):
    con, *_ = tiny_t1
    X, _ = con.resolved.dataset.split("train")
    for alpha in ([0.1, 0.9], [0.5, 0.5], [1.0, 0.0]):
        out = outputs_at(con.model, con.directions, X, alpha)
        assert float((out - out[:1]).abs().max()) == 0.0


def test_measured_loss_equals_sigma_from_label_counts(tiny_t1):
    con, m, *_ = tiny_t1
    ds = con.resolved.dataset
    X, _ = ds.split("train")
    pi = torch.as_tensor(ds.marginal("train"), dtype=torch.float64)
    alphas = range_points(con.config.grid, 2)
    for j in (0, 17, 77, len(alphas) - 1):
        logits = outputs_at(con.model, con.directions, X[:1], alphas[j]).double()[0]
        expected = float(sigma(logits, pi, "cross_entropy"))
        got = m.surfaces["train"].ravel()[j]
        assert abs(got - expected) <= 1e-5 * abs(expected)


def test_loss_never_below_entropy_and_accuracy_is_chance(tiny_t1):
    con, m, metrics, _ = tiny_t1
    h = con.resolved.dataset.entropy("train")
    assert m.surfaces["train"].min() >= h - 1e-6
    pp = metrics["pattern_points"]
    assert pp["output_variance_max"] == 0.0
    assert pp["accuracy_max_over_points"] <= pp["majority_class_share"] + 1e-12


def test_exact_surface_equals_naive_loop(tiny_t1):
    con, m, *_ = tiny_t1
    for split in ("train", "test"):
        X, y = con.resolved.dataset.split(split)
        alphas = range_points(con.config.grid, 2)
        naive = naive_surface(con.model, con.directions, X, y, alphas, classes=10)[:, 0]
        ours = m.surfaces[split].ravel()
        assert np.max(np.abs(ours - naive) / np.abs(naive)) <= 1e-5


def test_transfer_gap_is_predicted_by_label_marginals(tiny_t1):
    from losspattern_core.measure.metrics import transfer_prediction

    con, m, metrics, _ = tiny_t1
    ds = con.resolved.dataset
    # digits' split keeps the marginals exactly equal: the test surface equals the train one
    assert np.array_equal(ds.label_counts("train") * len(ds.test_idx),
                          ds.label_counts("test") * len(ds.train_idx))
    assert metrics["transfer"]["max_abs_gap"] < 1e-5
    # a skewed subset (half of class 0 dropped) moves the surface exactly as predicted
    X, y = ds.split("train")
    keep = np.ones(len(y), bool)
    keep[np.flatnonzero(y == 0)[::2]] = False
    alphas = range_points(con.config.grid, 2)
    skewed, _ = evaluate_points(con.model, con.directions, X[keep], y[keep], alphas, classes=10)
    pred = transfer_prediction(m.per_class["train"], np.bincount(y, minlength=10),
                               np.bincount(y[keep], minlength=10))
    gap = skewed - m.surfaces["train"].reshape(-1, 1)
    assert np.abs(gap).max() > 1e-3
    np.testing.assert_allclose(gap, pred, atol=1e-6)


def test_frames_stream_measured_snapshots(tiny_t1):
    con, m, _, frames = tiny_t1
    assert [f.step for f in frames] == list(range(1, 301))
    snaps = [f for f in frames if f.surface is not None]
    assert [f.step for f in snaps] == [100, 200, 300]
    np.testing.assert_allclose(snaps[-1].surface, m.surfaces["train"], rtol=1e-6)


def test_regression_learns_the_pattern(tiny_t1):
    con, m, metrics, frames = tiny_t1
    assert frames[-1].reg_loss < frames[0].reg_loss / 10
    assert metrics["train"]["psnr_db"] > 15


def test_same_seed_same_numbers():
    from losspattern_core.config import ConstructionConfig, validate
    from losspattern_core.constructions import construct, drive

    cfg = ConstructionConfig(pattern="rings", steps=20, width=16, grid=8, batch=128,
                             snapshot_every=0)
    a = drive(construct(validate(cfg)))
    b = drive(construct(validate(cfg)))
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items(),
                                        strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_cancel_between_steps_stops_the_generator():
    from losspattern_core.config import ConstructionConfig, validate
    from losspattern_core.constructions import construct

    gen = construct(validate(ConstructionConfig(steps=1000, width=16, batch=64)))
    seen = [next(gen).step for _ in range(3)]
    gen.close()
    assert seen == [1, 2, 3]
    with pytest.raises(StopIteration):
        next(gen)


def test_multi_point_evaluation_matches_naive_for_mse():
    from losspattern_core.networks import NetworkSpec, build_mlp
    from losspattern_core.surface import Direction

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 6)).astype(np.float32), rng.integers(0, 4, 50)
    net = build_mlp(NetworkSpec(6, 4, 2, 8, "tanh"))
    dirs = [Direction("0.bias", 1), Direction("2.weight", 5, 0.3)]
    pts = rng.random((7, 2))
    ours, _ = evaluate_points(net, dirs, X, y, pts, classes=4, loss="mse")
    ref = naive_surface(net, dirs, X, y, pts, classes=4, loss="mse")
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_the_early_stop_rule():
    from losspattern_core.constructions.common import EarlyStop

    rule = EarlyStop(lambda: 0.0, every=50, enough_db=40.0, min_gain_db=0.25, patience=2)
    assert rule.reason([10.0]) is None
    assert ">= 40 dB" in rule.reason([10.0, 40.5])
    assert rule.reason([10.0, 20.0, 30.0]) is None              # still gaining
    assert "over the last 100 steps" in rule.reason([10.0, 30.0, 30.1, 30.2])
    assert rule.reason([30.0, 30.1, 30.5]) is None              # gained 0.5 dB
    late = EarlyStop(lambda: 0.0, every=50, patience=2, saturation_from=0.6)
    assert late.reason([10.0, 30.0, 30.1, 30.2], progress=0.5) is None   # high rate: go on
    assert "over the last 100 steps" in late.reason([10.0, 30.0, 30.1, 30.2], progress=0.6)
    assert ">= 40 dB" in late.reason([10.0, 40.5], progress=0.1)        # enough: any time


def test_mlps_run_every_scheduled_step(tiny_t1):
    con, *_ = tiny_t1
    assert con.timings["steps"] == con.timings["scheduled_steps"] == 300
    assert "early_stop" not in con.timings


def test_a_conv_regression_stops_once_its_exact_estimate_says_so(monkeypatch):
    """The early stop's estimate is the measured training surface's PSNR (sigma(g) is the loss
    exactly): at a grid smaller than STOP_POINTS it judges every grid point."""
    import dataclasses

    import losspattern_core as lp
    import losspattern_core.constructions.theorem1 as t1
    from losspattern_core.measure.metrics import fidelity
    from losspattern_core.networks import NetworkSpec

    monkeypatch.setattr(t1, "ENOUGH_DB", 12.0)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", steps=400, batch=32, grid=6,
                                snapshot_every=0)
    r = lp.validate(cfg)
    spec = NetworkSpec(64, 10, family="cnn", activation="relu", channels=(8, 16), hidden=16,
                       input_shape=(1, 8, 8))
    con = lp.drive(lp.construct(dataclasses.replace(r, network=spec)))
    stop = con.timings["early_stop"]
    assert stop["stopped_at"] == con.timings["steps"] < 400
    assert stop["stopped_at"] == 50 * len(stop["estimates_db"])
    assert stop["estimates_db"][-1] >= 12.0 and ">= 12 dB" in stop["reason"]
    assert all(e < 12.0 for e in stop["estimates_db"][:-1])
    measured = lp.measure_surfaces(con, splits=("train",)).surfaces["train"]
    psnr = fidelity(measured, con.target, r.loss_range.span)["psnr_db"]
    assert abs(psnr - stop["estimates_db"][-1]) < 0.01
