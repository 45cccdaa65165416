"""`losspattern transfer`: Observation 1 measured on other splits and datasets."""

import numpy as np
import pytest

from losspattern_core.cli import main
from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.constructions import construct, drive
from losspattern_core.errors import BundleError
from losspattern_core.io.bundle import save_bundle
from losspattern_core.measure.metrics import construction_metrics, measure_surfaces
from losspattern_core.measure.transfer import transfer


@pytest.fixture(scope="module")
def t1_bundle(tmp_path_factory):
    cfg = ConstructionConfig(pattern="bumps", dataset="digits", steps=150, width=32, grid=8,
                             batch=512)
    con = drive(construct(validate(cfg)))
    m = measure_surfaces(con)
    out = tmp_path_factory.mktemp("b") / "t1"
    save_bundle(out, con, m, construction_metrics(con, m, checks=False))
    return out


def test_test_split_of_digits_has_no_gap(t1_bundle):
    rep = transfer(t1_bundle, "digits")
    assert rep["to"]["split"] == "test"
    assert rep["max_abs_marginal_difference"] < 1e-12
    assert rep["max_abs_gap"] < 1e-5


@pytest.mark.parametrize("marginal", ["balanced", "skewed"])
def test_other_dataset_gap_is_the_marginal_prediction(t1_bundle, marginal):
    rep = transfer(t1_bundle, f"synthetic:dim=64,n=500,marginal={marginal}")
    assert rep["prediction_applies"]
    assert rep["max_abs_gap_minus_prediction"] < 1e-5
    if marginal == "skewed":  # a skewed marginal moves the surface by nats, exactly as predicted
        assert rep["max_abs_gap"] > 0.5
    else:                     # digits' train marginal is almost balanced
        assert rep["max_abs_gap"] < 0.05


def test_mismatched_classes_and_features_are_refused(t1_bundle):
    with pytest.raises(BundleError, match="5 classes.*predicts 10"):
        transfer(t1_bundle, "synthetic:dim=64,classes=5,n=200")
    with pytest.raises(BundleError, match="32 features.*takes 64"):
        transfer(t1_bundle, "synthetic:dim=32,n=200")


def test_cli_prints_gap_beside_prediction(t1_bundle, capsys):
    assert main(["transfer", str(t1_bundle), "--dataset",
                 "synthetic:dim=64,n=500,marginal=skewed"]) == 0
    out = capsys.readouterr().out
    assert "measured gap" in out and "predicted" in out and "Observation 1 holds" in out
    assert main(["transfer", str(t1_bundle), "--dataset", "synthetic:dim=64,classes=3"]) == 2
    assert "3 classes" in capsys.readouterr().err


def test_cli_draws_the_transfer_figure(t1_bundle, tmp_path, capsys):
    png = tmp_path / "transfer.png"
    assert main(["transfer", str(t1_bundle), "--dataset", "synthetic:dim=64,n=300,marginal=skewed",
                 "--png", str(png)]) == 0
    from PIL import Image

    with Image.open(png) as im:
        arr = np.asarray(im.convert("RGB"))
    assert arr.shape[0] > 200 and arr.std() > 10
    assert main(["transfer", str(t1_bundle), "--dataset", "digits", "--png",
                 str(tmp_path / "missing-folder" / "x.png")]) == 2
    assert "missing-folder" in capsys.readouterr().err


def test_cli_measure_streams_levels_and_ends_at_the_stored_surface(t1_bundle, tmp_path, capsys):
    from losspattern_core.io.bundle import load_bundle

    out = tmp_path / "train.npy"
    assert main(["measure", str(t1_bundle), "--grid", "8", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "8^2 grid: exact" in text
    stored = load_bundle(t1_bundle).surfaces["train"]
    np.testing.assert_allclose(np.load(out), stored, atol=1e-5)
    assert main(["measure", str(t1_bundle), "--grid", "33"]) == 0
    levels = [ln for ln in capsys.readouterr().out.splitlines() if "grid: exact" in ln]
    assert len(levels) >= 2 and levels[-1].strip().startswith("33^2")
    assert main(["measure", str(t1_bundle), "--out", str(tmp_path / "no" / "x.npy")]) == 2
    assert "does not exist" in capsys.readouterr().err
