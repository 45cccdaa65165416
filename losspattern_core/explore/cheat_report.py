"""The cheat comparison as a table (markdown and JSON) and a figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np

ROWS = (("train accuracy", "train_accuracy", "{:.4f}"), ("test accuracy", "test_accuracy",
                                                          "{:.4f}"),
        ("train loss (nats)", "train_loss", "{:.4f}"), ("test loss (nats)", "test_loss",
                                                        "{:.4f}"))


def cheat_numbers(res) -> dict:
    """Everything the table and the JSON hold (no arrays but the landscapes' ranges)."""
    cfg, m = res.config, res.construction_metrics
    t2 = m.get("theorem2", {})
    out = {"pattern": cfg.pattern, "dataset": cfg.dataset, "arch": cfg.arch,
           "landscape": {"directions": "2 random filter-normalised (Li et al.), biases zero",
                         "seed": cfg.seed, "range": [-cfg.alpha_range, cfg.alpha_range],
                         "grid": cfg.grid, "samples": "every sample of each split"},
           "axis_slice": {"train_psnr_db": m["train"]["psnr_db"],
                          "test_psnr_db": m["test"]["psnr_db"],
                          "alpha_star": t2.get("alpha_star"), "grid": res.construction.config.grid},
           "networks": {}}
    for key, n in res.networks.items():
        out["networks"][key] = {k: v for k, v in n.items() if not isinstance(v, np.ndarray)}
    return out


def _cell(n: dict, key: str, fmt: str) -> str:
    return fmt.format(n[key])


def cheat_table(numbers: dict) -> str:
    """The markdown table: one column per network."""
    t2, od = numbers["networks"]["theorem2"], numbers["networks"]["ordinary"]
    lines = [f"Pattern `{numbers['pattern']}` on {numbers['dataset']} ({numbers['arch']}); "
             f"landscapes: {numbers['landscape']['directions']}, seed "
             f"{numbers['landscape']['seed']}, range {numbers['landscape']['range']}, "
             f"{numbers['landscape']['grid']}^2 grid, every sample.", "",
             "| | Theorem 2 network (at alpha*) | ordinary network |", "|---|---|---|"]
    for label, key, fmt in ROWS:
        lines.append(f"| {label} | {_cell(t2, key, fmt)} | {_cell(od, key, fmt)} |")
    for label, key in (("top Hessian eigenvalue", "top_eigenvalue"),
                       ("Hessian trace (Hutchinson)", "trace")):
        lines.append(f"| {label} | {t2['sharpness'][key]:.4g} | {od['sharpness'][key]:.4g} |")
    lines.append(f"| random landscape: train loss range | "
                 f"{t2['landscape_train_range'][0]:.3f} .. {t2['landscape_train_range'][1]:.4g} "
                 f"| {od['landscape_train_range'][0]:.3f} .. "
                 f"{od['landscape_train_range'][1]:.4g} |")
    lines.append(f"| random landscape: basins (> 5 % of range) | "
                 f"{t2['landscape_analysis']['measured']['basins']} | "
                 f"{od['landscape_analysis']['measured']['basins']} |")
    a = numbers["axis_slice"]
    lines.append(f"| axis slice draws the pattern: train PSNR / test PSNR | "
                 f"{a['train_psnr_db']:.1f} dB / {a['test_psnr_db']:.1f} dB | (no pattern) |")
    s = t2["sharpness"]
    lines += ["", f"Sharpness on a stratified subset of {s['samples']} of {s['of']} training "
              "samples; the trace is a 32-vector Hutchinson estimate (standard errors in the "
              "JSON)."]
    return "\n".join(lines) + "\n"


def cheat_figure(path: str | Path, res, dpi: int = 100) -> Path:
    """Top: target, the Theorem 2 network's train and test axis slices. Bottom: both random
    landscapes (train loss, log colour scale: their ranges differ by orders of magnitude) and
    the accuracies."""
    from .figure import _plt

    plt = _plt()
    from matplotlib.colors import LogNorm

    con, m = res.construction, res.measurement
    (lo1, hi1), (lo2, hi2) = con.alpha_range[:2]
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.6), constrained_layout=True)
    vmin = min(float(con.target.min()), float(m.surfaces["train"].min()))
    vmax = max(float(con.target.max()), float(m.surfaces["train"].max()))
    for ax, (title, arr) in zip(axes[0], (("target T' (pattern, shifted)", con.target),
                                          ("Theorem 2: train loss, axis slice",
                                           m.surfaces["train"]),
                                          ("Theorem 2: test loss, axis slice",
                                           m.surfaces["test"])), strict=True):
        im = ax.imshow(arr.T, origin="lower", extent=[lo1, hi1, lo2, hi2], vmin=vmin,
                       vmax=vmax, cmap="viridis")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, shrink=0.8)
    a = res.config.alpha_range
    lands = [res.networks[k]["landscape_train"] for k in ("theorem2", "ordinary")]
    lo = max(min(float(x.min()) for x in lands), 1e-6)
    hi = max(float(x.max()) for x in lands)
    for ax, key, land in zip(axes[1][:2], ("theorem2", "ordinary"), lands, strict=True):
        im = ax.imshow(land.T, origin="lower", extent=[-a, a, -a, a], cmap="magma",
                       norm=LogNorm(lo, max(hi, lo * 1.01)))
        ax.set_title(f"{res.networks[key]['name']}:\nrandom filter-normalised train loss")
        fig.colorbar(im, ax=ax, shrink=0.8)
    ax = axes[1][2]
    names = ("Theorem 2", "ordinary")
    x = np.arange(2)
    for i, split in enumerate(("train", "test")):
        ax.bar(x + (i - 0.5) * 0.35, [res.networks[k][f"{split}_accuracy"]
                                       for k in ("theorem2", "ordinary")], 0.35,
               label=f"{split} accuracy")
    ax.set_xticks(x, [f"{n}\nλmax {res.networks[k]['sharpness']['top_eigenvalue']:.3g}"
                      for n, k in zip(names, ("theorem2", "ordinary"), strict=True)])
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower right")
    ax.set_title("accuracy (every sample) and top Hessian eigenvalue")
    fig.suptitle(f"The paper's warning: pattern {res.config.pattern!r} on {res.config.dataset}"
                 f" ({res.config.arch})")
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)
