"""The markdown report: a pure function of the benchmark's JSON.

Every machine fact and figure is read from the result (``markdown(json.load(...))`` gives the
same text as the run wrote); the explanatory text is generic, true on any machine.
"""

from __future__ import annotations

COLUMNS = ("dataset", "case", "rows (unique)", "ours s", "points/s", "sample-evals/s",
           "ours MiB", "naive s (ext.)", "x naive", "loss-landscapes s (ext.)", "x l-l",
           "max abs diff vs naive", "useful GFLOP/s", "of matmul peak",
           "naive-equivalent GFLOP/s")


def _v(x, fmt: str = "", none: str = "unknown") -> str:
    """``x`` formatted, or ``none`` when missing (or NaN)."""
    if x is None or (isinstance(x, float) and x != x):
        return none
    return format(x, fmt)


def machine_lines(res: dict) -> list[str]:
    """The machine, as the run read it."""
    m, s = res["machine"], res["settings"]
    gpu = (f"; GPU {m['gpu']} ({_v(m.get('gpu_memory_gib'))} GiB), CUDA {_v(m.get('cuda'))}, "
           f"TF32 matmul {'on' if m.get('tf32_matmul') else 'off'}" if m.get("gpu") else "")
    load = (f"Load average (1 min) at start {_v(m['loadavg_start'][0], '.2f')}, at end "
            f"{_v((m.get('loadavg_end') or [None])[0], '.2f')}. "
            if m.get("loadavg_start") else "")
    mm = res["matmul_start"]["by_size"], res["matmul_end"]["by_size"]
    return [
        f"Machine: {_v(m['processor'])}, {_v(m['cpus'])} logical CPUs ({_v(m['usable_cpus'])} "
        f"usable), {m['platform']}, Python {m['python']}, torch {m['torch']}; device "
        f"**{m['device']}**, **{m['threads']} thread(s)**{gpu}.",
        f"{load}Every ratio below is measured side by side in this one run; absolute times "
        "depend on the machine and on whatever else ran on it.",
        f"Measured fp32 matmul throughput: **{res['matmul_gflops']:.0f} GFLOP/s** (best of "
        f"square matmuls of sizes {', '.join(mm[0])}; at start {mm[0]}, at end {mm[1]}).",
        f"Settings: grid {s['grid']}x{s['grid']}, baseline budget {s['baseline_seconds']:g} s "
        f"per method and case, {s['train_steps']} training steps per network, {s['batches']} "
        f"timing batches, {s['repeats']} run(s) of ours per case.",
        f"loss-landscapes: {res['loss_landscapes']}.",
        f"Command: `{res.get('command', '')}` at commit {_v(res.get('commit'))}, started "
        f"{_v(res.get('started_utc'))}.",
    ]


def table_lines(res: dict) -> list[str]:
    """One row per case."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in res["cases"]:
        if "ours" not in r:
            lines.append(f"| {r['dataset']} | skipped: {r['skipped']} |"
                         + " |" * (len(COLUMNS) - 2))
            continue
        o, n = r["ours"], r["naive"]
        ll = [x for x in r.get("loss_landscapes", []) if "per_point_s" in x
              and x["api"] == "planar_interpolation"]
        lines.append(
            f"| {r['dataset']} | {r['case']} | {r['samples']} ({o['rows_after_dedup']}) | "
            f"{o['seconds']:.3f} | {o['points_per_s']:.0f} | {o['sample_evals_per_s']:.2e} | "
            f"{_v(o['peak_mib'], '.0f', '-')} | {n['seconds_extrapolated']:.1f} | "
            f"{r['speedup_vs_naive']:.1f} | "
            f"{_v(ll[0]['seconds_extrapolated'] if ll else None, '.1f', '-')} | "
            f"{_v(ll[0]['speedup_of_ours'] if ll else None, '.1f', '-')} | "
            f"{r['max_abs_diff_vs_naive']:.1e} | {o['useful_gflops']:.1f} | "
            f"{100 * o['fraction_of_matmul_peak']:.0f}% | {o['naive_equivalent_gflops']:.0f} |")
    return lines


def _ll_note(x: dict) -> str:
    if "per_point_s" not in x:
        return f"; loss-landscapes {x['api']}: {x['skipped']}"
    diff = (f", max abs diff to ours {x['max_abs_diff_vs_ours']:.1e}"
            if "max_abs_diff_vs_ours" in x else "")
    return (f"; loss-landscapes {x['api']}: {x['points_timed']} points timed "
            f"({x['per_point_s'] * 1e3:.2f} ms/point), extrapolated, ours "
            f"x{x['speedup_of_ours']:.1f}{diff}")


def case_note(r: dict) -> str:
    """One case's provenance and detail, in one bullet."""
    o, n, fp = r["ours"], r["naive"], r["flops_per_point"]
    st = o["structure"]
    trained = (f"; trained for {r['train_steps']} steps in {r['train_s']:.1f} s"
               + (f" (train accuracy {r['trained_accuracy']:.3f})" if "trained_accuracy" in r
                  else "") if "train_steps" in r else "")
    bound = (f"; per point ours multiplies {fp['ours'] / 1e6:.2f} MFLOP against the naive "
             f"loop's {fp['naive'] / 1e6:.2f} (x{fp['ratio']:.2f} fewer): even at 100% of the "
             f"measured matmul peak ours could be at most x{r['max_speedup_vs_naive_at_peak']:.1f}"
             " the naive loop as timed here" if "max_speedup_vs_naive_at_peak" in r else "")
    return (
        f"- {r['dataset']} / {r['case']}: {r['description']}{trained}; grid {r['grid']} "
        f"({r['points']} points) over the full {r['split']} split ({r['samples']} samples). "
        f"Ours: {o['seconds_wall']:.3f} s wall for the whole grid (x"
        f"{r['speedup_vs_naive_wall_mean']:.1f} the naive loop's mean rate), prepares in "
        f"{o['prepare_s']:.3f} s ({st.get('dedup')}"
        + (f"; {st['separable']}" if "separable" in st else "") + "). "
        f"Naive: {n['points_timed']} points timed in {n['batches']} batches (best "
        f"{n['per_point_s'] * 1e3:.2f}, mean {n['mean_per_point_s'] * 1e3:.2f} ms/point, "
        f"{n['gflops']:.0f} GFLOP/s, {_v(n['peak_mib'], '.0f', '-')} MiB)"
        + (", extrapolated to the grid" if n["extrapolated"] else "")
        + bound + "".join(_ll_note(x) for x in r.get("loss_landscapes", [])) + ".")


def notes_lines(res: dict) -> list[str]:
    """Per-case notes, the big Theorem 1 run, and how everything was measured."""
    s = res["settings"]
    lines = [case_note(r) for r in res["cases"] if "ours" in r]
    if "theorem1_full" in res:
        b = res["theorem1_full"]
        lines.append(f"- Theorem 1, full {b['dataset']} {b['splits']} surfaces at {b['grid']}: "
                     f"**{b['seconds']:.2f} s** for both (dataset loading not included); max "
                     f"abs diff vs naive at {b['checked_points']} points per split "
                     f"{b['max_abs_diff_vs_naive']:.1e}.")
    methods = sorted({x for r in res["cases"] if "ours" in r
                      for x in (r["ours"]["memory_method"], r["naive"]["memory_method"])})
    lines += [
        f"- Timing: ours runs the whole grid in {s['batches']} chunks, the naive loop its "
        f"subset in {s['batches']} batches, loss-landscapes 3 calls; each method's time is its "
        "fastest chunk/batch/call per point times the grid's points (ours: plus its "
        "preparation). Other work on the machine only slows a batch down, so best-of is the "
        "fair estimate for all three; ours's wall time is in the notes.",
        f"- Threads: every timing (ours, naive, loss-landscapes, matmul peak) uses the same "
        f"{res['machine']['threads']} thread(s).",
        f"- Peak memory: {'; '.join(methods) or 'not measured'}.",
        "- FLOPs are counted by torch.utils.flop_counter.FlopCounterMode (matrix products as "
        "dispatched): ours's preparation plus its per-point work (the difference between two "
        "point counts), and the naive loop's work for one point. 'useful GFLOP/s' is ours's "
        "counted FLOPs over its time; 'of matmul peak' divides that by the measured matmul "
        "throughput; 'naive-equivalent GFLOP/s' is the naive loop's FLOPs for the whole grid "
        "over ours's time (it can exceed the peak: the structure removes work).",
        "- Baselines are timed on a fixed subset of grid points and extrapolated linearly "
        "(their cost per point does not depend on the point). loss-landscapes is called under "
        "torch.no_grad() (generous to it: its Loss metric would otherwise record autograd).",
        ""]
    return lines


def markdown(res: dict) -> str:
    """The whole report."""
    return "\n".join(["# Exact loss-surface evaluator: benchmark", "", *machine_lines(res), "",
                      *table_lines(res), "", "Notes:", "", *notes_lines(res)])
