"""One benchmark run: every case on every dataset, ours and the baselines side by side."""

from __future__ import annotations

import datetime
import shlex
import subprocess
import sys
import time

import numpy as np
import torch

import losspattern_core as lp
import losspattern_core.surface as S

from . import baselines, cases, machine
from .measure import PeakMemory, evaluator_flops, naive_flops
from .options import Settings


def _git(*args: str) -> str | None:
    try:  # --no-optional-locks: never take the index lock (other git users may hold it)
        out = subprocess.run(["git", "--no-optional-locks", *args], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _git_commit() -> str | None:
    """The checkout's commit, "-dirty" when tracked files have uncommitted changes; None
    outside git."""
    head = _git("rev-parse", "--short", "HEAD")
    if not head:
        return None
    return head + ("-dirty" if _git("status", "--porcelain", "--untracked-files=no") else "")


def time_ours(case, X, y, alphas, classes: int, s: Settings):
    """Ours, cold (preparation included), ``s.repeats`` times; the fastest run is kept.

    The grid runs in ``s.batches`` chunks; the time reported is the preparation plus the
    fastest chunk's time per point times the points (other jobs only ever slow a chunk down),
    the wall time beside it. Returns (timing dict, values, prepared).
    """
    chunks = np.array_split(np.arange(len(alphas)), min(s.batches, len(alphas)))
    best = None
    for _ in range(s.repeats):
        vals = np.empty(len(alphas))
        with PeakMemory(s.device) as mem:
            t0 = time.perf_counter()
            prep = S.prepare(case.model, case.directions, X, y, classes, s.device)
            machine.sync(torch, s.device)
            t1 = time.perf_counter()
            per = []
            for c in chunks:
                tc = time.perf_counter()
                vals[c] = S.evaluate_points(case.model, case.directions, X, y, alphas[c],
                                             classes=classes, prepared=prep)[0][:, 0]
                per.append((time.perf_counter() - tc) / len(c))
            t2 = time.perf_counter()
        robust = (t1 - t0) + min(per) * len(alphas)
        if best is None or robust < best["seconds"]:
            best = {"seconds": robust, "seconds_wall": t2 - t0, "prepare_s": t1 - t0,
                    "peak_mib": mem.mib, "memory_method": mem.method, "values": vals}
    vals = best.pop("values")
    best.update(points_per_s=len(alphas) / best["seconds"],
                sample_evals_per_s=len(alphas) * len(y) / best["seconds"],
                rows_after_dedup=int(prep.rows), structure=dict(prep.info))
    return best, vals, prep


def _loss_landscapes_rows(case, X, y, classes, s, ours_s, naive_pp, prep, n):
    """Both loss-landscapes APIs that apply to ``case``; a failure is recorded, not raised."""
    out = []
    apis = ["planar_interpolation"] + (["random_plane"] if case.name == "dense" else [])
    for api in apis:
        try:
            ll, la, lv = baselines.time_loss_landscapes(
                case.model, case.directions, X, y, case.alpha_range,
                s.baseline_seconds, naive_pp, api, s.grid, s.device)
            ll["seconds_extrapolated"] = ll["per_point_s"] * n
            ll["speedup_of_ours"] = ll["seconds_extrapolated"] / ours_s
            if la is not None:
                mine, _ = S.evaluate_points(case.model, case.directions, X, y, la,
                                             classes=classes, prepared=prep)
                ll["max_abs_diff_vs_ours"] = float(np.abs(mine[:, 0] - lv).max())
            print(f"   loss-landscapes {api}: {ll['per_point_s'] * 1e3:.2f} ms/point; "
                  f"ours x{ll['speedup_of_ours']:.1f}", flush=True)
        except Exception as exc:  # noqa: BLE001 - report, do not abort the benchmark
            ll = {"api": api, "skipped": f"{exc.__class__.__name__}: {exc}"}
        out.append(ll)
    return out


def case_row(ds, case, s: Settings, ll_status: str) -> dict:
    """Ours, the naive loop and loss-landscapes on one case; FLOPs counted; values compared."""
    X, y = ds.split("train")
    alphas = lp.range_points(s.grid, len(case.directions), case.alpha_range)
    row = {"dataset": ds.name, "case": case.name, "description": case.description,
           "split": "train", "samples": int(len(y)), "grid": f"{s.grid}x{s.grid}",
           "points": len(alphas), **case.facts}
    ours, vals, prep = time_ours(case, X, y, alphas, ds.classes, s)
    print(f"{ds.name} {case.name}: ours {ours['seconds']:.3f} s for {len(alphas)} points "
          f"({prep.info.get('dedup')})", flush=True)
    nv, pick, nvals = baselines.time_naive(case.model, case.directions, X, y, alphas,
                                           ds.classes, s.baseline_seconds, s.batches, s.device)
    nv["seconds_extrapolated"] = nv["per_point_s"] * len(alphas)
    nv["seconds_extrapolated_mean"] = nv["mean_per_point_s"] * len(alphas)
    fl = evaluator_flops(case.model, case.directions, X, y, ds.classes, s.device, alphas)
    nf = naive_flops(case.model, case.directions, X, y, ds.classes, alphas[0])
    nv["gflops"] = nf / nv["per_point_s"] / 1e9
    ours.update(useful_gflop=(fl["once"] + fl["per_point"] * len(alphas)) / 1e9,
                naive_equivalent_gflops=nf * len(alphas) / ours["seconds"] / 1e9)
    ours["useful_gflops"] = ours["useful_gflop"] / ours["seconds"]
    row.update(ours=ours, naive=nv, checked_points=int(len(pick)),
               max_abs_diff_vs_naive=float(np.abs(vals[pick] - nvals).max()),
               flops_per_point={"naive": nf, "ours": fl["per_point"], "ours_once": fl["once"],
                                "ratio": nf / max(fl["per_point"], 1.0)},
               speedup_vs_naive=nv["seconds_extrapolated"] / ours["seconds"],
               speedup_vs_naive_wall_mean=nv["seconds_extrapolated_mean"] / ours["seconds_wall"])
    print(f"   naive {nv['per_point_s'] * 1e3:.2f} ms/point on {nv['points_timed']} points; "
          f"x{row['speedup_vs_naive']:.1f}; max|diff| {row['max_abs_diff_vs_naive']:.2e}",
          flush=True)
    if ll_status == "ok":
        row["loss_landscapes"] = _loss_landscapes_rows(
            case, X, y, ds.classes, s, ours["seconds"], nv["per_point_s"], prep,
            len(alphas))
    return row


def dataset_rows(ds, s: Settings, ll_status: str) -> tuple[list[dict], object]:
    """Every requested case on one dataset; returns the rows and the Theorem 1 case (or None)."""
    rows, t1 = [], None
    trained = facts = None
    for name in s.cases:
        if name == "theorem1":
            case = t1 = cases.theorem1(ds, s.train_steps, s.device)
        elif name == "theorem2":
            case = cases.theorem2(ds, s.train_steps, s.device)
        else:
            if trained is None:
                trained, facts = cases.train_ordinary(ds, s.train_steps, s.device)
            case = (cases.zero_rows(trained, facts) if name == "zero-rows"
                    else cases.dense(trained, facts))
        rows.append(case_row(ds, case, s, ll_status))
    return rows, t1


def big_theorem1(ds, case, grid: int, device: str) -> dict:
    """A Theorem 1 network's full train AND test surfaces, grid x grid each, checked against
    the naive loop at 4 points per split."""
    t0 = time.perf_counter()
    out = {}
    for split in ("train", "test"):
        X, y = ds.split(split)
        out[split] = S.surface(case.model, case.directions, X, y, grid, case.alpha_range,
                                classes=ds.classes, device=device)
    dt = time.perf_counter() - t0
    alphas = lp.range_points(grid, 2, case.alpha_range)
    pick = np.random.default_rng(1).choice(len(alphas), 4, replace=False)
    diffs = []
    for split in ("train", "test"):
        X, y = ds.split(split)
        ref = S.naive_surface(case.model, case.directions, X, y, alphas[pick],
                               classes=ds.classes)[:, 0]
        diffs.append(float(np.abs(out[split].ravel()[pick] - ref).max()))
    n_tr, n_te = len(ds.split("train")[1]), len(ds.split("test")[1])
    print(f"Theorem 1 {ds.name} train+test {grid}x{grid}: {dt:.2f} s, max|diff| "
          f"{max(diffs):.1e}", flush=True)
    return {"dataset": ds.name, "description": case.description, "grid": f"{grid}x{grid}",
            "splits": f"train ({n_tr}) + test ({n_te})", "seconds": dt,
            "max_abs_diff_vs_naive": max(diffs), "checked_points": 4}


def _matmul(s: Settings) -> dict:
    """The matmul peak (smaller sizes in a quick run)."""
    return machine.matmul_gflops(torch, s.device, s.matmul_seconds, 1024 if s.quick else 2048)


def _finish(res: dict, s: Settings) -> None:
    """Matmul peak at the end too, and each row's fraction of it."""
    res["matmul_end"] = _matmul(s)
    res["matmul_gflops"] = max(res["matmul_start"]["best_gflops"],
                               res["matmul_end"]["best_gflops"])
    for row in res["cases"]:
        if "ours" not in row:
            continue
        row["ours"]["fraction_of_matmul_peak"] = row["ours"]["useful_gflops"] / res["matmul_gflops"]
        fp = row["flops_per_point"]  # ours at 100% of the peak against the naive loop as timed
        if fp["ours"] > 0:
            row["max_speedup_vs_naive_at_peak"] = (row["naive"]["per_point_s"]
                                                   / (fp["ours"] / (res["matmul_gflops"] * 1e9)))
    res["machine"]["loadavg_end"] = machine.load_average()


def run(s: Settings, argv: list[str] | None = None) -> dict:
    """The whole benchmark; returns the JSON-able result (``argv``: the options, recorded)."""
    torch.set_num_threads(s.threads)
    s_dev = lp.resolve_device(s.device)  # raises a clear error if CUDA is asked for but absent
    ll_status = baselines.loss_landscapes_status(s.loss_landscapes)
    argv = sys.argv[1:] if argv is None else list(argv)
    res = {"command": shlex.join(["python", "-m", "benchmarks.evaluator", *argv]),
           "started_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
               timespec="seconds"),
           "commit": _git_commit(), "machine": machine.facts(torch, s.threads, s_dev),
           "settings": s.to_json(), "loss_landscapes": ll_status, "cases": []}
    res["matmul_start"] = _matmul(s)
    print(f"matmul: {res['matmul_start']['best_gflops']:.0f} GFLOP/s fp32 ({s.threads} "
          f"thread(s), {s.device})", flush=True)
    largest = None
    for spec in s.datasets:
        try:
            ds = lp.load_dataset(spec)
        except Exception as exc:  # noqa: BLE001 - a missing dataset is reported, not fatal
            res["cases"].append({"dataset": spec, "skipped": f"{exc.__class__.__name__}: {exc}"})
            print(f"{spec}: skipped ({exc})", flush=True)
            continue
        rows, t1 = dataset_rows(ds, s, ll_status)
        res["cases"] += rows
        if largest is None or len(ds.train_idx) > len(largest[0].train_idx):
            largest = (ds, t1)
    if s.big_grid and largest is not None:
        ds, t1 = largest
        t1 = t1 or cases.theorem1(ds, s.train_steps, s.device)
        res["theorem1_full"] = big_theorem1(ds, t1, s.big_grid, s.device)
    _finish(res, s)
    return res
