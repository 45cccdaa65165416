"""``losspattern explore`` and ``losspattern analyse`` end to end, and their refusals."""

from __future__ import annotations

import json

import pytest

from losspattern_core.cli import main

TINY = ["--dataset", "digits", "--steps", "5", "--width", "8", "--grid", "3", "--quiet"]


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


def test_explore_writes_a_bundle_that_verifies_and_analyses(tmp_path, capsys):
    out = tmp_path / "ex"
    assert main(["--threads", "1", "explore", *TINY, "--directions", "pca", "--out",
                 str(out)]) == 0
    for name in ("figure.png", "metrics.json", "directions.safetensors", "accuracy_test.npy",
                 "trajectory.npz", "README.txt"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["exact"] and metrics["analysis"]["train"]["measured"]["basins"] >= 1
    assert len(metrics["pca"]["projection_error"]) == metrics["training"]["snapshots"]
    capsys.readouterr()
    assert main(["--threads", "1", "verify", str(out)]) == 0
    assert "verified" in capsys.readouterr().out
    js = tmp_path / "a.json"
    assert main(["--threads", "1", "analyse", str(out), "--sharpness-samples", "200",
                 "--json", str(js)]) == 0
    text = capsys.readouterr().out
    assert "measured" in text and "top Hessian eigenvalue" in text
    rep = json.loads(js.read_text())
    assert rep["sharpness"]["subset"] == {"samples": 200, "of": 1420, "exact": False,
                                          "how": "stratified by class, seeded"}


def test_analyse_a_construction_reports_target_and_measured_basins(tmp_path, capsys):
    out = tmp_path / "t1"
    assert main(["--threads", "1", "construct", "--pattern", "checkerboard", "--dataset",
                 "digits", "--steps", "40", "--grid", "12", "--width", "16",
                 "--no-baseline", "--quiet", "--out", str(out)]) == 0
    built = json.loads((out / "metrics.json").read_text())["analysis"]["train"]
    assert built["target"]["basins"] >= 1 and built["bottleneck"]["distance"] >= 0
    capsys.readouterr()
    js = tmp_path / "a.json"
    assert main(["analyse", str(out), "--no-sharpness", "--json", str(js)]) == 0
    text = capsys.readouterr().out
    rep = json.loads(js.read_text())["surfaces"]["train"]
    line = f"target {rep['target']['basins']}, measured {rep['measured']['basins']}"
    assert line in text and line == rep["basins"]


@pytest.mark.parametrize("argv, words", [
    (["--directions", "random", "--to", "x"], "--to needs --from"),
    (["--directions", "interpolation", "--z", "2"], "use --z 1"),
    (["--directions", "hessian", "--width", "512", "--hessian-max-mb", "1"], "over the bound"),
    (["--directions", "random", "--ray", "127.0.0.1:1"], "without --ray"),
    (["--arch", "cnn", "--dataset", "synthetic"], "image"),
])
def test_refusals_are_one_line_and_write_nothing(tmp_path, capsys, argv, words):
    out = tmp_path / "ex"
    rc = main(["--threads", "1", "explore", *TINY, *argv, "--out", str(out)])
    assert rc == 2 and words in _error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_an_unusable_ray_address_is_refused_before_training(tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray")
    import losspattern_core.explore.run as run_module

    def no_training(*args, **kw):
        raise AssertionError("trained before checking the Ray address")

    monkeypatch.setattr(run_module, "prepare_explore", no_training)
    monkeypatch.setattr(run_module, "explore", no_training)
    for address, words in (("127.0.0.1:1", "no Ray cluster answers at 127.0.0.1:1"),
                           ("not an address", "is not auto, local:N or HOST:PORT")):
        rc = main(["--threads", "1", "explore", *TINY, "--ray", address, "--out",
                   str(tmp_path / "ex")])
        assert rc == 2 and words in _error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_is_not_overwritten(tmp_path, capsys):
    (tmp_path / "ex").mkdir()
    (tmp_path / "ex" / "keep.txt").write_text("mine")
    assert main(["explore", *TINY, "--out", str(tmp_path / "ex")]) == 2
    assert "already exists" in _error(capsys)
    assert (tmp_path / "ex" / "keep.txt").read_text() == "mine"


def test_ray_path_fills_the_provisional_bundle_and_matches_local(tmp_path, capsys, monkeypatch):
    """--ray: the provisional folder loads as a bundle (workers open it) and the surfaces it
    gets back are written; here a stand-in for ray_surfaces measures locally."""
    import numpy as np

    import losspattern_core.distributed as distributed
    import losspattern_core.distributed.connect as connect
    from losspattern_core.data.datasets import load_dataset
    from losspattern_core.explore.measure import measure_points
    from losspattern_core.frames import drive
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.measure.verify import bundle_split

    seen = {}

    def fake_ray_surfaces(bundle_dir, points, splits=("train", "test"), address="auto",
                          on_progress=None, **kw):
        b = load_bundle(bundle_dir)
        seen["address"], seen["pending"] = address, b.meta.get("surfaces_pending")
        ds = load_dataset(b.meta["dataset"]["name"])
        out = {}
        for split in splits:
            X, y = bundle_split(b, ds, split)
            v = drive(measure_points(b.model, b.directions, X, y, points))
            out[split] = {"loss": v.loss[:, None], "acc": v.acc[:, None]}
        return out

    monkeypatch.setattr(distributed, "ray_surfaces", fake_ray_surfaces)
    monkeypatch.setattr(connect, "check_reachable", lambda address: None)   # no cluster here
    args = ["--threads", "1", "explore", *TINY, "--directions", "random"]
    assert main([*args, "--ray", "auto", "--out", str(tmp_path / "r")]) == 0
    assert seen == {"address": "auto", "pending": True}
    assert main([*args, "--out", str(tmp_path / "l")]) == 0
    remote, local = load_bundle(tmp_path / "r"), load_bundle(tmp_path / "l")
    assert "surfaces_pending" not in remote.meta
    for split in ("train", "test"):
        np.testing.assert_allclose(remote.surfaces[split], local.surfaces[split], rtol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
