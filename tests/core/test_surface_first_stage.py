"""The general path's speed-ups for conv networks give the same numbers as the plain way:
the first moved layer and the unmoved modules after it run for groups of points a chunk of
samples at a time (``first_stage``), an unmoved average pool and flatten fold into the
Linear after them (``fold_pooling``), and ``measure_points`` keeps a block's first-layer
products between its batches of points (one block at a time)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_surface_families import images, model_of
from torch import nn

import losspattern_core.surface.family_kernels as FK
import losspattern_core.surface.first_stage as FS
from losspattern_core.explore import filter_normalized_directions
from losspattern_core.explore.measure import SplitPreparation, measure_points
from losspattern_core.frames import drive
from losspattern_core.surface import evaluate_points, naive_surface, prepare, random_direction
from losspattern_core.surface.fold_pooling import FlattenInMemoryOrder, fold_pool_into_linear
from losspattern_core.surface.modules import module_net
from losspattern_core.surface.pointwise import run_points


def dense(model, z=2):
    return [random_direction(model, seed=s) for s in range(1, z + 1)]


def li_et_al(model, z=2):
    """Filter-normalised directions, biases and BatchNorm left alone (what explore uses)."""
    return filter_normalized_directions(model, z, seed=4)


def points(n=11, z=2):
    return np.random.default_rng(5).uniform(-1, 1.5, size=(n, z))


@pytest.mark.parametrize("family", ["cnn", "resnet"])
def test_grouped_chunked_first_stage_equals_one_point_at_a_time_and_the_naive_loop(
        family, monkeypatch):
    """11 points (groups of 8 and 3), chunks of a few samples: the same losses as the plain
    one-point path to float rounding, and as the naive loop to 1e-5."""
    m = model_of(family)
    dirs, pts = li_et_al(m), points()
    X, y = images(family)
    prep = prepare(m, dirs, X, y, 10)
    assert prep.mode == "general"
    assert FK.general_tiles(prep, 2**22)[1] == 1          # one point per tile: staged
    calls = []
    real = FK.through_unmoved
    monkeypatch.setattr(FK, "through_unmoved", lambda *a: calls.append(len(a[2])) or real(*a))
    monkeypatch.setattr(FS, "CHUNK_FLOATS", 8 * 3 * prep.net.widest)   # 3 samples a chunk
    staged, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep)
    assert calls == [8, 3]
    monkeypatch.setattr(FK, "unmoved_stop", lambda net, start: start)    # staging off
    plain, _ = evaluate_points(m, dirs, X, y, pts, classes=10, prepared=prep)
    assert calls == [8, 3]
    np.testing.assert_allclose(staged, plain, rtol=1e-6)
    ref = naive_surface(m, dirs, X, y, pts, classes=10)
    np.testing.assert_allclose(staged, ref, rtol=1e-5)


def test_the_group_fits_half_the_budget_and_the_split_keeps_one_copy():
    m = model_of("cnn")
    X, y = images("cnn")
    prep = prepare(m, dense(m), X, y, 10)
    net = prep.net
    a = net.layout(FK.run_plain(net, net.first, prep.X, len(X)))
    split = FK.affine_split(net.mods[net.first], net.deltas[net.first], a)
    # the split keeps one copy of the first layer's output: its base is row 0 of its stack
    assert split.base.untyped_storage().data_ptr() == split.stacked.untyped_storage().data_ptr()
    torch.testing.assert_close(split.base, net.mods[net.first](a))
    assert split.base.is_contiguous(memory_format=torch.channels_last)
    stop = FK.unmoved_stop(net, net.first + 1)
    kept = len(X) * int(np.prod(net.shapes[stop]))
    assert FK.group_size(net, split, stop, 2**30) == FS.GROUP
    assert FK.group_size(net, split, stop, 2 * 3 * kept) == 3
    assert FK.group_size(net, split, stop, 1) == 1


def test_average_pool_and_flatten_fold_into_the_linear_after_them():
    """The cnn's AdaptiveAvgPool2d(4, 4) on 2 x 2 maps and Flatten fold into the head's first
    Linear (6 * 2 * 2 = 24 inputs instead of 96); per-point outputs at alpha != 0 equal the
    unfolded network's. ResNet's global pool (it would grow the Linear) is left alone."""
    m = model_of("cnn")
    dirs = dense(m)
    X, _ = images("cnn")
    net = module_net(m, dirs, tuple(X.shape[1:]), torch.device("cpu"))
    folded = fold_pool_into_linear(net)
    i = next(k for k, mod in enumerate(net.mods) if isinstance(mod, nn.AdaptiveAvgPool2d))
    assert isinstance(folded.mods[i], nn.Identity)
    assert isinstance(folded.mods[i + 1], FlattenInMemoryOrder)
    assert folded.mods[i + 2].in_features == 24 and net.mods[i + 2].in_features == 96
    assert folded.deltas[i + 2]["weight"].shape == (2, 8, 24)
    alpha = torch.tensor([[0.7, -1.2], [0.0, 0.0], [1.5, 0.3]])
    x = net.layout(X[:50])
    want, _ = run_points(net, 0, len(net.mods), x, alpha, False)
    got, _ = run_points(folded, 0, len(folded.mods), x, alpha, False)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    r = model_of("resnet")
    rnet = module_net(r, dense(r), tuple(images("resnet")[0].shape[1:]), torch.device("cpu"))
    assert fold_pool_into_linear(rnet) is rnet


def test_measure_points_keeps_one_blocks_first_layer_products_between_batches(monkeypatch):
    """Three blocks, batches of 2 points: the first layer's products are made once per block
    (not once per batch), only the block being measured keeps them, and the values equal the
    evaluator's over the whole split."""
    m = model_of("cnn")
    dirs, pts = dense(m), points(7)
    X, y = images("cnn")
    made = []
    real = FK.affine_split
    monkeypatch.setattr(FK, "affine_split", lambda *a: made.append(1) or real(*a))
    prep = SplitPreparation(m, dirs, X, y, block=80)
    got = drive(measure_points(m, dirs, X, y, pts, prepared=prep, points=2))
    assert prep.blocks == 3 and len(made) == 3              # 4 batches a block, 1 split each
    kept = [prep._prepared[b].kept for b in range(3)]
    assert kept[2] and kept[0] is None and kept[1] is None
    ref, _ = evaluate_points(m, dirs, X, y, pts, classes=10)
    np.testing.assert_allclose(got.loss, ref[:, 0], rtol=1e-6)
