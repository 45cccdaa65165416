"""Ours beside the peak operation, interleaved in one run with the same statistic for both.

``benchmarks.explore`` reports ours (the total CPU time of one long run) as a share of the
*best single call* of the peak operation (a strict figure: on a shared machine a call's median
is 20-30 % slower than its best, and the two are measured minutes apart). This module adds a
side-by-side figure: R rounds, each timing ONE unit of ours and ONE unit of the peak operation
back to back (ours first in even rounds, the peak first in odd ones), so both sides see the same
machine conditions; each side's rate is its total FLOPs over its total CPU (and wall) seconds.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

import losspattern_core as lp
from benchmarks.evaluator.measure import count_flops
from losspattern_core.explore.measure import SplitPreparation, measure_points

# ours' unit per family: the first N samples of the test split and P points of the grid, so
# that one unit takes roughly 1 s here (mlp: the whole 10 000-sample test split, one 16 384-row
# block; cnn: 501 = 3 of the evaluator's 167-image blocks x 32 points, the points of about one
# frame, so the per-block first-layer products are shared as in a long run, not by 4 points)
UNIT = {"mlp": {"samples": 10000, "points": 64}, "cnn": {"samples": 501, "points": 32}}


def _timed(fn) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of one call of ``fn``."""
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return max(time.process_time() - c0, 1e-9), max(time.perf_counter() - w0, 1e-9)


def _spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def interleave(ours, peak, ours_flops: float, peak_flops: float, rounds: int) -> dict:
    """Time ``rounds`` rounds of one ``ours()`` and one ``peak()`` call each, ours first in
    even rounds and the peak first in odd ones. Rates are total FLOPs / total seconds per side;
    the share is ours' rate over the peak's, overall and per round (CPU and wall)."""
    per_round, order = [], []
    for r in range(rounds):
        got = {}
        for name, fn in (("ours", ours), ("peak", peak))[::1 if r % 2 == 0 else -1]:
            order.append(name)
            got[name] = _timed(fn)
        per_round.append({"ours_cpu_s": got["ours"][0], "ours_wall_s": got["ours"][1],
                          "peak_cpu_s": got["peak"][0], "peak_wall_s": got["peak"][1]})
    out = {"rounds": rounds, "order": order}
    for clock, key in (("cpu", "cpu_s"), ("wall", "wall_s")):
        ours_s = sum(p[f"ours_{key}"] for p in per_round)
        peak_s = sum(p[f"peak_{key}"] for p in per_round)
        shares = [(ours_flops / p[f"ours_{key}"]) / (peak_flops / p[f"peak_{key}"])
                  for p in per_round]
        for p, s in zip(per_round, shares, strict=True):
            p[f"share_{clock}"] = s
        out[clock] = {"ours_s": ours_s, "peak_s": peak_s,
                      "ours_gflops": rounds * ours_flops / ours_s / 1e9,
                      "peak_gflops": rounds * peak_flops / peak_s / 1e9,
                      "share": (ours_flops / ours_s) / (peak_flops / peak_s),
                      "per_round_share": _spread(shares)}
    out["per_round"] = per_round
    return out


def repeats_to_match(peak_call, target_s: float, tries: int = 3) -> int:
    """Calls of ``peak_call`` that last about ``target_s`` CPU seconds (median of ``tries``)."""
    peak_call()
    one = statistics.median(_timed(peak_call)[0] for _ in range(tries))
    return max(1, round(target_s / one))


def conv_call(model: torch.nn.Module, layer: int, batch: int, layout: str,
              input_shape=(1, 28, 28)):
    """(call, FLOPs per call) of conv layer ``layer`` of ``model`` at its own input shape, on a
    random batch in ``layout`` ("NCHW" or "channels-last"), FLOPs as in ``conv_peak``."""
    x = torch.zeros(1, *input_shape)
    with torch.no_grad():
        for m in list(model)[:layer]:
            x = m(x)
    m = model[layer]
    fmt = torch.contiguous_format if layout == "NCHW" else torch.channels_last
    inp = torch.randn(batch, *x.shape[1:]).contiguous(memory_format=fmt)
    w, b = m.weight.detach().contiguous(memory_format=fmt), m.bias.detach()
    flops = 2 * m.weight.numel() * x.shape[-1] * x.shape[-2] * batch
    return (lambda: F.conv2d(inp, w, b, padding=m.padding)), float(flops)


def matmul_call(n: int):
    a, b = torch.randn(n, n), torch.randn(n, n)
    return (lambda: a @ b), float(2 * n**3)


def side_by_side(family: str, model, dirs, X, y, grid_pts: np.ndarray, peak: dict,
                 rounds: int) -> dict:
    """Ours' unit (``measure_points`` on the first UNIT samples of (X, y) and UNIT points of
    the grid, one batch, on a ``SplitPreparation`` built once before the rounds so that
    preparation is not in the unit) beside the peak operation's best configuration (``peak``:
    ``conv_peak``'s best row for the cnn, ``matmul_peak``'s result for the mlp), repeated to
    last about as long as one unit of ours. FLOPs of ours counted on that exact unit call."""
    n, p = UNIT[family]["samples"], UNIT[family]["points"]
    Xs, ys = X[:n], y[:n]
    pts = grid_pts[np.linspace(0, len(grid_pts) - 1, p).astype(int)]
    prep = SplitPreparation(model, dirs, Xs, ys)

    def ours():
        return lp.drive(measure_points(model, dirs, Xs, ys, pts, points=len(pts),
                                       prepared=prep))

    ours()                                        # warm-up (and every block's preparation)
    ours_flops = count_flops(ours)
    ours_cpu = _timed(ours)[0]                    # calibration of the peak unit's length
    if family == "cnn":
        call, call_flops = conv_call(model, peak["layer"], peak["batch"], peak["layout"])
        what = (f"conv layer {peak['layer']} {peak['shape']}->{peak['out_channels']} channels, "
                f"{peak['layout']}, batch {peak['batch']}")
    else:
        call, call_flops = matmul_call(peak["n"])
        what = f"fp32 {peak['n']}^2 matmul"
    reps = repeats_to_match(call, ours_cpu)

    def peak_unit():
        for _ in range(reps):
            call()

    print(f"side by side, {family}: ours' unit = measure_points on the first {len(ys)} test "
          f"samples x {len(pts)} grid points in one batch ({prep.blocks} blocks of "
          f"{prep.block}; preparation built once, outside the unit), {ours_flops / 1e9:.1f} "
          f"GFLOP, ~{ours_cpu:.2f} CPU s; peak unit = {reps} x {what}; {rounds} rounds",
          flush=True)
    out = interleave(ours, peak_unit, ours_flops, reps * call_flops, rounds)
    out.update({"samples": len(ys), "points": len(pts), "blocks": prep.blocks,
                "block": prep.block, "ours_unit_gflop": ours_flops / 1e9,
                "peak_unit_gflop": reps * call_flops / 1e9, "peak_repeats": reps,
                "peak_operation": what, "prepared_outside_unit": True})
    return out


def render(s: dict) -> str:
    """The side-by-side paragraph of one case of the report."""
    c, w = s["cpu"], s["wall"]
    unit_s = (c["ours_s"] + c["peak_s"]) / (2 * s["rounds"])
    pc, pw = c["per_round_share"], w["per_round_share"]
    return (f"Side by side (interleaved, {s['rounds']} rounds of ~{unit_s:.2f} CPU s per "
            f"side, ours first in even rounds and the peak first in odd ones; same statistic "
            f"for both: total FLOPs / total CPU s): ours {c['ours_gflops']:.1f} GFLOP/s, peak "
            f"operation {c['peak_gflops']:.1f} GFLOP/s → {100 * c['share']:.0f} % (per-round "
            f"median {100 * pc['median']:.0f} %, range {100 * pc['min']:.0f}–"
            f"{100 * pc['max']:.0f} %); by wall time {w['ours_gflops']:.1f} vs "
            f"{w['peak_gflops']:.1f} GFLOP/s → {100 * w['share']:.0f} % (per-round median "
            f"{100 * pw['median']:.0f} %, range {100 * pw['min']:.0f}–{100 * pw['max']:.0f} %). "
            f"Ours' unit: measure_points on the first {s['samples']:,} test samples x "
            f"{s['points']} grid points in one batch ({s['ours_unit_gflop']:.1f} GFLOP counted "
            f"on that call; the split's preparation built once before the rounds, not in the "
            f"unit); the peak's unit: {s['peak_repeats']} x {s['peak_operation']} "
            f"({s['peak_unit_gflop']:.1f} GFLOP). Ours' rate here is that unit's, not the long "
            f"run's of the sentence above.")
