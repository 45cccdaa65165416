"""The explore run against the naive loop (every direction kind x every family), its bundle's
round trip and README script, cancellation, and mismatched interpolations."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from losspattern_core.errors import ConfigError
from losspattern_core.explore.config import ExploreConfig
from losspattern_core.explore.report import explore_metrics
from losspattern_core.explore.run import ExploreCancelled, SurfaceLevel, explore
from losspattern_core.frames import drive
from losspattern_core.io.explore_bundle import load_explore_bundle, save_explore_bundle
from losspattern_core.surface import naive_surface

TINY = dict(dataset="digits", steps=6, width=8, channels=(4, 4), blocks=1, seed=1,
            snapshot_every=2, hessian_iterations=15)


def _run(**kw):
    levels = []
    res = drive(explore(ExploreConfig(**{**TINY, **kw})),
                lambda it: levels.append(it) if isinstance(it, SurfaceLevel) else None)
    return res, levels


@pytest.mark.parametrize("arch", ["mlp", "cnn", "resnet"])
@pytest.mark.parametrize("kind", ["random", "pca", "hessian", "interpolation"])
def test_surface_equals_naive_loop(arch, kind):
    z = 1 if kind == "interpolation" else 2
    res, levels = _run(arch=arch, directions=kind, z=z, grid=4 if z == 2 else 6,
                       subsample=120, start=2)
    pts = res.points()
    for split in ("train", "test"):
        X, y = res.resolved.split(split, res.subset[split])
        naive = naive_surface(res.model, res.directions, X, y, pts, classes=10)[:, 0]
        got = res.surfaces[split]["loss"].ravel()
        np.testing.assert_allclose(got, naive, rtol=1e-5)
        assert np.all(res.surfaces[split]["loss_se"] > 0)    # a subsample states its error
    assert [lv.size for lv in levels][-1] == res.grid and levels[-1].final
    assert all(d.tensors is not None for d in res.directions)


def test_exact_by_default_and_levels_are_nested():
    res, levels = _run(directions="random", grid=5, start=3)
    X, y = res.resolved.split("train")
    assert len(y) == len(res.resolved.dataset.train_idx)
    naive = naive_surface(res.model, res.directions, X, y, res.points(), classes=10)[:, 0]
    np.testing.assert_allclose(res.surfaces["train"]["loss"].ravel(), naive, rtol=1e-5)
    assert np.all(res.surfaces["train"]["loss_se"] == 0)
    coarse = levels[0]
    full = res.surfaces["test"]["acc"]
    np.testing.assert_array_equal(coarse.surfaces["test"]["acc"],
                                  full[np.ix_(coarse.indices, coarse.indices)])


def test_pca_reports_explained_share_and_projection_error():
    res, _ = _run(directions="pca", grid=3)
    m = explore_metrics(res)
    assert 0 < m["pca"]["explained_share"] <= 1 + 1e-9
    assert len(m["pca"]["projection_error"]) == len(res.training.trajectory)


def test_bundle_round_trip_and_readme_script(tmp_path):
    res, _ = _run(directions="random", grid=3, subsample=100)
    metrics = explore_metrics(res)
    out = save_explore_bundle(tmp_path / "b", res, metrics)
    eb = load_explore_bundle(out)
    b = eb.bundle
    assert b.meta["method"] == "explore" and b.target is None
    assert b.meta["measured_on"]["train"]["samples"] == len(res.subset["train"])
    np.testing.assert_array_equal(b.surfaces["train"], res.surfaces["train"]["loss"])
    np.testing.assert_array_equal(eb.accuracy["test"], res.surfaces["test"]["acc"])
    np.testing.assert_array_equal(eb.stderr["train"]["loss"], res.surfaces["train"]["loss_se"])
    for d, e in zip(b.directions, res.directions, strict=True):
        for k, t in e.tensors.items():
            np.testing.assert_array_equal(d.tensors[k].numpy(), t.numpy())
    script = (out / "README.txt").read_text().split("\n\n")[-2]
    assert len(script.splitlines()) <= 40
    run = subprocess.run([sys.executable, "-c", script], cwd=out, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    words = run.stdout.replace("[", " ").replace("]", " ").split()
    recomputed, stored = float(words[1]), float(words[3])
    assert recomputed == pytest.approx(stored, rel=1e-5)


def test_cancel_event_stops_the_run_and_nothing_is_written(tmp_path):
    cancel = threading.Event()
    gen = explore(ExploreConfig(**TINY, directions="random", grid=3), cancel=cancel)
    first = next(gen)
    assert first.phase == "training"
    cancel.set()
    with pytest.raises(ExploreCancelled):
        next(gen)


def test_interrupted_write_leaves_no_bundle(tmp_path):
    res, _ = _run(directions="random", grid=3)

    def interrupt(_tmp):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_explore_bundle(tmp_path / "b", res, {}, fill=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_interpolation_of_different_architectures_names_the_layer(tmp_path):
    small, _ = _run(directions="random", grid=2, width=8)
    wide, _ = _run(directions="random", grid=2, width=12)
    a = save_explore_bundle(tmp_path / "a", small, {})
    b = save_explore_bundle(tmp_path / "b", wide, {})
    with pytest.raises(ConfigError, match=r"'0\.weight'"):
        drive(explore(ExploreConfig(directions="interpolation", z=1, grid=3,
                                    from_bundle=str(a), to_bundle=str(b))))
    tanh, _ = _run(directions="random", grid=2, width=8, activation="tanh")
    c = save_explore_bundle(tmp_path / "c", tanh, {})
    with pytest.raises(ConfigError, match="layer 1"):
        drive(explore(ExploreConfig(directions="interpolation", z=1, grid=3,
                                    from_bundle=str(a), to_bundle=str(c))))
    res = drive(explore(ExploreConfig(directions="interpolation", z=1, grid=3,
                                      from_bundle=str(a), to_bundle=str(a))))
    assert res.training is None and np.ptp(res.surfaces["train"]["loss"]) < 1e-6


def test_hessian_refused_over_the_memory_bound():
    with pytest.raises(ConfigError, match="over the bound"):
        drive(explore(ExploreConfig(**TINY, directions="hessian", grid=2,
                                    hessian_max_bytes=1000)))
