"""From a real bundle (written by save_bundle) to the export formats and back, and the
``losspattern export`` command; folders that are not bundles, and a newer format."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil

import numpy as np
import pytest
from test_exports_support import make_bundle, read_vtp

from losspattern_core.errors import BundleError, ConfigError
from losspattern_core.exports import export_bundle, import_loss_landscape_h5, open_surfaces
from losspattern_core.io.bundle import load_bundle


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_bundle(tmp_path_factory.mktemp("b") / "smiley")


def run_cli(argv: list[str]) -> int:
    from losspattern_core.commands.export import register

    parser = argparse.ArgumentParser(prog="losspattern")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_bundle_surfaces_keep_their_orientation(bundle):
    data = open_surfaces(bundle)
    assert data.z == 2 and data.shape == (12, 12)
    for name, file in (("train", "surface_train.npy"), ("test", "surface_test.npy"),
                       ("target", "target.npy")):
        np.testing.assert_array_equal(data.surfaces[name], np.load(bundle / file))
    assert data.info["pattern"] == "smiley" and data.info["dataset"] == "digits"
    assert data.alpha_range == load_bundle(bundle, weights=False).alpha_range


def test_an_unsaved_run_exports_like_its_bundle(bundle):
    from losspattern_core.exports import surfaces_from_run

    con, measurement = make_bundle.last_run
    run, saved = surfaces_from_run(con, measurement), open_surfaces(bundle)
    assert set(run.surfaces) == set(saved.surfaces)
    for name in saved.surfaces:
        np.testing.assert_array_equal(run.surfaces[name], saved.surfaces[name])
    for a, b in zip(run.coordinates, saved.coordinates, strict=True):
        np.testing.assert_array_equal(a, b)
    assert {k: v for k, v in run.info.items() if k != "source"} == \
        {k: v for k, v in saved.info.items() if k != "source"}


def test_open_what_you_saved_h5_round_trip(bundle, tmp_path):
    out = export_bundle(bundle, "h5", tmp_path / "s.h5")
    back = import_loss_landscape_h5(out)
    train = np.load(bundle / "surface_train.npy")
    np.testing.assert_array_equal(back.surfaces["train"], train)
    np.testing.assert_array_equal(open_surfaces(out).surfaces["target"],
                                  np.load(bundle / "target.npy"))
    assert back.info["source"] == str(out) and back.info["pattern"] == "smiley"


def test_optional_accuracy_files_are_read_and_checked(bundle, tmp_path):
    copy = tmp_path / "acc"
    shutil.copytree(bundle, copy)
    acc = np.linspace(0, 1, 144).reshape(12, 12)
    np.save(copy / "accuracy_train.npy", acc)
    meta = json.loads((copy / "construction.json").read_text())
    meta["checksums"]["accuracy_train.npy"] = hashlib.sha256(
        (copy / "accuracy_train.npy").read_bytes()).hexdigest()
    (copy / "construction.json").write_text(json.dumps(meta))
    data = open_surfaces(copy)
    np.testing.assert_array_equal(data.accuracy["train"], acc)
    export_bundle(copy, "h5", tmp_path / "a.h5")
    np.testing.assert_allclose(import_loss_landscape_h5(tmp_path / "a.h5").accuracy["train"],
                               acc, atol=1e-12)
    np.save(copy / "accuracy_train.npy", acc * 2)            # changed after the checksum
    with pytest.raises(BundleError, match="accuracy_train.npy"):
        open_surfaces(copy)


def test_not_a_bundle_and_newer_format_messages_pass_through(bundle, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"construction\.json: missing"):
        open_surfaces(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BundleError, match="not a bundle folder or a loss-landscape .h5"):
        open_surfaces(tmp_path / "notes.txt")
    newer = tmp_path / "newer"
    shutil.copytree(bundle, newer)
    meta = json.loads((newer / "construction.json").read_text())
    meta["format"] = "losspattern.construction/99"
    (newer / "construction.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError) as theirs:
        load_bundle(newer, weights=False)
    with pytest.raises(BundleError) as ours:
        open_surfaces(newer)
    assert str(ours.value) == str(theirs.value)


def test_cli_export_writes_and_reports(bundle, tmp_path, capsys):
    assert run_cli(["export", str(bundle), "--format", "vtp", "--out",
                    str(tmp_path / "s.vtp"), "--source", "test", "--quiet"]) == 0
    assert f"wrote {tmp_path / 's.vtp'}" in capsys.readouterr().out
    vtp = read_vtp(tmp_path / "s.vtp")
    assert vtp["active"] == "test_loss" and vtp["n_points"] == 144
    assert run_cli(["export", str(bundle), "--format", "stl", "--out",
                    str(tmp_path / "s.stl"), "--print-size", "60", "--exaggeration", "5"]) == 0
    assert run_cli(["export", str(bundle), "--format", "gif", "--out",
                    str(tmp_path / "t.gif"), "--frames", "3", "--size", "96", "64"]) == 0
    assert "frame 3/3" in capsys.readouterr().err


def test_cli_refuses_options_a_format_does_not_take(bundle, tmp_path):
    with pytest.raises(ConfigError, match="--print-size applies to --format stl only"):
        run_cli(["export", str(bundle), "--format", "ply", "--out", str(tmp_path / "m.ply"),
                 "--print-size", "50"])
    with pytest.raises(ConfigError, match="option fps does not apply"):
        run_cli(["export", str(bundle), "--format", "h5", "--out", str(tmp_path / "m.h5"),
                 "--fps", "10"])
    with pytest.raises(ConfigError, match="heads are numbered from 1"):
        run_cli(["export", str(bundle), "--format", "h5", "--out", str(tmp_path / "m.h5"),
                 "--head", "0"])
    assert list(tmp_path.iterdir()) == []


def test_format_2_bundle_with_accuracies(tmp_path):
    """A multi-point-optimisation bundle (format 2, dense directions, accuracy files)."""
    mpo = pytest.importorskip("losspattern_core.commands.mpo")
    parser = argparse.ArgumentParser()
    mpo.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["mpo", "--pattern", "heart", "--dataset", "digits", "--grid", "5",
                              "--steps", "2", "--batch", "16", "--cells", "2",
                              "--eval-samples", "20", "--out", str(tmp_path / "run"),
                              "--quiet"])
    assert args.func(args) == 0
    data = open_surfaces(tmp_path / "run")
    assert data.info["method"] == "mpo" and data.shape == (5, 5)
    acc = np.load(tmp_path / "run" / "accuracy_test.npy")
    np.testing.assert_array_equal(data.accuracy["test"], acc)
    back = import_loss_landscape_h5(export_bundle(tmp_path / "run", "h5", tmp_path / "m.h5"))
    np.testing.assert_allclose(back.accuracy["test"], acc, atol=1e-12)
    np.testing.assert_array_equal(back.surfaces["test"],
                                  np.load(tmp_path / "run" / "surface_test.npy"))
