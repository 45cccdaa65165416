"""compare-mpo: its measures on hand-made surfaces, the exact Theorem 1 surface against the
naive loop, and a tiny end-to-end comparison with its table, figure and command."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re

import numpy as np
import pytest
import torch

import losspattern_core as lp
from losspattern_core.grid import range_points
from losspattern_core.measure.compare_mpo import (
    CompareConfig,
    compare,
    icon_metrics,
    stratified_subset,
    theorem1_surface,
)
from losspattern_core.measure.compare_mpo_report import compare_figure, table_markdown
from losspattern_core.networks import NetworkSpec, as_input


def test_a_stratified_subset_takes_the_same_number_of_every_class():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    idx = stratified_subset(y, 8, seed=1)
    assert np.array_equal(np.bincount(y[idx]), [2, 2, 2, 2])
    assert np.array_equal(stratified_subset(y, None, 0), np.arange(100))


def test_iou_and_accuracy_gap_on_hand_made_surfaces():
    icon = np.zeros((6, 6), int)
    icon[1:4, 2:5] = 1
    band = np.where(icon == 1, 1, -1)
    acc = np.where(icon == 1, 0.9, 0.2)
    exact = icon_metrics(np.where(icon == 1, 0.5, 3.0), acc, icon, band)
    assert exact["iou"] == 1.0 and exact["acc_gap"] == pytest.approx(0.7)
    assert exact["threshold"] == pytest.approx(1.75)
    inverted = icon_metrics(np.where(icon == 1, 3.0, 0.5), acc, icon, band)
    assert inverted["iou"] == 0.0
    shifted = np.where(np.roll(icon, 1, axis=1) == 1, 0.5, 3.0)   # 6 of 9 cells overlap
    assert icon_metrics(shifted, acc, icon, band)["iou"] == pytest.approx(6 / 12)


def test_the_exact_theorem1_surface_equals_the_naive_loop_on_every_sample():
    cfg = lp.ConstructionConfig(pattern="heart", dataset="digits", steps=10, batch=32, grid=5,
                                snapshot_every=0)
    spec = NetworkSpec(64, 10, family="cnn", activation="relu", input_shape=(1, 8, 8),
                       channels=(4, 8), hidden=16)
    r = dataclasses.replace(lp.validate(cfg), network=spec)
    con = lp.drive(lp.construct(r))
    X, y = r.dataset.split("test")
    Xi = as_input(torch.as_tensor(X), spec)
    loss, acc = theorem1_surface(con, Xi, y, 5, 10)
    alphas = range_points(5, 2, con.alpha_range)
    pick = [0, 7, 24]
    ref = lp.naive_surface(con.model, con.directions, Xi, y, alphas[pick], classes=10)[:, 0]
    assert np.allclose(loss.ravel()[pick], ref, atol=1e-5)
    with torch.no_grad():
        p = lp.surface.params_at(con.model, con.directions, alphas[7])
        pred = torch.func.functional_call(con.model, p, (Xi,)).argmax(-1)
    assert acc.ravel()[7] == pytest.approx(float((pred == torch.as_tensor(y)).double().mean()))


@pytest.fixture(scope="module")
def report():
    cfg = CompareConfig(pattern="heart", dataset="digits", grid=6, ours_steps=8, ours_batch=32,
                        mpo_steps=1, mpo_batch=32, mpo_cells=2, eval_samples=20,
                        transfer_samples=20, transfer_stride=2, spot_cells=1)
    return lp.drive(compare(cfg))


def test_the_comparison_reports_both_methods_honestly(report, tmp_path):
    o, m = report["ours"], report["mpo"]
    assert 0 <= o["metrics"]["iou"] <= 1 and 0 <= m["metrics"]["iou"] <= 1
    assert o["metrics"]["acc_gap"] == pytest.approx(0, abs=1e-12)   # chance everywhere
    assert o["transfer"] == pytest.approx(0, abs=1e-9)   # digits' split is stratified ...
    assert o["spot_check"] < 1e-5                        # ... and the exact path is exact
    assert m["steps"] == 1 and m["sample_passes"] == 4 * 32
    assert o["sample_passes"] == 8 * 32 and m["nonzero"] > 0
    assert m["test"]["samples"] == 20 and m["train"]["loss"].shape == (3, 3)
    if o["reach"] is not None:
        assert o["reach"]["iou"] >= m["metrics"]["iou"]
    table = table_markdown(report)
    assert "| test IoU of the low-loss region with the icon |" in table
    assert "20 of 355 test samples (stratified subset)" in table
    cells = [re.findall(r"(?<!\\)\|", line) for line in table.splitlines() if line[:1] == "|"]
    assert all(len(c) == 4 for c in cells)             # escaped pipes stay inside a cell
    assert compare_figure(tmp_path / "c.png", report).stat().st_size > 10_000


def test_the_compare_command_writes_table_figure_and_json(tmp_path, capsys):
    from losspattern_core.commands.mpo import register

    p = argparse.ArgumentParser()
    register(p.add_subparsers(dest="command", required=True))
    argv = ["compare-mpo", "heart", "--dataset", "digits", "--grid", "5", "--steps", "4",
            "--batch", "16", "--mpo-steps", "1", "--eval-samples", "10",
            "--transfer-samples", "10", "--out", str(tmp_path), "--quiet"]
    args = p.parse_args(argv)
    assert args.func(args) == 0
    doc = json.loads((tmp_path / "comparison.json").read_text())
    assert doc["mpo"]["steps"] == 1 and "iou" in doc["ours"]["metrics"]
    assert (tmp_path / "comparison.png").is_file()
    assert "MPO (Skorokhodov & Burtsev)" in capsys.readouterr().out
    with pytest.raises(lp.LossPatternError, match="--overwrite"):
        args.func(p.parse_args(argv))
