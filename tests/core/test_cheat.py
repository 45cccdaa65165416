"""``losspattern cheat``: both networks measured alike, the table, the files, the refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import losspattern_core.constructions.theorem2_shared as shared
import losspattern_core.training as training
from losspattern_core.cli import main
from losspattern_core.data.datasets import load_dataset
from losspattern_core.explore.cheat import CheatConfig, _network_numbers
from losspattern_core.explore.cheat_report import cheat_table
from losspattern_core.frames import drive
from losspattern_core.networks import NetworkSpec, build_network


def test_network_numbers_agree_with_their_landscape():
    ds = load_dataset("digits")
    spec = NetworkSpec(in_features=64, classes=10, depth=2, width=8, activation="relu")
    net = build_network(spec, seed=0).eval()
    cfg = CheatConfig(grid=3, sharpness_samples=100)
    n = drive(_network_numbers("ordinary", net, ds, spec, cfg))
    assert n["landscape_train"].shape == (3, 3)
    # the centre of the landscape is the network itself
    assert n["landscape_train"][1, 1] == pytest.approx(n["train_loss"], rel=1e-6)
    assert n["landscape_test_accuracy"][1, 1] == pytest.approx(n["test_accuracy"])
    assert n["sharpness"]["samples"] == 100 and n["sharpness"]["of"] == len(ds.train_idx)
    X = torch.as_tensor(ds.split("train")[0], dtype=torch.float32)
    with torch.no_grad():
        acc = (net(X).argmax(1).numpy() == ds.split("train")[1]).mean()
    assert n["train_accuracy"] == pytest.approx(acc)


def _numbers(t2_acc: float, od_acc: float) -> dict:
    def net(acc, eig):
        return {"train_accuracy": acc, "test_accuracy": acc - 0.01, "train_loss": 0.1,
                "test_loss": 0.2, "sharpness": {"top_eigenvalue": eig, "trace": 10 * eig,
                                                "samples": 50, "of": 100},
                "landscape_train_range": [0.1, 5.0],
                "landscape_analysis": {"measured": {"basins": 1}}}
    return {"pattern": "smiley", "dataset": "digits", "arch": "mlp",
            "landscape": {"directions": "random", "seed": 0, "range": [-1, 1], "grid": 5},
            "axis_slice": {"train_psnr_db": 25.0, "test_psnr_db": 15.0},
            "networks": {"theorem2": net(t2_acc, 6000.0), "ordinary": net(od_acc, 4.0)}}


def test_table_puts_each_network_in_its_column():
    table = cheat_table(_numbers(0.9876, 0.5432))
    row = next(ln for ln in table.splitlines() if ln.startswith("| train accuracy"))
    assert row == "| train accuracy | 0.9876 | 0.5432 |"
    assert "| top Hessian eigenvalue | 6000 | 4 |" in table
    assert "25.0 dB / 15.0 dB" in table


def test_cheat_command_writes_table_json_and_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(training, "STEPS", 30)          # ordinary training, kept short
    monkeypatch.setattr(shared, "CLASSIFIER_STEPS", 30)
    out = tmp_path / "c"
    assert main(["--threads", "1", "cheat", "--dataset", "digits", "--pattern", "bowl",
                 "--steps", "20", "--grid", "3", "--sharpness-samples", "60", "--quiet",
                 "--out", str(out)]) == 0
    numbers = json.loads((out / "cheat.json").read_text())
    assert set(numbers["networks"]) == {"theorem2", "ordinary"}
    assert (out / "figure.png").stat().st_size > 10_000
    assert "| train accuracy |" in (out / "cheat.md").read_text()
    for n in numbers["networks"].values():
        assert 0 <= n["test_accuracy"] <= 1 and np.isfinite(n["sharpness"]["top_eigenvalue"])
    capsys.readouterr()
    assert main(["cheat", "--dataset", "digits", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
