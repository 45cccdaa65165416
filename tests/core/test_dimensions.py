"""Every dimension and colour: z = 1 curves, z = 3 volumes, z >= 4, RGB heads, pattern sources."""

import numpy as np
import pytest
from PIL import Image

from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.constructions import construct, drive
from losspattern_core.data.patterns import default_grid, load_pattern
from losspattern_core.errors import PatternError
from losspattern_core.io.figure import any_figure
from losspattern_core.measure.metrics import construction_metrics, measure_surfaces


def _run(tmp_path, activation="tanh", batch=512, **kw):
    # tanh: small nets fit smooth patterns quickly (sin needs the default width and steps)
    cfg = ConstructionConfig(dataset="digits", steps=500, width=32, batch=batch,
                             activation=activation, **kw)
    con = drive(construct(validate(cfg)))
    m = measure_surfaces(con)
    metrics = construction_metrics(con, m)
    png = any_figure(tmp_path / "f.png", con, m, metrics)
    assert png.stat().st_size > 5000
    return con, m, metrics


def _follows(measured: np.ndarray, target: np.ndarray, r: float = 0.9) -> bool:
    """The measured surface follows the target's shape (Pearson correlation >= r)."""
    return np.corrcoef(measured.ravel(), target.ravel())[0, 1] >= r


def test_z1_curve_from_csv(tmp_path):
    (tmp_path / "v.csv").write_text("0, 1, 0.2, 0.8, 0.1\n")
    con, m, metrics = _run(tmp_path, "sin", pattern=str(tmp_path / "v.csv"), z=1, grid=40)
    assert m.surfaces["train"].shape == (40,) == con.target.shape
    assert metrics["train"]["psnr_db"] > 20
    assert metrics["pattern_points"]["output_variance_max"] == 0.0
    # linear interpolation of the 5 values, mapped into the loss range
    lo, hi = con.resolved.loss_range.low, con.resolved.loss_range.high
    assert con.target[0] == pytest.approx(lo) and con.target[10] == pytest.approx(hi, abs=0.2)


def test_z3_volume_from_npy(tmp_path):
    vol = np.fromfunction(lambda i, j, k: np.sin(i / 2.0) + j / 5 - k / 7, (6, 5, 4))
    np.save(tmp_path / "vol.npy", vol)
    con, m, metrics = _run(tmp_path, pattern=str(tmp_path / "vol.npy"), z=3, grid=8)
    assert m.surfaces["train"].shape == (8, 8, 8)
    assert _follows(m.surfaces["train"], con.target, 0.8) and metrics["train"]["psnr_db"] > 18
    assert metrics["transfer"]["max_abs_gap"] < 1e-5  # digits' split keeps the marginal


def test_z4_function_on_a_coarse_grid(tmp_path):
    assert default_grid(4) == 10 and default_grid(3, theorem=2) == 16
    con, m, metrics = _run(tmp_path, "gelu", batch=2048, pattern="bowl", z=4, grid=5)
    assert m.surfaces["train"].shape == (5,) * 4
    assert _follows(m.surfaces["train"], con.target, 0.7) and metrics["train"]["psnr_db"] > 15


def test_rgb_three_heads_draw_three_channels(tmp_path):
    con, m, metrics = _run(tmp_path, pattern="sunset", rgb=True, grid=12)
    assert con.heads == 3 and m.surfaces["train"].shape == (3, 12, 12)
    chans = metrics["train"]["channels"]
    assert len(chans) == 3 and metrics["train"]["psnr_db"] > 20
    for h, c in enumerate(chans):
        assert _follows(m.surfaces["train"][h], con.target[h], 0.5) and c["psnr_db"] > 17
    # the heads really differ: sunset's channels are different images
    t = con.target
    assert np.abs(t[0] - t[2]).max() > 0.3


def test_greyscale_image_with_rgb_is_converted_with_a_note(tmp_path):
    grey = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    p = load_pattern(str(tmp_path / "g.png"), z=2, rgb=True)
    assert p.channels == 3 and "greyscale" in p.note
    g = p.grid(6)
    assert np.array_equal(g[0], g[1]) and np.array_equal(g[1], g[2])


def test_image_row_folder_stack_and_bad_ranks(tmp_path):
    row = load_pattern("smiley:row=0.3", z=1)
    full = load_pattern("smiley", z=2)
    a = np.linspace(0, 1, 9)
    np.testing.assert_allclose(row.evaluate(a[:, None]),
                               full.evaluate(np.column_stack([a, np.full(9, 0.3)])))
    for k in range(3):
        Image.fromarray(np.full((6, 7), 80 * k, np.uint8)).save(tmp_path / f"s{k}.png")
    stack = load_pattern(str(tmp_path), z=3)
    assert stack.grid(3).shape == (3, 3, 3)
    assert stack.evaluate(np.array([[0.5, 0.5, 0.0]]))[0] == pytest.approx(0.0)
    assert stack.evaluate(np.array([[0.5, 0.5, 1.0]]))[0] == pytest.approx(1.0)
    np.save(tmp_path / "v.npy", np.zeros((4, 4, 4)))
    with pytest.raises(PatternError, match="rank 3.*z = 2"):
        load_pattern(str(tmp_path / "v.npy"), z=2)
    with pytest.raises(PatternError, match="rank 3.*z = 4"):
        load_pattern(str(tmp_path / "v.npy"), z=4)
    np.save(tmp_path / "nan.npy", np.array([0.0, np.nan, 1.0]))
    with pytest.raises(PatternError, match="NaN"):
        load_pattern(str(tmp_path / "nan.npy"), z=1)
    with pytest.raises(PatternError, match="z = 3"):
        load_pattern(str(tmp_path), z=2)
    with pytest.raises(PatternError, match="z = 1"):
        load_pattern("smiley:row=0.5", z=2)
