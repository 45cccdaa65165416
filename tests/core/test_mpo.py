"""The multi-point optimisation run: it lowers its objective, its engines agree, its surface is
the network's measured loss, it is cancellable, refuses bad input, and writes a bundle that
loads back."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
import torch

import losspattern_core as lp
from losspattern_core.constructions.mpo import MpoConfig, construct, validate_mpo
from losspattern_core.constructions.mpo_bundle import save_mpo_bundle
from losspattern_core.constructions.mpo_cells import objective_backward
from losspattern_core.constructions.mpo_mask import image_to_grid
from losspattern_core.constructions.mpo_plane import Plane
from losspattern_core.constructions.mpo_surface import point_surface
from losspattern_core.data.datasets import load_dataset
from losspattern_core.data.pattern_core import Pattern
from losspattern_core.errors import ConfigError, LossPatternError, PatternError
from losspattern_core.grid import range_points
from losspattern_core.io.bundle import load_bundle
from losspattern_core.networks import NetworkSpec, as_input, build_network

SPEC = NetworkSpec(64, 10, family="cnn", activation="relu", input_shape=(1, 8, 8),
                   channels=(4, 8), hidden=16)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _run(digits, **kw):
    cfg = MpoConfig(**{"pattern": "heart", "dataset": "digits", "grid": 8, "batch": 128,
                       "good_cells": 8, "bad_cells": 8, "lr": 3e-3, **kw})
    return dataclasses.replace(validate_mpo(cfg, dataset=digits), network=SPEC)


def _objective(res, tau: float = 2.5) -> float:
    """J over every band cell and every training sample (no sampling)."""
    X, y = res.run.dataset.split("train")
    loss, _ = lp.drive(point_surface(res.model, res.directions,
                                     as_input(torch.as_tensor(X), SPEC), y,
                                     range_points(res.grid, 2, res.alpha_range)))
    band = image_to_grid(res.run.mask).ravel()
    return float(loss[band == 1].mean() - np.clip(loss[band == -1], 0, tau).mean())


def test_a_few_iterations_lower_the_objective_on_digits(digits):
    before = lp.drive(construct(_run(digits, steps=1)))
    after = lp.drive(construct(_run(digits, steps=25)))
    assert _objective(after) < _objective(before) - 0.03
    assert after.timings["steps"] == 25 and after.stopped == "steps"
    n = len(digits.train_idx)             # 12 steps an epoch, the last one short
    assert after.evaluations["sample_passes"] == 16 * (2 * n + 128)
    assert after.plane["cos_up_right"] == pytest.approx(0, abs=1e-6)


def test_frames_are_mpo_phase_and_closing_the_generator_cancels(digits):
    gen = construct(_run(digits, steps=50))
    frames = [next(gen), next(gen)]
    gen.close()
    assert [f.step for f in frames] == [1, 2] and frames[0].phase == "mpo"
    assert frames[0].total == 50 and np.isfinite(frames[0].reg_loss)


def test_the_vmap_and_loop_engines_give_the_same_objective_and_gradient(digits):
    X, y = digits.split("train")
    x = as_input(torch.as_tensor(X[:40]), SPEC)
    yy = torch.as_tensor(y[:40])
    net = build_network(SPEC).eval().requires_grad_(False)
    good, bad = torch.tensor([[0, 1], [2, -1], [-3, 0]]), torch.tensor([[1, 1], [-2, 2]])
    out = {}
    for engine in ("vmap", "loop"):
        plane = Plane(SPEC, seed=2)
        stats = objective_backward(plane, net, good, bad, x, yy, 2.5, engine, chunk=2)
        out[engine] = (stats, [p.grad.clone() for p in plane.parameters()])
    assert out["vmap"][0]["J"] == pytest.approx(out["loop"][0]["J"], abs=1e-5)
    for gv, gl in zip(out["vmap"][1], out["loop"][1], strict=True):
        assert torch.allclose(gv, gl, atol=1e-5, rtol=1e-4)
        assert float(gv.abs().sum()) > 0


def test_the_reported_surface_is_the_naive_loss_and_the_model_is_untouched(digits):
    res = lp.drive(construct(_run(digits, steps=3)))
    X, y = digits.split("test")
    Xi = as_input(torch.as_tensor(X), SPEC)
    alphas = range_points(8, 2, res.alpha_range)[[0, 9, 36, 63]]
    before = {k: v.clone() for k, v in res.model.state_dict().items()}
    loss, acc = lp.drive(point_surface(res.model, res.directions, Xi, y, alphas))
    ref = lp.naive_surface(res.model, res.directions, Xi, y, alphas, classes=10)[:, 0]
    assert np.allclose(loss, ref, atol=1e-5)
    assert all(torch.equal(v, res.model.state_dict()[k]) for k, v in before.items())
    with torch.no_grad():
        p = lp.surface.params_at(res.model, res.directions, alphas[2])
        pred = torch.func.functional_call(res.model, p, (Xi,)).argmax(-1)
    assert acc[2] == pytest.approx(float((pred == torch.as_tensor(y)).double().mean()))


@pytest.mark.parametrize("kw, err, words", [
    (dict(tau=0.0), ConfigError, "tau"),
    (dict(engine="gpu"), ConfigError, "engine"),
    (dict(grid=2), ConfigError, "grid"),
    (dict(arch="vgg"), ConfigError, "arch"),
    (dict(steps=0), ConfigError, "steps"),
])
def test_bad_options_are_refused_before_any_work(digits, kw, err, words):
    with pytest.raises(err, match=words):
        validate_mpo(MpoConfig(dataset="digits", **kw), dataset=digits)


def test_a_blank_icon_and_a_non_image_dataset_are_refused(digits):
    blank = Pattern("blank", 2, lambda a: np.ones(len(a)))
    with pytest.raises(PatternError, match="edge"):
        validate_mpo(MpoConfig(dataset="digits"), dataset=digits, pattern=blank)
    flat = load_dataset("synthetic:dim=30,n=200")
    with pytest.raises(ConfigError, match="square"):
        validate_mpo(MpoConfig(dataset="synthetic"), dataset=flat)


def test_the_bundle_is_format_2_and_loads_back(digits, tmp_path):
    res = lp.drive(construct(_run(digits, steps=2, grid=6)))
    g = np.random.default_rng(0).random((6, 6))
    surfaces = {"train": (g, g / 3), "test": (g + 1, g / 2)}
    out = save_mpo_bundle(tmp_path / "b", res, surfaces, {"note": 1},
                          subset={"test": digits.test_idx[:5], "train": digits.train_idx[:5]})
    b = load_bundle(out)
    assert b.meta["format"].endswith("/2") and b.meta["method"] == "mpo"
    assert np.array_equal(b.surfaces["test"], g + 1)
    assert np.array_equal(np.load(out / "accuracy_train.npy"), g / 3)
    assert set(np.unique(np.load(out / "mask.npy"))) <= {-1, 0, 1}
    assert b.meta["measured_on"]["test"]["samples"] == 5
    for d_loaded, d in zip(b.directions, res.directions, strict=True):
        assert all(torch.equal(d_loaded.tensors[k], d.tensors[k]) for k in d.tensors)
    assert all(torch.equal(v, res.model.state_dict()[k]) for k, v in b.model.state_dict().items())
    with pytest.raises(LossPatternError, match="already exists"):
        save_mpo_bundle(tmp_path / "b", res, surfaces, {})


def test_the_mpo_command_writes_a_bundle(tmp_path, capsys):
    from losspattern_core.commands.mpo import register

    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(["mpo", "--pattern", "heart", "--dataset", "digits", "--grid", "5",
                         "--steps", "2", "--batch", "16", "--cells", "2", "--eval-samples",
                         "20", "--out", str(tmp_path / "run"), "--quiet"])
    assert args.func(args) == 0
    b = load_bundle(tmp_path / "run")
    assert b.surfaces["test"].shape == (5, 5) and (tmp_path / "run" / "figure.png").is_file()
    assert "test IoU" in capsys.readouterr().out


def test_their_early_stop_ends_the_run_after_the_warm_up_epochs(digits):
    res = lp.drive(construct(_run(digits, batch=512, epochs=3, warmup_epochs=0,
                                  min_acc_gap=1.0)))
    assert res.stopped.startswith("early stop at epoch 1") and res.timings["steps"] == 3
    assert len(res.checks) == 1 and -1 <= res.checks[0]["acc_gap"] <= 1
    full = lp.drive(construct(_run(digits, batch=512, epochs=2, warmup_epochs=5)))
    assert full.stopped == "epochs" and full.timings["steps"] == 6 and not full.checks


def test_the_bundle_goes_through_the_shared_atomic_writer(digits, tmp_path, monkeypatch):
    import json

    import losspattern_core.constructions.mpo_bundle as mpo_bundle

    calls, real = [], mpo_bundle.commit_bundle
    monkeypatch.setattr(mpo_bundle, "commit_bundle",
                        lambda out, *a, **k: calls.append(out) or real(out, *a, **k))
    res = lp.drive(construct(_run(digits, steps=1, grid=4)))
    g = np.zeros((4, 4))
    surfaces = {"train": (g, g), "test": (g + 1, g)}

    def fails(tmp):
        (tmp / "figure.png").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_mpo_bundle(tmp_path / "b", res, surfaces, {}, extras=fails)
    assert list(tmp_path.iterdir()) == []          # nothing half-written, no temporary left
    out = save_mpo_bundle(tmp_path / "b", res, surfaces, {"note": 1})
    assert calls == [tmp_path / "b", tmp_path / "b"]
    meta = json.loads((out / "construction.json").read_text())
    assert set(meta["checksums"]) == {p.name for p in out.iterdir()} - {"construction.json"}
    assert json.loads((out / "metrics.json").read_text()) == {"note": 1}
