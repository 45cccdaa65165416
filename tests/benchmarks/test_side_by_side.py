"""The side-by-side measurement of ``benchmarks.explore`` (``benchmarks/side_by_side.py``) on
synthetic callables: the round loop's order and arithmetic, shares of known work, the peak
unit's analytic FLOPs, and the markdown paragraph. No benchmark run: a few seconds in all."""

import importlib
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def module(name: str):
    """benchmarks.<name> (benchmarks/ is not installed: imported from the tree)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"benchmarks.{name}")


@pytest.fixture(scope="module")
def sbs():
    return module("side_by_side")


def test_order_alternates(sbs):
    calls = []
    got = sbs.interleave(lambda: calls.append("ours"), lambda: calls.append("peak"), 1.0, 1.0,
                         rounds=5)
    expected = ["ours", "peak", "peak", "ours", "ours", "peak", "peak", "ours", "ours", "peak"]
    assert calls == expected
    assert got["order"] == expected
    assert got["rounds"] == 5 and len(got["per_round"]) == 5


def test_rates_and_shares_from_given_times(sbs, monkeypatch):
    """With the clock replaced: ours 1 CPU s / 2 wall s per unit, the peak 0.5 / 0.5 s; the
    same FLOPs on both sides -> CPU share 0.5, wall share 0.25, rates total FLOPs / total s."""
    times = iter([(1.0, 2.0), (0.5, 0.5),      # round 0: ours, then peak
                  (0.5, 0.5), (1.0, 2.0),      # round 1: peak, then ours
                  (1.0, 2.0), (0.25, 0.5)])    # round 2: ours, then peak (faster peak)
    monkeypatch.setattr(sbs, "_timed", lambda fn: next(times))
    got = sbs.interleave(lambda: None, lambda: None, 4e9, 2e9, rounds=3)
    cpu, wall = got["cpu"], got["wall"]
    assert cpu["ours_s"] == pytest.approx(3.0) and cpu["peak_s"] == pytest.approx(1.25)
    assert cpu["ours_gflops"] == pytest.approx(12 / 3.0)
    assert cpu["peak_gflops"] == pytest.approx(6 / 1.25)
    assert cpu["share"] == pytest.approx((12 / 3.0) / (6 / 1.25))
    assert [p["share_cpu"] for p in got["per_round"]] == pytest.approx([1.0, 1.0, 0.5])
    assert cpu["per_round_share"] == pytest.approx({"median": 1.0, "min": 0.5, "max": 1.0})
    assert wall["share"] == pytest.approx((12 / 6.0) / (6 / 1.5))
    assert wall["per_round_share"]["median"] == pytest.approx(0.5)


def _matmuls(n: int, times: int):
    a, b = torch.randn(n, n), torch.randn(n, n)

    def fn():
        for _ in range(times):
            a @ b
    return fn, float(2 * n**3 * times)


def test_share_of_known_work(sbs):
    """The same matmul on both sides, the peak's unit twice as long: with honest FLOPs the
    rates match (share ~1); if ours claims only half its FLOPs, the share is ~0.5."""
    torch.set_num_threads(1)
    ours, ours_flops = _matmuls(384, 4)
    peak, peak_flops = _matmuls(384, 8)
    ours(), peak()
    honest = sbs.interleave(ours, peak, ours_flops, peak_flops, rounds=8)
    assert 0.7 < honest["cpu"]["share"] < 1.4
    assert 0.7 < honest["cpu"]["per_round_share"]["median"] < 1.4
    halved = sbs.interleave(ours, peak, ours_flops / 2, peak_flops, rounds=8)
    assert 0.35 < halved["cpu"]["share"] < 0.7


def test_repeats_to_match(sbs):
    call, _ = _matmuls(256, 1)
    one = sbs.repeats_to_match(call, 0.0)
    assert one == 1
    many = sbs.repeats_to_match(call, 0.05)
    t = sbs._timed(lambda: [call() for _ in range(many)])[0]
    assert many > 1 and 0.015 < t < 0.2


def test_peak_units_analytic_flops_match_the_counter(sbs):
    """The peak unit's FLOPs are analytic (as in conv_peak / matmul_peak): they must equal what
    torch's FlopCounterMode counts for the very call."""
    from benchmarks.evaluator.measure import count_flops
    from losspattern_core.networks import build_network

    model = build_network(module("explore").SPECS["cnn"], seed=0).eval()
    convs = [i for i, m in enumerate(model) if isinstance(m, torch.nn.Conv2d)]
    assert convs
    for i in convs:
        for layout in ("NCHW", "channels-last"):
            call, flops = sbs.conv_call(model, i, 8, layout)
            assert count_flops(call) == flops
    call, flops = sbs.matmul_call(64)
    assert count_flops(call) == flops == 2 * 64**3


SIDE = {"rounds": 4, "samples": 2004, "points": 4, "blocks": 12, "block": 167,
        "ours_unit_gflop": 24.5, "peak_unit_gflop": 60.1, "peak_repeats": 3,
        "peak_operation": "conv layer 3 [32, 7, 7]->64 channels, NCHW, batch 512",
        "prepared_outside_unit": True,
        "cpu": {"ours_s": 4.0, "peak_s": 4.2, "ours_gflops": 24.5, "peak_gflops": 57.2,
                "share": 0.428, "per_round_share": {"median": 0.431, "min": 0.39, "max": 0.47}},
        "wall": {"ours_s": 8.0, "peak_s": 8.4, "ours_gflops": 12.25, "peak_gflops": 28.6,
                 "share": 0.4283, "per_round_share": {"median": 0.42, "min": 0.3, "max": 0.5}}}


def test_paragraph_renders(sbs):
    text = sbs.render(SIDE)
    assert text.startswith("Side by side (interleaved, 4 rounds of ~1.02 CPU s per side")
    assert "total FLOPs / total CPU s): ours 24.5 GFLOP/s, peak operation 57.2 GFLOP/s → 43 %" \
        in text
    assert "(per-round median 43 %, range 39–47 %)" in text
    assert "by wall time 12.2 vs 28.6 GFLOP/s → 43 % (per-round median 42 %, range 30–50 %)" \
        in text
    assert "first 2,004 test samples x 4 grid points" in text
    assert "3 x conv layer 3 [32, 7, 7]->64 channels, NCHW, batch 512 (60.1 GFLOP)" in text


def test_report_says_which_share_is_which():
    """explore.render keeps the strict best-call sentence and adds the side-by-side one."""
    explore = module("explore")
    peak = {"n": 2048, "gflops": 30.0, "gflops_cpu": 60.0}
    case = {"family": "mlp", "parameters": 1, "train_steps": 1, "final_train_loss": 0.5,
            "ours": {"points_timed": 16, "s_grid": 10.0, "cpu_s_grid": 5.0, "gflop": 120.0,
                     "gflops": 15.0, "gflops_cpu": 30.0},
            "naive": {"points_timed": 1, "s_grid": 20.0, "cpu_s_grid": 10.0},
            "loss_landscapes": {"points_timed": 4, "s_grid": 20.0, "cpu_s_grid": 10.0},
            "max_rel_diff_ours_naive": 1e-8, "loss_range": [0.5, 2.0], "peak": None,
            "side_by_side": SIDE}
    report = {"quick": True, "threads": 1, "cpus": 2,
              "load_average": {"start": [1, 1, 1], "end": [1, 1, 1]}, "matmul_peak": peak,
              "cases": [case], "ray": {"skipped": "test"}}
    text = explore.render(report)
    assert "30.0 GFLOP/s per CPU second = 50 % of the best single call of the peak operation " \
           "(strict" in text
    assert "\nSide by side (interleaved, 4 rounds" in text
    assert text.index("(strict") < text.index("Side by side")
    del case["side_by_side"]
    assert "Side by side" not in explore.render(report)
