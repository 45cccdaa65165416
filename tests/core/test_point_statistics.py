"""point_statistics (loss, loss^2, accuracy per point from the evaluator's own kernels) equals a
naive per-point loop on every path, and measure_points built on it keeps its SE formula, yields
frames often and stops when cancelled."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from test_surface import data, net, theorem2_net
from test_surface_families import images, model_of
from test_surface_families import theorem1 as conv_theorem1

from losspattern_core.explore.measure import measure_points
from losspattern_core.frames import Frame, drive
from losspattern_core.losses import per_class_loss
from losspattern_core.surface import (
    Direction,
    naive_surface,
    params_at,
    point_statistics,
    prepare,
    random_direction,
)
from losspattern_core.surface.families import FamilyPrepared

BIAS = lambda z: [Direction("0.bias", i, 1.0) for i in range(z)]  # noqa: E731


def naive_statistics(model, dirs, X, y, pts, loss="cross_entropy"):
    """(mean loss^2, accuracy) per point: one functional_call forward of the split per point."""
    model = model.eval()
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    sq, acc = [], []
    with torch.no_grad():
        for alpha in pts:
            logits = torch.func.functional_call(model, params_at(model, dirs, alpha), (X,))
            ell = per_class_loss(logits, loss).gather(1, y.view(-1, 1)).squeeze(1).double()
            sq.append(float((ell**2).mean()))
            acc.append(float((logits.argmax(1) == y).double().mean()))
    return np.array(sq), np.array(acc)


def check(model, dirs, X, y, classes, loss="cross_entropy", npts=7, spread=1.0, **kw):
    pts = spread * np.random.default_rng(3).uniform(-1, 1.5, size=(npts, len(dirs)))
    got = point_statistics(model, dirs, X, y, pts, classes=classes, loss=loss, **kw)
    ref_loss = naive_surface(model, dirs, X, y, pts, classes=classes, loss=loss).reshape(-1)
    ref_sq, ref_acc = naive_statistics(model, dirs, X, y, pts, loss)
    np.testing.assert_allclose(got.loss[:, 0], ref_loss, rtol=1e-5)
    np.testing.assert_allclose(got.loss_sq[:, 0], ref_sq, rtol=1e-5)
    np.testing.assert_array_equal(got.acc[:, 0], ref_acc)
    assert 0 < ref_acc.max() and len(np.unique(ref_acc)) > 1    # accuracy really varies
    return got


def with_output_bias(model, z=1):
    """z first-layer bias directions and a random move of the output bias (the arg-max class
    changes across points even where every sample gives the same logits)."""
    last = len(model) - 1
    return BIAS(z) + [random_direction(model, seed=7, params=[f"{last}.bias"])]


def dense(model, z=2):
    return [random_direction(model, seed=s) for s in range(1, z + 1)]


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_mlp_general_path(loss):
    X, y = data(n=300, dup=False)
    m = net(width=16)
    assert prepare(m, dense(m), X, y, 4).rows == 300
    check(m, dense(m), X, y, 4, loss=loss)


def test_mlp_duplicated_rows_weigh_by_label_counts():
    X, y = data(n=300)          # repeated inputs, some with another label
    m = net(width=16)
    prep = prepare(m, dense(m), X, y, 4)
    assert prep.rows < 300 and prep.label is None
    check(m, dense(m), X, y, 4)
    check(m, dense(m), X, y, 4, budget=64)    # tiny tiles: same numbers


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_theorem1_mlp_one_row(loss):
    X, y = data(n=300)
    m = net(zero_units=9)
    assert prepare(m, with_output_bias(m), X, y, 4).rows == 1
    check(m, with_output_bias(m), X, y, 4, loss=loss, spread=3.0)


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_theorem2_mlp_separable(loss):
    X, y = data(n=300)
    m = theorem2_net("relu", 2)
    assert "separable" in prepare(m, BIAS(2), X, y, 4).info
    check(m, BIAS(2), X, y, 4, loss=loss)
    check(m, BIAS(2), X, y, 4, loss=loss, budget=50)


def test_conv_theorem1_one_row():
    m = conv_theorem1("cnn", True)
    X, y = images("cnn")
    prep = prepare(m, with_output_bias(m), X, y, 10)
    assert isinstance(prep, FamilyPrepared) and prep.mode == "one_row"
    check(m, with_output_bias(m), X, y, 10, spread=3.0)


def test_conv_theorem2_separable():
    from losspattern_core.constructions.channel_blocks import channel_blocks, zero_coupling

    m = model_of("cnn", 1, False)
    zero_coupling(m, channel_blocks(m, (1, 8, 8), 2))
    with torch.no_grad():
        m[0].bias[:2] = torch.tensor([-0.4, 0.3])
    X, y = images("cnn")
    dirs = with_output_bias(m, 2)
    assert prepare(m, dirs, X, y, 10).mode == "separable"
    check(m, dirs, X, y, 10, spread=3.0)


@pytest.mark.parametrize("family,bn", [("cnn", False), ("resnet", True)])
def test_conv_general_path(family, bn):
    m = model_of(family, 1, bn)
    X, y = images(family)
    assert prepare(m, dense(m), X, y, 10).mode == "general"
    check(m, dense(m), X, y, 10)
    check(m, dense(m), X, y, 10, budget=2**14)


def test_conv_blocks_share_one_network_copy_and_measure_as_the_whole_split():
    """A conv network's blocks of samples share block 0's network copies and deltas (a split
    of 60 000 images has 360 blocks); the values equal the evaluator over the whole split."""
    from losspattern_core.explore.measure import SplitPreparation

    m = model_of("cnn", 1, False)
    X, y = images("cnn")
    dirs = dense(m)
    pts = np.random.default_rng(5).uniform(-1, 1, size=(5, 2))
    prep = SplitPreparation(m, dirs, X, y, block=64)
    got = drive(measure_points(m, dirs, None, None, pts, prepared=prep))
    assert prep.blocks > 2
    firsts = [prep.prepared(b) for b in range(prep.blocks)]
    assert all(p.net is firsts[0].net for p in firsts)
    assert sum(p.n for p in firsts) == len(y)
    ref = point_statistics(m, dirs, X, y, pts, classes=10)
    np.testing.assert_allclose(got.loss, ref.loss[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(got.acc, ref.acc[:, 0])


@pytest.mark.parametrize("dup", [False, True])
def test_tied_logits_count_the_first_maximum_as_argmax_does(dup):
    X, y = data(n=300, dup=dup)          # dup: rows with mixed labels (the counts path)
    m = net(width=16)
    with torch.no_grad():                # classes 1 and 3 always tie: argmax says 1
        m[-1].weight[3] = m[-1].weight[1]
        m[-1].bias[3] = m[-1].bias[1] + 0.1
        m[-1].bias[1] += 0.1
    dirs = [random_direction(m, seed=s, params=["0.weight", "0.bias"]) for s in (1, 2)]
    assert (prepare(m, dirs, X, y, 4).label is None) == dup
    with torch.no_grad():
        logits = m.eval()(torch.as_tensor(X))
    assert bool((logits.argmax(1) == 1).any())      # the tie is the maximum somewhere
    check(m, dirs, X, y, 4)


# --- measure_points on the evaluator ----------------------------------------------------------

def small():
    X, y = data(n=300, dup=False)
    m = net(width=16)
    pts = np.random.default_rng(4).uniform(-1, 1, size=(10, 2))
    return m, dense(m), X, y, pts


def test_measure_points_equals_the_statistics_and_its_se_formula():
    m, dirs, X, y, pts = small()
    whole = drive(measure_points(m, dirs, X, y, pts, points=len(pts)))   # one batch: same tiles
    ref = point_statistics(m, dirs, X, y, pts, classes=4)
    np.testing.assert_allclose(whole.loss, ref.loss[:, 0], rtol=1e-12)
    np.testing.assert_array_equal(whole.acc, ref.acc[:, 0])
    assert not whole.loss_se.any() and not whole.acc_se.any()      # exact: SE 0
    rows = np.random.default_rng(0).choice(len(y), 100, replace=False)
    sub = drive(measure_points(m, dirs, X[rows], y[rows], pts, population=len(y),
                               points=len(pts)))
    s = point_statistics(m, dirs, X[rows], y[rows], pts, classes=4)
    n, N = 100, len(y)
    var = (s.loss_sq[:, 0] - s.loss[:, 0] ** 2) * n / (n - 1)
    np.testing.assert_allclose(sub.loss_se, np.sqrt(var / n * (N - n) / (N - 1)), rtol=1e-9)
    a = s.acc[:, 0]
    np.testing.assert_allclose(sub.acc_se, np.sqrt(a * (1 - a) / (n - 1) * (N - n) / (N - 1)),
                               rtol=1e-9)
    assert (sub.loss_se > 0).all()


def test_no_directions_measures_the_network_itself():
    m, _, X, y, _ = small()
    got = drive(measure_points(m, [], X, y, np.zeros((1, 0))))
    ref_sq, ref_acc = naive_statistics(m, [], X, y, np.zeros((1, 0)))
    assert got.acc[0] == ref_acc[0]
    with torch.no_grad():
        logits = m.eval()(torch.as_tensor(X))
    ref = float(per_class_loss(logits, "cross_entropy")
                .gather(1, torch.as_tensor(y).view(-1, 1)).double().mean())
    assert got.loss[0] == pytest.approx(ref, rel=1e-6)
    still = [Direction(tensors={"0.bias": torch.zeros_like(m[0].bias)})]   # moves nothing
    flat = drive(measure_points(m, still, X, y, np.array([[0.0], [2.0]])))
    np.testing.assert_allclose(flat.loss, [ref, ref], rtol=1e-6)
    np.testing.assert_array_equal(flat.acc, [ref_acc[0], ref_acc[0]])


def test_measure_points_yields_a_frame_per_sample_block():
    m, dirs, X, y, pts = small()
    gen = measure_points(m, dirs, X, y, pts, block=64, points=4)
    frames = []
    got = drive(gen, frames.append)
    blocks = -(-len(y) // 64)
    assert all(isinstance(f, Frame) for f in frames)
    assert len(frames) == blocks * 3                       # 3 point batches x 5 blocks
    steps = [f.step for f in frames]
    assert steps == sorted(steps) and steps[-1] == frames[-1].total == len(pts) * blocks
    ref = drive(measure_points(m, dirs, X, y, pts))
    np.testing.assert_allclose(got.loss, ref.loss, rtol=1e-6)
    np.testing.assert_array_equal(got.acc, ref.acc)


def test_closing_measure_points_stops_it():
    m, dirs, X, y, pts = small()
    gen = measure_points(m, dirs, X, y, pts, block=64, points=1)
    next(gen), next(gen)
    gen.close()
    with pytest.raises(StopIteration):
        next(gen)


def test_a_cancelled_explore_measurement_stops_at_the_next_frame():
    from losspattern_core.explore.run import ExploreCancelled, _guard

    m, dirs, X, y, pts = small()
    cancel, seen = threading.Event(), []
    gen = _guard(measure_points(m, dirs, X, y, pts, block=64, points=1), cancel)
    with pytest.raises(ExploreCancelled):
        for item in gen:
            seen.append(item)
            if len(seen) == 3:
                cancel.set()
    assert len(seen) == 3
