"""Theorem 2 on the real digits data, tiny settings: structure, fit at alpha*, no transfer."""

import numpy as np
import pytest
import torch

from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.constructions import construct, drive
from losspattern_core.errors import ConfigError
from losspattern_core.measure.metrics import construction_metrics, measure_surfaces


@pytest.fixture(scope="module")
def tiny_t2(monkeypatch_module):
    import losspattern_core.constructions.theorem2_shared as t2s
    import losspattern_core.training as baseline

    monkeypatch_module.setattr(baseline, "STEPS", 300)
    monkeypatch_module.setattr(t2s, "CLASSIFIER_STEPS", 600)
    # a tiny, short run: a faster rate (fine on digits) so that 600 steps overfit visibly
    monkeypatch_module.setattr(t2s, "CLASSIFIER_LR", 3e-3)
    monkeypatch_module.setattr(baseline, "LR", 3e-3)
    cfg = ConstructionConfig(pattern="bowl", dataset="digits", theorem=2, steps=400, width=48,
                             grid=10, batch=256, snapshot_every=100)
    frames = []
    con = drive(construct(validate(cfg)), frames.append)
    m = measure_surfaces(con)
    return con, m, construction_metrics(con, m, checks=False), frames


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_only_the_pattern_units_lose_their_weights(tiny_t2):
    con, *_ = tiny_t2
    z = con.config.z
    w0, b0 = con.model[0].weight, con.model[0].bias
    assert torch.count_nonzero(w0[:z]) == 0 and torch.count_nonzero(b0[:z]) == 0
    assert bool((w0[z:] != 0).any(dim=1).all())  # every other first-layer unit sees x
    for i, d in enumerate(con.directions):
        v = d.delta(con.model)["0.bias"]
        assert torch.count_nonzero(v) == 1 and v[i] == 1.0
    assert con.extras["theorem2"]["zero_first_layer_rows"] == list(range(z))


def test_fits_the_data_at_alpha_star_well_above_chance(tiny_t2):
    con, m, metrics, _ = tiny_t2
    s = metrics["theorem2"]["at_alpha_star"]
    chance = con.resolved.dataset.marginal("train").max()
    assert s["train_accuracy"] >= chance + 0.6
    assert s["test_accuracy"] >= chance + 0.5
    # the measured train surface's minimum is the fit: far below H(pi), the Theorem 1 floor
    assert m.surfaces["train"].min() < 0.5 * con.resolved.floor
    assert "baseline" in metrics and metrics["baseline"]["train_accuracy"] >= chance + 0.6
    assert metrics["ease"]["construction_steps"] == 600 + 400
    assert metrics["baseline"]["steps"] == 300


def test_target_is_shifted_to_the_best_loss_and_train_surface_follows(tiny_t2):
    con, m, metrics, _ = tiny_t2
    t2 = metrics["theorem2"]
    assert con.target.min() == pytest.approx(t2["best_loss"], abs=1e-9)
    assert con.resolved.loss_range.span == pytest.approx(1.5)
    assert metrics["train"]["psnr_db"] > 15  # tiny run; the defaults reach > 30 dB
    # not transferred: at alpha* the test loss is the generalisation gap, not T'
    s = t2["at_alpha_star"]
    assert s["test_loss"] > s["train_loss"] + 0.02
    assert metrics["transfer"]["mean_abs_gap"] > 0.01


def test_frames_stream_with_exact_snapshots(tiny_t2):
    con, m, _, frames = tiny_t2
    phases = [f.phase for f in frames]
    assert {"baseline", "classifier", "regression"} <= set(phases)
    snaps = [f for f in frames if f.surface is not None]
    assert snaps and snaps[-1].phase == "regression"
    # the last snapshot (block factorisation) is the evaluator's full train surface
    np.testing.assert_allclose(snaps[-1].surface, m.surfaces["train"], atol=1e-4)


def test_rgb_is_refused_with_a_clear_message():
    cfg = ConstructionConfig(pattern="sunset", theorem=2, rgb=True, width=32, grid=4, steps=2)
    with pytest.raises(ConfigError, match="rgb"):
        drive(construct(validate(cfg)))


def test_transfer_of_a_theorem2_bundle_measures_but_predicts_nothing(tiny_t2, tmp_path):
    from losspattern_core.io.bundle import save_bundle
    from losspattern_core.measure.transfer import transfer, transfer_lines

    con, m, metrics, _ = tiny_t2
    save_bundle(tmp_path / "b", con, m, metrics)
    rep = transfer(tmp_path / "b", "digits")
    assert not rep["prediction_applies"]
    assert rep["max_abs_gap"] > 1e-3          # the network sees x: test differs from train
    text = "\n".join(transfer_lines(rep))
    assert "promises no transfer" in text and "not applicable" in text


def test_ordinary_training_reports_when_it_converged(tiny_t2):
    con, m, metrics, _ = tiny_t2
    base = metrics["baseline"]
    history = base["history"]
    best = max(h[2] for h in history)
    step = base["steps_to_converge"]
    assert 0 < step <= base["steps"]
    acc_at = {h[0]: h[2] for h in history}
    assert acc_at[step] >= best - base["converged_within"]
    assert all(acc < best - base["converged_within"] for s, acc in acc_at.items() if s < step)


def test_every_required_zero_block_is_still_exactly_zero(tiny_t2):
    import losspattern_core.constructions.theorem2 as t2

    con, *_ = tiny_t2
    b = t2.blocks_for(con.resolved)
    blocks = t2.zero_blocks(con.model, b)
    assert len(blocks) == 3 + 2 * (con.resolved.network.depth - 2)
    assert all(torch.count_nonzero(block) == 0 for _, block in blocks)
    t2.check_zero_blocks(con.model, b)   # passes on the trained network


def test_a_touched_zero_block_is_reported_by_name(tiny_t2):
    import copy

    import losspattern_core.constructions.theorem2 as t2
    from losspattern_core.errors import ConstructionError

    con, *_ = tiny_t2
    b = t2.blocks_for(con.resolved)
    broken = copy.deepcopy(con.model)
    with torch.no_grad():
        broken[2].weight[0, b.z + 1] = 1e-12   # one coupling weight: alpha block <- x unit
    with pytest.raises(ConstructionError, match="alpha block <- x units"):
        t2.check_zero_blocks(broken, b)
