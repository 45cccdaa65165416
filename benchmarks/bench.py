"""``losspattern bench``: the exact surface evaluator against the per-point baselines.

Everything is measured in one run on one machine, side by side:

1. the naive loop (``surface.naive_surface``): write theta_0 + sum a_i theta_i into a copy of the
   model and run the whole split as one batch, one grid point at a time;
2. the ``loss-landscapes`` library (``planar_interpolation`` over the same plane, model and data;
   ``random_plane`` timed too for dense directions), if it is installed;
3. ours (``surface.prepare`` + ``surface.evaluate_points``), cold: preparation included.

Slow baselines are timed on a fixed subset of the grid's points (as many as fit in
``--baseline-seconds``) and extrapolated per point; the output says so. Peak memory is the rise
of the process's resident set (``VmHWM`` after resetting it through ``/proc/self/clear_refs``,
minus ``VmRSS`` before), or the ``ru_maxrss`` delta where that reset is unavailable.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import json
import os
import platform
import resource
import time
from pathlib import Path

DEFAULT_JSON = "benchmarks/results.json"
DEFAULT_MD = "benchmarks/results.md"
# Timings on a shared machine: each method is timed in this many batches of points and its
# fastest batch's per-point time is used (other jobs' bursts only ever slow a batch down).
BATCHES = 8
# theorem2: the construction's network (block structure, separable); zero-rows: Theorem 2's
# directions on an ordinary trained MLP (no block structure: the general, non-separable path).
CASES = ("theorem1", "theorem2", "zero-rows", "dense")


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--quick", action="store_true",
                   help="small fast run (digits only, 16x16 grid, short baselines)")
    p.add_argument("--datasets", nargs="+", default=None,
                   help="datasets to run (default: digits fashion-mnist; --quick: digits)")
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--grid", type=int, default=None, help="grid size per axis (default 64)")
    p.add_argument("--big-grid", type=int, default=None,
                   help="grid of the full train+test Theorem 1 run (default 256; 0 skips)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch/OpenMP threads (default 1: 2-thread OpenMP stalls at times on "
                        "these machines)")
    p.add_argument("--baseline-seconds", type=float, default=None,
                   help="time budget per slow baseline and case (default 8; --quick 1)")
    p.add_argument("--train-steps", type=int, default=None,
                   help="Adam steps of the ordinarily trained MLP (default 300; --quick 30)")
    p.add_argument("--repeats", type=int, default=None,
                   help="runs of ours per case; the fastest is reported (default 1: cold, "
                        "preparation included)")
    p.add_argument("--no-loss-landscapes", action="store_true")
    p.add_argument("--json", default=DEFAULT_JSON, help=f"JSON output (default {DEFAULT_JSON})")
    p.add_argument("--md", default=DEFAULT_MD, help=f"markdown table (default {DEFAULT_MD})")
    p.add_argument("--device", default="cpu")
    return p


# --- measuring ------------------------------------------------------------------------------

class PeakMemory:
    """Rise of the resident set while the block runs, in MiB."""

    def __init__(self):
        self.method = "VmHWM-reset"
        self.mib = float("nan")

    @staticmethod
    def _status(key: str) -> int | None:
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def __enter__(self):
        try:  # give freed heap back to the OS so old free memory does not hide a new peak
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except OSError:
            pass
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self.before = self._status("VmRSS")
        except OSError:
            self.before = None
        if self.before is None:
            self.method = "ru_maxrss delta"
            self.before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc):
        if self.method == "VmHWM-reset":
            self.mib = (self._status("VmHWM") - self.before) / 1024
        else:
            self.mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.before) / 1024
        return False


def matmul_gflops(torch, device, seconds: float = 1.5) -> dict:
    """Best fp32 matmul throughput over a few square sizes (GFLOP/s)."""
    best = {}
    for n in (512, 1024, 2048):
        a = torch.randn(n, n, device=device)
        b = torch.randn(n, n, device=device)
        a @ b
        reps, t_end, times = 0, time.perf_counter() + seconds / 3, []
        while time.perf_counter() < t_end or reps < 3:
            t0 = time.perf_counter()
            a @ b
            if device != "cpu":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
            reps += 1
        best[n] = 2 * n**3 / min(times) / 1e9
    return {"best_gflops": max(best.values()), "by_size": {str(k): round(v, 1)
                                                           for k, v in best.items()}}


def naive_flops_per_point(model, n: int) -> float:
    from torch import nn
    return float(n * sum(2 * m.in_features * m.out_features for m in model
                         if isinstance(m, nn.Linear)))


def our_flops(prep, n_points: int) -> dict:
    """Matrix-product FLOPs ours performs: once (preparation) and per grid point."""
    u, z = prep.rows, prep.z
    once = prep.info["prepare_flops"]
    m = prep.base.shape[1]
    per = 0.0
    if prep.sep is not None:  # g(alpha) on one row, then exp-product and count-product
        sep = prep.sep
        for op in sep.ops:
            if op[0] == "linear":
                k = 1 + sum(t is not None for t in op[2])
                per += 2.0 * k * op[1].in_features * op[1].out_features
        per += 2.0 * sep.heads * sep.classes * (sep.alpha_units + 2 * u)
        return {"once": once, "per_point": per, "total": once + per * n_points}
    if prep.drows is not None:
        per += 2.0 * z * u * m
    if prep.split:
        rows_m = 1 if (prep.base.shape[0] == 1 and prep.drows is None) else u
        per += 2.0 * rows_m * m * prep.wm_t.shape[1]
    for kind, op in prep.tail:
        if kind == "linear":
            per += 2.0 * u * op.in_features * op.out_features
        elif kind == "moved":
            i, o = op.weight_t.shape
            if u <= 4 * (z + 1):
                per += 2.0 * (z + 1) * u * i * o
            else:
                per += 2.0 * u * i * o + 2.0 * z * i * o
    return {"once": once, "per_point": per, "total": once + per * n_points}


# --- models ---------------------------------------------------------------------------------

def train_mlp(torch, X, y, classes, steps, seed=0, activation="relu", width=128, depth=3):
    from losspattern_core.networks import NetworkSpec, build_mlp

    model = build_mlp(NetworkSpec(X.shape[1], classes, depth, width, activation), seed=seed)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(yt), (128,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = float((model(Xt).argmax(1) == yt).float().mean())
    return model.eval(), acc


def trained_steps(trained) -> int:
    return getattr(trained, "_bench_steps", 300)


def theorem2_network(torch, X, y, classes, steps, seed=0):
    """The Theorem 2 construction's architecture with its exact zero blocks; the x block is
    trained by minibatch cross-entropy (the construction's classifier phase)."""
    from types import SimpleNamespace

    from losspattern_core.construct import theorem2 as T2
    from losspattern_core.networks import NetworkSpec

    spec = NetworkSpec(X.shape[1], classes, 3, 128, "relu")
    x_units = max(classes, round(128 * T2.X_SHARE))
    b = T2.Blocks(2, 128, 128, 128 - x_units, 3)
    model = T2.build_network(SimpleNamespace(config=SimpleNamespace(seed=seed, device="cpu"),
                                             network=spec), b)
    paths = T2._Paths(model, b)
    lins = paths.lins
    params = [lins[0].weight, lins[0].bias, *(p for lin in lins[1:] for p in
                                             (lin.weight, lin.bias))]
    opt = torch.optim.Adam(params, lr=1e-3)
    Xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(yt), (128,), generator=g)
        loss = torch.nn.functional.cross_entropy(paths.classifier(Xt[idx]), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():   # gradients only touch the x block's views; keep the zeros exact
        lins[0].weight[:2].zero_()
        lins[0].bias[:2].zero_()
    return model.eval()


def build_case(torch, case, X, y, classes, trained):
    from losspattern_core.networks import NetworkSpec, build_mlp
    from losspattern_core.surface import Direction, random_direction

    if case == "theorem1":
        model = build_mlp(NetworkSpec(X.shape[1], classes, 3, 128, "sin"), seed=0)
        with torch.no_grad():
            model[0].weight.zero_()
            model[0].bias.zero_()
        return (model, [Direction("0.bias", 0), Direction("0.bias", 1)], [[0, 1], [0, 1]],
                "Theorem 1: W1 = 0, sin MLP 3x128, directions = first-layer biases 0,1")
    if case == "theorem2":
        return (theorem2_network(torch, X, y, classes, steps=trained_steps(trained)),
                [Direction("0.bias", 0), Direction("0.bias", 1)], [[0, 1], [0, 1]],
                "Theorem 2 network (construct.theorem2.build_network: ReLU 3x128, z = 2 pattern "
                "units, 96-unit alpha block and 32-unit x block meeting only at the output; x "
                "block trained like the ordinary MLP, alpha block at its initialisation), "
                "directions = the pattern units' biases")
    if case == "zero-rows":
        model = copy.deepcopy(trained)
        with torch.no_grad():
            model[0].weight[:2] = 0
        return (model, [Direction("0.bias", 0), Direction("0.bias", 1)], [[0, 1], [0, 1]],
                "Theorem 2's directions on an ordinary trained ReLU MLP 3x128 (no block "
                "structure): W1 rows of units 0,1 set to zero, directions = their biases")
    model = trained
    return (model, [random_direction(model, 1), random_direction(model, 2)],
            [[-1, 1], [-1, 1]],
            "trained ReLU MLP 3x128, 2 random Gaussian filter-normalised directions over "
            "every parameter")


# --- baselines ------------------------------------------------------------------------------

def time_naive(model, dirs, X, y, alphas, classes, budget_s):
    """Naive loop on a fixed subset of points, as many as fit in budget_s (at least 2)."""
    import numpy as np

    from losspattern_core.surface import naive_surface

    order = np.random.default_rng(0).permutation(len(alphas))
    t0 = time.perf_counter()
    naive_surface(model, dirs, X, y, alphas[order[:1]], classes=classes)
    per = max(time.perf_counter() - t0, 1e-6)
    k = int(min(len(alphas), max(2, budget_s / per)))
    pick = np.sort(order[:k])
    batches = np.array_split(pick, min(BATCHES, k))
    vals, times = [], []
    with PeakMemory() as mem:
        for b in batches:
            t0 = time.perf_counter()
            vals.append(naive_surface(model, dirs, X, y, alphas[b], classes=classes)[:, 0])
            times.append(time.perf_counter() - t0)
    dt = sum(times)
    best = min(t / len(b) for t, b in zip(times, batches, strict=True))
    return {"points_timed": k, "seconds_timed": dt, "batches": len(batches),
            "mean_per_point_s": dt / k, "per_point_s": best, "peak_mib": mem.mib}, pick, \
        np.concatenate(vals)


def time_loss_landscapes(torch, model, dirs, X, y, lo, hi, budget_s, per_point_guess, which,
                         max_steps=64):
    """loss-landscapes on the same plane; returns timing, the alphas it evaluated, values."""
    import loss_landscapes
    import numpy as np
    from loss_landscapes.metrics import Loss

    from losspattern_core.surface import params_at

    metric = Loss(torch.nn.CrossEntropyLoss(), torch.as_tensor(X, dtype=torch.float32),
                  torch.as_tensor(y, dtype=torch.long))
    steps = int(max(2, min(max_steps, np.sqrt(budget_s / max(per_point_guess, 1e-6)))))
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)

    def at(alpha):
        m = copy.deepcopy(model)
        with torch.no_grad():
            for k, v in params_at(model, dirs, alpha).items():
                dict(m.named_parameters())[k].copy_(v)
        return m

    start, e1, e2 = at(lo), at([hi[0], lo[1]]), at([lo[0], hi[1]])
    reps = 3 if steps >= 4 else 1
    if reps > 1:
        steps = max(2, int(steps / np.sqrt(reps)))
    times = []
    with torch.no_grad(), PeakMemory() as mem:
        for _ in range(reps):
            t0 = time.perf_counter()
            if which == "planar_interpolation":
                vals = loss_landscapes.planar_interpolation(start, e1, e2, metric, steps=steps,
                                                            deepcopy_model=True)
            else:
                vals = loss_landscapes.random_plane(start, metric, distance=1, steps=steps,
                                                    normalization="filter", deepcopy_model=True)
            times.append(time.perf_counter() - t0)
    out = {"api": which, "steps": steps, "calls": reps, "points_timed": reps * steps * steps,
           "seconds_timed": sum(times), "mean_per_point_s": sum(times) / (reps * steps**2),
           "per_point_s": min(times) / steps**2, "peak_mib": mem.mib}
    if which != "planar_interpolation":
        return out, None, None
    # planar_interpolation visits (i, j+1) on even rows i and (i, j) on odd rows (its
    # serpentine walk); map each value to the alpha it was computed at.
    ii, jj = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    jj = jj + (ii % 2 == 0)
    frac = np.stack([ii.ravel(), jj.ravel()], 1) / steps
    return out, lo + (hi - lo) * frac, np.asarray(vals, float).ravel()


# --- the run --------------------------------------------------------------------------------

def run(args) -> dict:
    import numpy as np
    import torch

    import losspattern_core.surface as S
    from losspattern_core.data.datasets import load_dataset

    torch.set_num_threads(args.threads)
    quick = args.quick
    grid = args.grid or (16 if quick else 64)
    big = args.big_grid if args.big_grid is not None else (0 if quick else 256)
    budget_s = args.baseline_seconds or (1.0 if quick else 8.0)
    steps = args.train_steps or (30 if quick else 300)
    repeats = args.repeats or 1
    datasets = args.datasets or (["digits"] if quick else ["digits", "fashion-mnist"])
    device = args.device
    try:
        import loss_landscapes  # noqa: F401
        ll_status = None if not args.no_loss_landscapes else "skipped: --no-loss-landscapes"
    except Exception as exc:  # noqa: BLE001 - any import failure means: skip, say why
        ll_status = (f"skipped: loss-landscapes is not importable ({exc.__class__.__name__}: "
                     f"{exc}); install it with pip install 'losspattern[bench]'")

    res = {"machine": {"platform": platform.platform(), "processor": _cpu_name(),
                       "cpus": os.cpu_count(), "torch": torch.__version__,
                       "threads": args.threads, "device": device,
                       "loadavg_start": list(os.getloadavg())},
           "settings": {"grid": grid, "baseline_seconds": budget_s, "train_steps": steps,
                        "repeats": repeats, "quick": quick},
           "memory_method": "", "loss_landscapes": ll_status or "ok", "cases": []}
    res["matmul_start"] = matmul_gflops(torch, device)
    print(f"matmul: {res['matmul_start']['best_gflops']:.0f} GFLOP/s fp32 "
          f"({args.threads} thread(s))", flush=True)

    for ds_name in datasets:
        try:
            ds = load_dataset(ds_name)
        except Exception as exc:  # noqa: BLE001
            res["cases"].append({"dataset": ds_name, "skipped": str(exc)})
            print(f"{ds_name}: skipped ({exc})")
            continue
        X, y = ds.split("train")
        t0 = time.perf_counter()
        trained, acc = train_mlp(torch, X, y, ds.classes, steps)
        trained._bench_steps = steps
        train_s = time.perf_counter() - t0
        for case in args.cases:
            model, dirs, rng, desc = build_case(torch, case, X, y, ds.classes, trained)
            alphas = S.range_points(grid, 2, rng)
            row = {"dataset": ds_name, "case": case, "description": desc, "split": "train",
                   "samples": int(len(y)), "grid": f"{grid}x{grid}", "points": len(alphas)}
            if case != "theorem1":
                row["trained_accuracy"] = round(acc, 4)
                row["train_s"] = round(train_s, 2)
            best = None
            chunks = np.array_split(np.arange(len(alphas)), min(BATCHES, len(alphas)))
            for _ in range(repeats):
                ours = np.empty(len(alphas))
                with PeakMemory() as mem:
                    t0 = time.perf_counter()
                    prep = S.prepare(model, dirs, X, y, ds.classes, device)
                    t1 = time.perf_counter()
                    chunk_pp = []
                    for c in chunks:
                        tc = time.perf_counter()
                        ours[c] = S.evaluate_points(model, dirs, X, y, alphas[c],
                                                    classes=ds.classes, prepared=prep)[0][:, 0]
                        chunk_pp.append((time.perf_counter() - tc) / len(c))
                    t2 = time.perf_counter()
                robust = (t1 - t0) + min(chunk_pp) * len(alphas)
                if best is None or robust < best[3]:
                    best = (t2 - t0, t1 - t0, mem.mib, robust)
            res["memory_method"] = mem.method
            dt_wall, prep_s, mib, dt = best
            ours = ours[:, None]
            fl = our_flops(prep, len(alphas))
            nf = naive_flops_per_point(model, len(y))
            row["ours"] = {"seconds": dt, "seconds_wall": dt_wall, "prepare_s": prep_s,
                           "points_per_s": len(alphas) / dt,
                           "sample_evals_per_s": len(alphas) * len(y) / dt, "peak_mib": mib,
                           "rows_after_dedup": prep.rows, "structure": dict(prep.info),
                           "useful_gflop": fl["total"] / 1e9,
                           "useful_gflops": fl["total"] / dt / 1e9,
                           "naive_equivalent_gflops": nf * len(alphas) / dt / 1e9}
            print(f"{ds_name} {case}: ours {dt:.3f} s for {len(alphas)} points "
                  f"({prep.info.get('dedup')})", flush=True)
            nv, pick, nvals = time_naive(model, dirs, X, y, alphas, ds.classes, budget_s)
            nv["seconds_extrapolated"] = nv["per_point_s"] * len(alphas)
            nv["seconds_extrapolated_mean"] = nv["mean_per_point_s"] * len(alphas)
            nv["extrapolated"] = nv["points_timed"] < len(alphas)
            nv["gflops"] = nf / nv["per_point_s"] / 1e9
            row["naive"] = nv
            row["max_abs_diff_vs_naive"] = float(np.abs(ours[pick, 0] - nvals).max())
            row["checked_points"] = int(len(pick))
            # FLOP bound: at the measured matmul peak, how fast could ours be against this naive?
            row["flops_per_point"] = {"naive": nf, "ours": fl["per_point"],
                                      "ratio": nf / max(fl["per_point"], 1.0)}
            row["speedup_vs_naive"] = nv["seconds_extrapolated"] / dt
            row["speedup_vs_naive_wall_mean"] = nv["seconds_extrapolated_mean"] / dt_wall
            print(f"   naive {nv['per_point_s'] * 1e3:.2f} ms/point on {nv['points_timed']} "
                  f"points; x{row['speedup_vs_naive']:.1f}; max|diff| "
                  f"{row['max_abs_diff_vs_naive']:.2e}", flush=True)
            if ll_status is None:
                row["loss_landscapes"] = []
                apis = ["planar_interpolation"] + (["random_plane"] if case == "dense" else [])
                for api in apis:
                    try:
                        ll, la, lv = time_loss_landscapes(torch, model, dirs, X, y,
                                                          [r[0] for r in rng],
                                                          [r[1] for r in rng], budget_s,
                                                          nv["per_point_s"], api, grid)
                        ll["seconds_extrapolated"] = ll["per_point_s"] * len(alphas)
                        ll["speedup_of_ours"] = ll["seconds_extrapolated"] / dt
                        if la is not None:
                            mine, _ = S.evaluate_points(model, dirs, X, y, la,
                                                        classes=ds.classes, prepared=prep)
                            ll["max_abs_diff_vs_ours"] = float(np.abs(mine[:, 0] - lv).max())
                        print(f"   loss-landscapes {api}: {ll['per_point_s'] * 1e3:.2f} "
                              f"ms/point; ours x{ll['speedup_of_ours']:.1f}", flush=True)
                    except Exception as exc:  # noqa: BLE001 - report, do not abort the bench
                        ll = {"api": api, "skipped": f"{exc.__class__.__name__}: {exc}"}
                    row["loss_landscapes"].append(ll)
            res["cases"].append(row)
        del trained

    if big and "fashion-mnist" in datasets:
        res["theorem1_full_fashion"] = big_theorem1(torch, S, big, device)
    res["matmul_end"] = matmul_gflops(torch, device)
    res["matmul_gflops"] = max(res["matmul_start"]["best_gflops"],
                               res["matmul_end"]["best_gflops"])
    for row in res["cases"]:
        if "ours" in row:
            row["ours"]["fraction_of_matmul_peak"] = (row["ours"]["useful_gflops"]
                                                      / res["matmul_gflops"])
            fp = row["flops_per_point"]
            # ours at 100% of the peak for its per-point products, against the naive loop as timed
            row["max_speedup_vs_naive_at_peak"] = (row["naive"]["per_point_s"]
                                                   / (fp["ours"] / (res["matmul_gflops"] * 1e9)))
    res["machine"]["loadavg_end"] = list(os.getloadavg())
    return res


def big_theorem1(torch, S, grid, device) -> dict:
    """Full Fashion-MNIST train AND test surfaces of a Theorem 1 network, grid x grid each."""
    import numpy as np

    from losspattern_core.data.datasets import load_dataset

    t_load = time.perf_counter()
    ds = load_dataset("fashion-mnist")
    t_load = time.perf_counter() - t_load
    model, dirs, rng, desc = build_case(torch, "theorem1", ds.X[:2], None, ds.classes, None)
    t0 = time.perf_counter()
    out = {}
    for split in ("train", "test"):
        X, y = ds.split(split)
        out[split] = S.surface(model, dirs, X, y, grid, rng, classes=ds.classes, device=device)
    dt = time.perf_counter() - t0
    alphas = S.range_points(grid, 2, rng)
    pick = np.random.default_rng(1).choice(len(alphas), 4, replace=False)
    diffs = []
    for split in ("train", "test"):
        X, y = ds.split(split)
        ref = S.naive_surface(model, dirs, X, y, alphas[pick], classes=ds.classes)[:, 0]
        diffs.append(float(np.abs(out[split].ravel()[pick] - ref).max()))
    r = {"description": desc, "grid": f"{grid}x{grid}", "splits": "train (60000) + test (10000)",
         "seconds": dt, "dataset_load_s": t_load, "max_abs_diff_vs_naive": max(diffs),
         "checked_points": 4}
    print(f"Theorem 1 fashion-mnist train+test {grid}x{grid}: {dt:.2f} s (load {t_load:.1f} s), "
          f"max|diff| {max(diffs):.1e}", flush=True)
    return r


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# --- report ---------------------------------------------------------------------------------

def markdown(res: dict) -> str:
    m = res["machine"]
    peak = res["matmul_gflops"]
    lines = [
        "# Exact loss-surface evaluator: benchmark",
        "",
        f"Machine: {m['processor']}, {m['cpus']} CPUs, torch {m['torch']}, "
        f"**{m['threads']} thread(s)**, device {m['device']}. Load average at start "
        f"{m['loadavg_start'][0]:.1f}, at end {m['loadavg_end'][0]:.1f} (a shared machine: "
        "other work competes for the cores, so absolute times are noisy; every ratio below is "
        "measured side by side in this one run).",
        f"Measured fp32 matmul throughput: **{peak:.0f} GFLOP/s** (best of square matmuls "
        f"512-2048, start {res['matmul_start']['by_size']}, end {res['matmul_end']['by_size']}).",
        f"Peak memory: rise of resident memory during the call ({res['memory_method']}).",
        f"loss-landscapes: {res['loss_landscapes']}.",
        "",
        "| dataset | case | rows (unique) | ours s | points/s | sample-evals/s | ours MiB | "
        "naive s (ext.) | x naive | loss-landscapes s (ext.) | x l-l | max abs diff vs naive | "
        "useful GFLOP/s | of matmul peak | naive-equivalent GFLOP/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["cases"]:
        if "ours" not in r:
            lines.append(f"| {r['dataset']} | skipped: {r['skipped']} |" + " |" * 12)
            continue
        o, n = r["ours"], r["naive"]
        ll = [x for x in r.get("loss_landscapes", []) if "per_point_s" in x
              and x["api"] == "planar_interpolation"]
        ll_s = f"{ll[0]['seconds_extrapolated']:.1f}" if ll else "-"
        ll_x = f"{ll[0]['speedup_of_ours']:.1f}" if ll else "-"
        lines.append(
            f"| {r['dataset']} | {r['case']} | {r['samples']} ({o['rows_after_dedup']}) | "
            f"{o['seconds']:.3f} | {o['points_per_s']:.0f} | {o['sample_evals_per_s']:.2e} | "
            f"{o['peak_mib']:.0f} | {n['seconds_extrapolated']:.1f} | "
            f"{r['speedup_vs_naive']:.1f} | {ll_s} | {ll_x} | "
            f"{r['max_abs_diff_vs_naive']:.1e} | {o['useful_gflops']:.1f} | "
            f"{100 * o['fraction_of_matmul_peak']:.0f}% | {o['naive_equivalent_gflops']:.0f} |")
    lines += ["", "Notes:", ""]
    for r in res["cases"]:
        if "ours" not in r:
            continue
        n = r["naive"]
        lines.append(
            f"- {r['dataset']} / {r['case']}: {r['description']}; grid {r['grid']} "
            f"({r['points']} points) over the full train split ({r['samples']} samples). "
            f"Ours: {r['ours']['seconds_wall']:.3f} s wall for the whole grid "
            f"(x{r['speedup_vs_naive_wall_mean']:.1f} the naive loop's mean rate). "
            f"Naive: {n['points_timed']} points timed in {n['batches']} batches "
            f"(best {n['per_point_s'] * 1e3:.2f}, mean {n['mean_per_point_s'] * 1e3:.2f} "
            f"ms/point, {n['gflops']:.0f} GFLOP/s, "
            f"{n['peak_mib']:.0f} MiB)"
            + (", extrapolated to the grid" if n["extrapolated"] else "")
            + f"; ours prepares in {r['ours']['prepare_s']:.3f} s "
              f"({r['ours']['structure'].get('dedup')}"
            + (f"; {r['ours']['structure']['separable']}"
               if "separable" in r["ours"]["structure"] else "") + ")"
            + (f"; per point ours multiplies {r['flops_per_point']['ours'] / 1e6:.1f} MFLOP "
               f"against the naive loop's {r['flops_per_point']['naive'] / 1e6:.1f} "
               f"(x{r['flops_per_point']['ratio']:.2f} fewer): even at 100% of the measured "
               f"matmul peak ours could be at most x{r['max_speedup_vs_naive_at_peak']:.1f} "
               "the naive loop as timed here" if "max_speedup_vs_naive_at_peak" in r else "")
            + "".join(
                f"; loss-landscapes {x['api']}: "
                + (f"{x['points_timed']} points timed ({x['per_point_s'] * 1e3:.2f} ms/point), "
                   f"extrapolated, ours x{x['speedup_of_ours']:.1f}"
                   + (f", max abs diff to ours {x['max_abs_diff_vs_ours']:.1e}"
                      if "max_abs_diff_vs_ours" in x else "")
                   if "per_point_s" in x else x["skipped"])
                for x in r.get("loss_landscapes", []))
            + ".")
    if "theorem1_full_fashion" in res:
        b = res["theorem1_full_fashion"]
        lines.append(
            f"- Theorem 1, full Fashion-MNIST {b['splits']} surfaces at {b['grid']}: "
            f"**{b['seconds']:.2f} s** for both (dataset loading, {b['dataset_load_s']:.1f} s, "
            f"not included); max abs diff vs naive at {b['checked_points']} points per split "
            f"{b['max_abs_diff_vs_naive']:.1e}.")
    lines += [
        f"- Timing on a shared machine: ours runs the whole grid in {BATCHES} chunks, the naive "
        f"loop its subset in {BATCHES} batches, loss-landscapes 3 calls; each method's time "
        "is its fastest chunk/batch/call per point times the grid's points (ours: plus its "
        "preparation). Other jobs' bursts only slow a batch down, so best-of is the fair "
        "estimate for all three; ours's actual wall time is in the notes.",
        "- Threads: every timing (ours, naive, loss-landscapes, matmul peak) uses the same "
        "thread count. On this shared 2-vCPU machine 2 OpenMP threads made ours and the naive "
        "loop 10-20x slower when the other vCPU was busy, so the default is 1 thread.",
        "- naive-equivalent GFLOP/s: the naive loop's FLOPs for the whole grid divided by our "
        "time (can exceed the peak: the structure removes work).",
        "- Useful FLOPs: the matrix products ours performs (preparation + per point); "
        "'of matmul peak' divides their rate by the measured matmul throughput. The naive loop's "
        "FLOPs are every layer's product for every sample at every point.",
        "- Baselines are timed on a fixed subset of grid points and extrapolated linearly "
        "(their cost per point does not depend on the point). loss-landscapes is called under "
        "torch.no_grad() (generous to it: its Loss metric would otherwise record autograd).",
        ""]
    return "\n".join(lines)


def main(args=None) -> int:
    if not isinstance(args, argparse.Namespace):
        args = add_arguments(argparse.ArgumentParser(prog="losspattern bench")).parse_args(args)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    res = run(args)
    for path, text in ((args.json, json.dumps(res, indent=2, default=float)),
                       (args.md, markdown(res))):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    print(markdown(res))
    print(f"wrote {args.json} and {args.md}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
