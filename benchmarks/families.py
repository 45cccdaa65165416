"""Exact loss surfaces of every network family beside the naive per-point loop.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/families.py [--quick] [--naive-points 2]

One case per structure the evaluator proves from exact zeros:

* **one row**: a Theorem 1 ``resnet`` (width 16, 2 residual blocks, BatchNorm) built by the
  construction on Fashion-MNIST, measured over the full train and test splits (70 000 images)
  on the 64x64 grid;
* **separable**: a Theorem 2 ``cnn`` built by the construction on digits (train + test);
* **general**: two dense filter-normalised random directions on an ordinary ``cnn`` on digits.

The naive loop (``naive_surface``: each point's weights written into an eval-mode copy, the
whole split run through it) is timed on ``--naive-points`` grid points and extrapolated to the
grid; the table says so. At those points the two must agree to 1e-5 relative (else exit 1).
Only the public core API is used; nothing is downloaded (Fashion-MNIST: Debian's
dataset-fashion-mnist).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time

import numpy as np
import torch

import losspattern_core as lp
from losspattern_core.networks import NetworkSpec, as_input, build_network, parameter_count
from losspattern_core.surface import (
    evaluate_points,
    naive_surface,
    prepare,
    random_direction,
    range_points,
)


@dataclasses.dataclass
class Case:
    name: str
    model: torch.nn.Module
    directions: list
    splits: dict            # split name -> (X shaped as the network takes it, y)
    grid: int
    alpha_range: list
    classes: int
    heads: int
    note: str


def _splits(resolved, spec) -> dict:
    out = {}
    for split in ("train", "test"):
        X, y = resolved.dataset.split(split)
        out[split] = (as_input(torch.as_tensor(np.asarray(X)), spec), np.asarray(y))
    return out


def theorem1_resnet(args) -> Case:
    dataset, shape = ("digits", (1, 8, 8)) if args.quick else ("fashion-mnist", (1, 28, 28))
    r = lp.validate(lp.ConstructionConfig(dataset=dataset, steps=args.steps, grid=args.grid,
                                          batch=args.batch, snapshot_every=0))
    spec = NetworkSpec(r.dataset.X.shape[1], r.dataset.classes, family="resnet",
                       activation="relu", width=16, blocks=2, input_shape=shape, heads=r.heads)
    r = dataclasses.replace(r, network=spec)
    con = lp.drive(lp.construct(r))
    return Case("Theorem 1 resnet", con.model, con.directions, _splits(r, spec), args.grid,
                con.alpha_range, r.dataset.classes, r.heads, f"{dataset}, {args.steps} steps")


def theorem2_cnn(args) -> Case:
    r = lp.validate(lp.ConstructionConfig(dataset="digits", theorem=2, steps=args.steps,
                                          grid=args.grid, batch=args.batch, snapshot_every=0))
    spec = NetworkSpec(64, r.dataset.classes, family="cnn", activation="relu",
                       channels=(8, 16), hidden=32, input_shape=(1, 8, 8), heads=r.heads)
    r = dataclasses.replace(r, network=spec)
    from losspattern_core.constructions.theorem2 import construct

    con = lp.drive(construct(r, run_baseline=False))
    return Case("Theorem 2 cnn", con.model, con.directions, _splits(r, spec), args.grid,
                con.alpha_range, r.dataset.classes, r.heads, f"digits, {args.steps} steps")


def dense_cnn(args) -> Case:
    r = lp.validate(lp.ConstructionConfig(dataset="digits", snapshot_every=0))
    spec = NetworkSpec(64, r.dataset.classes, family="cnn", activation="relu",
                       input_shape=(1, 8, 8), batchnorm=True)
    model = build_network(spec, seed=0).eval()
    dirs = [random_direction(model, seed=s) for s in (1, 2)]
    grid = min(args.grid, args.general_grid)
    return Case("dense random directions, cnn", model, dirs, _splits(r, spec), grid,
                [[-1.0, 1.0]] * 2, r.dataset.classes, 1, "digits, untrained, BatchNorm")


def measure(case: Case, naive_points: int, seed: int = 0) -> dict:
    z = len(case.directions)
    alphas = range_points(case.grid, z, case.alpha_range)
    kw = dict(classes=case.classes, heads=case.heads)
    t0 = time.perf_counter()
    ours, structure = {}, set()
    for split, (X, y) in case.splits.items():
        prep = prepare(case.model, case.directions, X, y, case.classes)
        structure.add(prep.info["structure"])
        ours[split], _ = evaluate_points(case.model, case.directions, X, y, alphas,
                                         prepared=prep, **kw)
    exact_s = time.perf_counter() - t0
    pick = np.random.default_rng(seed).choice(len(alphas), naive_points, replace=False)
    t0 = time.perf_counter()
    err = 0.0
    for split, (X, y) in case.splits.items():
        ref = naive_surface(case.model, case.directions, X, y, alphas[pick], **kw)
        err = max(err, float(np.max(np.abs(ours[split][pick] - ref) / np.abs(ref))))
    naive_s = time.perf_counter() - t0
    extrapolated = naive_s / naive_points * len(alphas)
    n = sum(len(y) for _, y in case.splits.values())
    return {"case": case.name, "structure": "/".join(sorted(structure)),
            "params": parameter_count(case.model), "note": case.note, "samples": n,
            "grid": f"{case.grid}x{case.grid}", "exact_s": exact_s,
            "naive_point_s": naive_s / naive_points, "naive_points": naive_points,
            "naive_s": extrapolated, "speedup": extrapolated / exact_s, "max_rel_diff": err}


def table(rows: list[dict]) -> str:
    head = ("| case | structure | parameters | data | samples (train+test) | grid | exact "
            "surfaces | naive, per point | naive, whole grid (extrapolated) | speed-up | "
            "max rel. diff |")
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['structure']} | {r['params']:,} | {r['note']} | "
            f"{r['samples']:,} | {r['grid']} | {r['exact_s']:.2f} s | "
            f"{r['naive_point_s']:.2f} s (timed on {r['naive_points']} points) | "
            f"{r['naive_s']:,.0f} s | {r['speedup']:,.0f}x | {r['max_rel_diff']:.1e} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="digits only, 8x8 grid (a smoke run)")
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--general-grid", type=int, default=16,
                    help="grid of the general case (its cost is the naive one's order)")
    ap.add_argument("--naive-points", type=int, default=2)
    ap.add_argument("--steps", type=int, default=50, help="construction steps")
    ap.add_argument("--batch", type=int, default=256, help="construction batch")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.quick:
        args.grid, args.general_grid, args.naive_points, args.steps = 8, 4, 1, 5
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for build in (theorem1_resnet, theorem2_cnn, dense_cnn):
        t0 = time.perf_counter()
        case = build(args)
        print(f"built {case.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        rows.append(measure(case, args.naive_points))
        print(f"measured {case.name}: {rows[-1]['exact_s']:.2f} s", file=sys.stderr)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{platform.processor() or platform.machine()}, {platform.python_version()}; "
          f"exact surfaces include prepare(); the naive loop is timed on the points named "
          f"and extrapolated to the grid\n")
    print(table(rows))
    return 0 if all(r["max_rel_diff"] <= 1e-5 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
