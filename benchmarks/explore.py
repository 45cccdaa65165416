"""Ordinary networks' random-direction landscapes: the explorer's measurement beside the naive
loop, the ``loss-landscapes`` library and Ray, in one run.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.explore [--quick]

An ordinary ``mlp`` (784-128-128-128-10, ReLU) and ``cnn`` (Skorokhodov & Burtsev's 1-8-32-64)
are trained briefly on Fashion-MNIST; two random filter-normalised directions (Li et al.: biases
left at zero) span alpha in [-1, 1]^2 on the 64x64 grid; both splits (train 60 000 + test
10 000) are measured. Ours is what ``losspattern explore`` runs: ``explore.measure_points``
(loss and accuracy over every sample, on the batched exact evaluator). Each method is timed
on stated points of that grid and, where fewer than 4096, extrapolated linearly to the whole
grid (every point costs the same: the work per point does not depend on alpha). Throughput is
compared with the machine's own fp32 peak, measured here with a big matmul and, for the CNN,
the best rate of its own convolutions (every conv layer's shapes, NCHW and channels-last,
batches 256/512/1024); our FLOPs are counted with torch's FlopCounterMode on 2 000 samples
(matrix products and convolutions only) and scaled to the split. That share of the peak's
best single call is strict; ``benchmarks.side_by_side`` adds one measured interleaved, with the
same statistic for both (total FLOPs / total CPU s over R rounds). Ray: the mlp's bundle
measured with 1 and then 2 workers of one local Ray instance (2 CPUs). Writes
benchmarks/results-explore.md and .json (``--quick``: results-explore-quick.*).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import losspattern_core as lp
from benchmarks.evaluator.machine import load_average
from benchmarks.evaluator.measure import count_flops
from benchmarks.side_by_side import render as render_side_by_side
from benchmarks.side_by_side import side_by_side
from losspattern_core.explore import filter_normalized_directions, train_trajectory
from losspattern_core.explore.measure import measure_points
from losspattern_core.networks import NetworkSpec, as_input, build_network
from losspattern_core.surface import evaluate_points, naive_surface, range_points

GRID, ALPHA = 64, [[-1.0, 1.0], [-1.0, 1.0]]
SPECS = {"mlp": NetworkSpec(784, 10, family="mlp", activation="relu"),
         "cnn": NetworkSpec(784, 10, family="cnn", activation="relu", input_shape=(1, 28, 28))}
TRAIN_STEPS = {"mlp": 300, "cnn": 150}
FLOP_SAMPLES = 2000


class Clock:
    """Wall and CPU seconds (this process) of a block: on a machine shared with other jobs the
    CPU seconds say what the work cost, the wall seconds what a user waited."""

    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> bool:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0
        return False


def best_rate(fn, flops: float, seconds: float = 1.5) -> dict:
    """GFLOP/s of ``fn`` (``flops`` each call): the best call by wall and by CPU seconds."""
    fn()
    walls, cpus, t_end = [], [], time.perf_counter() + seconds
    while time.perf_counter() < t_end or len(walls) < 3:
        with Clock() as c:
            fn()
        walls.append(c.wall)
        cpus.append(max(c.cpu, 1e-9))
    return {"gflops": flops / min(walls) / 1e9, "gflops_cpu": flops / min(cpus) / 1e9}


def matmul_peak(n: int = 2048) -> dict:
    a, b = torch.randn(n, n), torch.randn(n, n)
    return {"n": n, **best_rate(lambda: a @ b, 2 * n**3)}


def subgrid(step: int) -> np.ndarray:
    """Indices into the 64x64 grid's points: every ``step``-th row and column."""
    idx = np.arange(0, GRID, step)
    return (idx[:, None] * GRID + idx[None, :]).ravel()


def conv_peak(model: torch.nn.Module, seconds: float = 1.0) -> dict:
    """The machine's best GFLOP/s on the CNN's own convolutions: every conv layer at its own
    shapes, in both memory layouts (NCHW, channels-last) and at batches 256, 512 and 1024; the
    best of all of them (by CPU time) is the peak the evaluator is compared with."""
    x, tried, best = torch.zeros(1, 1, 28, 28), [], None
    for i, m in enumerate(model):
        if isinstance(m, torch.nn.Conv2d):
            flops = 2 * m.weight.numel() * x.shape[-1] * x.shape[-2]
            w, b = m.weight.detach(), m.bias.detach()
            for layout in (torch.contiguous_format, torch.channels_last):
                for batch in (256, 512, 1024):
                    inp = torch.randn(batch, *x.shape[1:]).contiguous(memory_format=layout)
                    wl = w.contiguous(memory_format=layout)
                    rate = best_rate(lambda i=inp, wl=wl, b=b, m=m: F.conv2d(i, wl, b,
                                                                             padding=m.padding),
                                     flops * batch, seconds)
                    row = {**rate, "layer": i, "shape": list(x.shape[1:]),
                           "out_channels": m.out_channels,
                           "batch": batch, "layout": "NCHW" if layout is
                           torch.contiguous_format else "channels-last"}
                    tried.append(row)
                    if best is None or row["gflops_cpu"] > best["gflops_cpu"]:
                        best = row
        x = m(x)
    return {**best, "tried": tried}


class SplitLoss:
    """A ``loss_landscapes`` Metric: mean cross-entropy over a whole split, in chunks."""

    def __new__(cls, X, y):
        from loss_landscapes.metrics.metric import Metric

        class _Metric(Metric):
            def __call__(self, wrapper) -> float:
                with torch.no_grad():
                    total = sum(float(F.cross_entropy(wrapper.forward(X[s:s + 4096]),
                                                      y[s:s + 4096], reduction="sum"))
                                for s in range(0, len(y), 4096))
                return total / len(y)

        return _Metric()


def loss_landscapes_time(model, splits, steps: int) -> dict:
    """Seconds per grid point of ``loss_landscapes.random_plane`` (steps x steps points,
    filter normalisation) over both splits."""
    import copy

    from loss_landscapes import random_plane

    per, cpu, values = 0.0, 0.0, {}
    for name, (X, y) in splits.items():
        net = copy.deepcopy(model).eval()
        with Clock() as c:
            values[name] = random_plane(net, SplitLoss(X, y), distance=1, steps=steps,
                                        normalization="filter", deepcopy_model=True)
        per += c.wall / steps**2
        cpu += c.cpu / steps**2
    return {"s_per_point": per, "cpu_s_per_point": cpu, "points_timed": steps**2,
            "range": [float(min(v.min() for v in values.values())),
                      float(max(v.max() for v in values.values()))]}


def _measure(model, dirs, X, y, pts, points: int | None = None):
    """The explorer's own measurement (``explore.measure_points``: loss and accuracy over every
    sample, on the batched evaluator), driven to its end."""
    return lp.drive(measure_points(model, dirs, X, y, pts, points=points))


def evaluator_flops(model, dirs, splits, pts) -> float:
    """FLOPs of our measurement for ``pts`` points over both splits, counted on FLOP_SAMPLES
    samples with the points in one batch and scaled to the split (both the once-per-split and
    the per-point work are linear in samples). The timed run batches points to give a frame
    about every half second and repeats the first layer's per-block products for each
    batch; those repeats are not counted, so the rate reported is a lower bound."""
    total = 0.0
    for X, y in splits.values():
        Xs, ys = X[:FLOP_SAMPLES], y[:FLOP_SAMPLES]
        two = [count_flops(_measure, model, dirs, Xs, ys, pts[:k], points=k) for k in (2, 4)]
        per = (two[1] - two[0]) / 2
        once = two[0] - 2 * per
        total += (once + per * len(pts)) * len(y) / len(ys)
    return total


def case(family: str, ds, args) -> dict:
    spec = SPECS[family]
    splits = {s: (as_input(torch.as_tensor(ds.split(s)[0]), spec),
                  torch.as_tensor(ds.split(s)[1], dtype=torch.long)) for s in ("train", "test")}
    t0 = time.perf_counter()
    trained = lp.drive(train_trajectory(build_network(spec, seed=0), *splits["train"],
                                        steps=TRAIN_STEPS[family], batch=128, seed=0,
                                        snapshot_every=TRAIN_STEPS[family]))
    model = trained.model.eval()
    train_s = time.perf_counter() - t0
    dirs = filter_normalized_directions(model, 2, seed=0)
    grid_pts = range_points(GRID, 2, ALPHA)
    pts = grid_pts[subgrid(args.step[family])]
    ours_s, ours_cpu, ours = 0.0, 0.0, {}
    for s, (X, y) in splits.items():
        with Clock() as c:
            ours[s] = _measure(model, dirs, X, y, pts).loss
        ours_s, ours_cpu = ours_s + c.wall, ours_cpu + c.cpu
    naive_pts = np.linspace(0, len(pts) - 1, args.naive_points).astype(int)
    naive_s, naive_cpu, rel = 0.0, 0.0, 0.0
    for s, (X, y) in splits.items():
        with Clock() as c:
            ref = naive_surface(model, dirs, X, y, pts[naive_pts], classes=10)[:, 0]
        naive_s, naive_cpu = naive_s + c.wall, naive_cpu + c.cpu
        rel = max(rel, float(np.max(np.abs(ours[s][naive_pts] - ref) / np.abs(ref))))
    ll = loss_landscapes_time(model, splits, args.ll_steps)
    flops = evaluator_flops(model, dirs, splits, pts)
    full = GRID * GRID
    out = {"family": family, "parameters": sum(p.numel() for p in model.parameters()),
           "train_steps": TRAIN_STEPS[family], "train_s": train_s,
           "final_train_loss": float(trained.final_loss),
           "ours": {"points_timed": len(pts), "s": ours_s, "s_grid": ours_s * full / len(pts),
                    "cpu_s_grid": ours_cpu * full / len(pts), "gflop": flops / 1e9,
                    "gflops": flops / ours_s / 1e9, "gflops_cpu": flops / ours_cpu / 1e9},
           "naive": {"points_timed": int(args.naive_points), "s_per_point": naive_s /
                     args.naive_points, "s_grid": naive_s / args.naive_points * full,
                     "cpu_s_grid": naive_cpu / args.naive_points * full},
           "loss_landscapes": {**ll, "s_grid": ll["s_per_point"] * full,
                               "cpu_s_grid": ll["cpu_s_per_point"] * full},
           "max_rel_diff_ours_naive": rel,
           "loss_range": [float(min(v.min() for v in ours.values())),
                          float(max(v.max() for v in ours.values()))]}
    out["peak"] = (conv_peak(model) if family == "cnn" else None)
    out["side_by_side"] = side_by_side(family, model, dirs, *splits["test"], grid_pts,
                                       out["peak"] or args.matmul, args.rounds)
    return out, model, dirs


def ray_speedup(model, dirs, ds, points: int) -> dict:
    """The mlp's bundle measured by ``ray_surfaces`` with 1, then 2 workers (one local
    instance of 2 CPUs, started once; workers warmed up first so loading is not timed)."""
    try:
        import ray
    except ImportError:
        return {"skipped": "ray is not installed (pip install -e .[ray])"}
    from losspattern_core.distributed import ray_surfaces

    folder = Path(tempfile.mkdtemp(prefix="lp-ray-bench-")) / "mlp"
    write_bundle(folder, model, dirs, ds, SPECS["mlp"])
    pts = range_points(GRID, 2, ALPHA)[subgrid(GRID // int(np.sqrt(points)))]
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")     # a private instance, even beside a `ray start` one
    try:
        ray_surfaces(folder, pts[:8], chunk=4, num_workers=2, accuracy=False)   # warm-up
        out = {"points": len(pts), "splits": ["train", "test"]}
        for n in (1, 2):
            t0 = time.perf_counter()
            res = ray_surfaces(folder, pts, chunk=max(8, len(pts) // 8), num_workers=n,
                               accuracy=False)
            out[f"s_{n}_workers"] = time.perf_counter() - t0
        X, y = ds.split("test")
        local = evaluate_points(model, dirs, X, y, pts, classes=10)[0]
        out["equal_to_local_test"] = bool(np.array_equal(res["test"]["loss"], local))
        out["speedup"] = out["s_1_workers"] / out["s_2_workers"]
    finally:
        ray.shutdown()
    return out


def write_bundle(folder: Path, model, dirs, ds, spec, alpha_range=ALPHA, grid: int = 2) -> Path:
    """A minimal format-2 explore bundle (network, dense directions, split; zero surfaces) for
    Ray to measure (tests/core/test_ray.py uses it too)."""
    from losspattern_core.io.bundle_write import (
        FORMAT,
        VERSION,
        commit_bundle,
        save_dense_directions,
        save_split,
        save_state,
    )

    meta = {"format": f"{FORMAT}/{VERSION}", "method": "explore", "z": 2,
            "network": {"input_shape": spec.input_spec(), "layers": spec.layers()},
            "heads": 1, "classes": 10, "loss": "cross_entropy",
            "directions": [{"dense": True, "kind": "random-filter-normalised"}] * 2,
            "alpha_range": alpha_range, "grid": grid,
            "dataset": {"name": ds.name, "features": ds.features, "n_train": len(ds.train_idx),
                        "n_test": len(ds.test_idx),
                        "label_counts_train": ds.label_counts("train").tolist(),
                        "label_counts_test": ds.label_counts("test").tolist()}}

    def files(tmp: Path) -> None:
        save_state(tmp, model)
        save_dense_directions(tmp, dirs)
        save_split(tmp, ds.train_idx, ds.test_idx)
        for s in ("train", "test"):
            np.save(tmp / f"surface_{s}.npy", np.zeros((grid, grid)))

    return commit_bundle(folder, meta, files, {})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer points (a few minutes)")
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved side-by-side rounds per network (default 12, --quick 4)")
    p.add_argument("--mlp-step", type=int, default=2, choices=(1, 2, 4, 8),
                   help="time every k-th row and column of the mlp's grid (default 2)")
    args = p.parse_args(argv)
    # points timed per method (the rest extrapolated): sized for a 2-core machine shared with
    # other jobs; on a free machine --mlp-step 1 times the mlp's whole grid
    args.step = {"mlp": 16, "cnn": 32} if args.quick else {"mlp": args.mlp_step, "cnn": 8}
    args.naive_points, args.ll_steps = (1, 2) if args.quick else (3, 2)
    args.rounds = args.rounds or (4 if args.quick else 12)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    load = {"start": load_average()}
    ds = lp.load_dataset("fashion-mnist")
    peak = args.matmul = matmul_peak()
    cases, keep = [], {}
    for family in ("mlp", "cnn"):
        c, model, dirs = case(family, ds, args)
        cases.append(c)
        keep[family] = (model, dirs)
        print(json.dumps(c), flush=True)
    try:
        ray = ray_speedup(*keep["mlp"], ds, 16 if args.quick else 64)
    except Exception as exc:  # the table still gets written, with the reason
        ray = {"skipped": f"{type(exc).__name__}: {exc}"}
    load["end"] = load_average()
    report = {"quick": args.quick, "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
              "load_average": load, "matmul_peak": peak, "cases": cases, "ray": ray,
              "torch": torch.__version__, "python": sys.version.split()[0]}
    stem = Path(__file__).with_name("results-explore" + ("-quick" if args.quick else ""))
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2))
    stem.with_suffix(".md").write_text(render(report))
    print(render(report))
    return 0 if all(c["max_rel_diff_ours_naive"] <= 1e-5 for c in cases) else 1


def _t(s: float) -> str:
    return f"{s:,.1f} s" if s < 3600 else f"{s / 3600:,.2f} h"


def render(r: dict) -> str:
    """The report as markdown: one table per network, then Ray and the machine."""
    load, peak = r["load_average"], r["matmul_peak"]
    lines = [f"# Random-direction landscapes on Fashion-MNIST ({'quick' if r['quick'] else 'full'}"
             " run)", "", f"64x64 grid, alpha in [-1, 1]^2, two random filter-normalised "
             f"directions, train (60 000) + test (10 000), every sample; {r['threads']} torch "
             f"thread(s) on {r['cpus']} CPUs shared with other jobs: load average "
             f"{load['start']} at the start, {load['end']} at the end (1, 5, 15 min). Wall "
             "seconds are what a user waited on this loaded machine; CPU seconds (this "
             "process) are what the work cost, and the fairer basis for ratios and peak shares.",
             f"Measured peak, fp32 {peak['n']}^2 matmul: {peak['gflops']:.1f} GFLOP/s by wall "
             f"time, {peak['gflops_cpu']:.1f} by CPU time.", ""]
    for c in r["cases"]:
        o, n, ll = c["ours"], c["naive"], c["loss_landscapes"]
        ref = c["peak"] or peak
        ref_name = (f"best of its convolutions' layers x layouts x batches 256/512/1024: conv "
                    f"{c['peak']['shape']}->{c['peak']['out_channels']} channels, "
                    f"{c['peak']['layout']}, batch {c['peak']['batch']}" if c["peak"]
                    else f"{peak['n']}^2 matmul")
        ext = "" if o["points_timed"] == 4096 else " (extrapolated)"
        lines += [f"## {c['family']} ({c['parameters']:,} parameters, {c['train_steps']} Adam "
                  f"steps, train loss {c['final_train_loss']:.3f})", "",
                  "| method | points timed | 64x64 grid, wall | 64x64 grid, CPU | "
                  "vs ours (CPU) |", "|---|---|---|---|---|",
                  f"| ours (explore's measure_points: loss + accuracy, exact) | "
                  f"{o['points_timed']} | {_t(o['s_grid'])}{ext} | "
                  f"{_t(o['cpu_s_grid'])} | 1 |",
                  f"| naive per-point loop | {n['points_timed']} | {_t(n['s_grid'])} "
                  f"(extrapolated) | {_t(n['cpu_s_grid'])} | "
                  f"{n['cpu_s_grid'] / o['cpu_s_grid']:.1f}x |",
                  f"| loss-landscapes random_plane | {ll['points_timed']} | "
                  f"{_t(ll['s_grid'])} (extrapolated) | {_t(ll['cpu_s_grid'])} | "
                  f"{ll['cpu_s_grid'] / o['cpu_s_grid']:.1f}x |",
                  "", f"Ours: {o['gflop']:,.0f} GFLOP of counted matrix-product/convolution work"
                  f" on the points timed: {o['gflops_cpu']:.1f} GFLOP/s per CPU second = "
                  f"{100 * o['gflops_cpu'] / ref['gflops_cpu']:.0f} % of the best single call of "
                  f"the peak operation (strict: ours is one long run, the peak its best call of"
                  f" many, measured minutes apart; {ref_name}: {ref['gflops_cpu']:.1f} GFLOP/s "
                  f"per CPU second); by wall time "
                  f"{o['gflops']:.1f} vs {ref['gflops']:.1f} GFLOP/s. "
                  f"Max |ours - naive| / |naive| at the naive loop's points: "
                  f"{c['max_rel_diff_ours_naive']:.1e}. Loss range on the points timed: "
                  f"{c['loss_range'][0]:.3f} .. {c['loss_range'][1]:.3f}.", ""]
        if c.get("side_by_side"):
            lines += [render_side_by_side(c["side_by_side"]), ""]
    ray = r["ray"]
    if "skipped" in ray:
        lines += [f"Ray: skipped ({ray['skipped']}).", ""]
    else:
        lines += ["## Ray (mlp bundle, one local instance of 2 CPUs)", "",
                  f"{ray['points']} grid points x both splits, wall time: 1 worker "
                  f"{_t(ray['s_1_workers'])}, 2 workers {_t(ray['s_2_workers'])}: speed-up "
                  f"{ray['speedup']:.2f}x on this shared 2-core machine (see the load average)."
                  f" Values equal to the local evaluator (test split, bit for bit): "
                  f"{ray['equal_to_local_test']}.", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
