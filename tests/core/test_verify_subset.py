"""verify honours subset bundles: a bundle whose surfaces were measured on a stated subset of a
split (construction.json ``measured_on``, indices in eval_idx.npz) is re-measured on exactly that
subset, and the report and the command line say so."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest
import torch

import losspattern_core as lp
from losspattern_core.constructions.mpo import MpoConfig, construct, validate_mpo
from losspattern_core.constructions.mpo_bundle import save_mpo_bundle
from losspattern_core.constructions.mpo_surface import point_surface
from losspattern_core.data.datasets import load_dataset
from losspattern_core.errors import BundleError
from losspattern_core.grid import range_points
from losspattern_core.io.bundle import load_bundle
from losspattern_core.measure.verify import measured_subset, remeasure, verify
from losspattern_core.networks import NetworkSpec, as_input

SPEC = NetworkSpec(64, 10, family="cnn", activation="relu", input_shape=(1, 8, 8),
                   channels=(4, 8), hidden=16)
GRID, SAMPLES = 5, 40


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def result(digits):
    cfg = MpoConfig(pattern="heart", dataset="digits", grid=GRID, batch=128, good_cells=8,
                    bad_cells=8, lr=3e-3, steps=2)
    return lp.drive(construct(dataclasses.replace(validate_mpo(cfg, dataset=digits),
                                                  network=SPEC)))


def _save(out, res, digits, measure_on_subset: bool = True):
    """The bundle with ``measured_on`` = every 9th-or-so sample; its surfaces measured on that
    subset (or, ``measure_on_subset=False``, on the whole split: a false claim)."""
    alphas = range_points(GRID, 2, res.alpha_range)
    surfaces, subset = {}, {}
    for split in ("train", "test"):
        X, y = digits.split(split)
        pos = np.linspace(0, len(y) - 1, SAMPLES).astype(int)
        subset[split] = (digits.train_idx if split == "train" else digits.test_idx)[pos]
        use = pos if measure_on_subset else slice(None)
        loss, acc = lp.drive(point_surface(res.model, res.directions,
                                           as_input(torch.as_tensor(X[use]), SPEC), y[use],
                                           alphas))
        surfaces[split] = (loss.reshape(GRID, GRID), acc.reshape(GRID, GRID))
    return save_mpo_bundle(out, res, surfaces, {}, subset=subset)


def test_verify_re_measures_the_stated_subset_and_says_so(result, digits, tmp_path):
    b = load_bundle(_save(tmp_path / "b", result, digits))
    rep = verify(b)
    assert rep["ok"] and rep["worst"] < 1e-5
    assert rep["measured_on"] == {"train": SAMPLES, "test": SAMPLES}
    assert len(measured_subset(b, "test")) == SAMPLES
    # the whole split gives another surface: the subset is what made it verify
    whole = dataclasses.replace(b, meta={k: v for k, v in b.meta.items() if k != "measured_on"})
    fresh = remeasure(whole, digits, splits=("test",))
    assert np.abs(fresh["test"] - b.surfaces["test"]).max() > 1e-3


def test_a_false_subset_claim_does_not_verify(result, digits, tmp_path):
    b = load_bundle(_save(tmp_path / "b", result, digits, measure_on_subset=False))
    rep = verify(b)
    assert not rep["ok"] and rep["worst"] > 1e-3


def test_a_changed_index_file_is_refused(result, digits, tmp_path):
    out = _save(tmp_path / "b", result, digits)
    b = load_bundle(out)
    np.savez(out / "eval_idx.npz", train_idx=digits.train_idx[:SAMPLES],
             test_idx=digits.test_idx[:SAMPLES])
    with pytest.raises(BundleError, match="eval_idx.npz: changed"):
        verify(b)


def test_indices_outside_the_split_are_refused(result, digits, tmp_path):
    b = load_bundle(_save(tmp_path / "b", result, digits))
    meta = {**b.meta, "checksums": None}
    wrong = dataclasses.replace(b, meta=meta, test_idx=b.test_idx[SAMPLES:])
    np.savez(b.path / "eval_idx.npz", train_idx=b.train_idx[:SAMPLES],
             test_idx=b.test_idx[:SAMPLES])
    with pytest.raises(BundleError, match="outside the test split"):
        measured_subset(wrong, "test")


def test_the_verify_command_states_the_subset(result, digits, tmp_path, capsys):
    from losspattern_core.cli import build_parser

    out = _save(tmp_path / "b", result, digits)
    args = build_parser().parse_args(["verify", str(out)])
    assert isinstance(args, argparse.Namespace) and args.func(args) == 0
    text = capsys.readouterr().out
    assert f"stated subset of {SAMPLES} samples" in text and "verified" in text
