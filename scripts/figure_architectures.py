"""The README's architecture figure: one pattern drawn in an MLP, a CNN and a ResNet.

Rows are the network families, columns the target and the measured train and test surfaces,
each panel labelled with its PSNR. The surfaces are read from construction bundles (the exact
measurements ``losspattern construct`` wrote); with ``--run`` the missing bundles are
constructed first, each with its whole-command wall time and the load average recorded.

    python scripts/figure_architectures.py --run --work /tmp/arch --pattern mountains \
        --dataset fashion-mnist --out docs/architectures.png
    python scripts/figure_architectures.py --mlp B1 --cnn B2 --resnet B3 --out fig.png
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from losspattern_core.io.bundle import read_bundle_arrays
from losspattern_core.measure.metrics import fidelity

FAMILIES = ("mlp", "cnn", "resnet")
LABELS = {"mlp": "MLP", "cnn": "CNN (VGG-like)", "resnet": "ResNet (BatchNorm)"}


def construct(family: str, out: Path, pattern: str, dataset: str, grid: int) -> dict:
    """Run ``losspattern construct`` for one family; its wall time and the load around it."""
    cmd = [sys.executable, "-m", "losspattern_core.cli", "construct", "--arch", family,
           "--dataset", dataset, "--pattern", pattern, "--grid", str(grid), "--out", str(out),
           "--overwrite", "--quiet"]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if res.returncode:
        sys.exit(f"{family}: construct failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    print(res.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "load": (load_before, os.getloadavg()[0])}


def panels(bundle: Path) -> tuple[dict, list[tuple[str, np.ndarray]]]:
    """(figures, [(title, array)]) of a z = 2 single-head bundle: target, train, test."""
    b = read_bundle_arrays(bundle)
    if b.z != 2 or b.heads != 1 or b.target is None:
        sys.exit(f"{bundle}: needs a z = 2 single-head construction with a target")
    pat = b.meta["pattern"]
    span = pat["loss_high"] - pat["loss_low"]
    metrics_file = bundle / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    fig = {"family": b.meta.get("architecture", "mlp"), "pattern": pat["name"],
           "dataset": b.meta["dataset"]["name"],
           "command_s": metrics.get("timings", {}).get("command_s")}
    out = [("target", b.target)]
    for split in ("train", "test"):
        db = fidelity(b.surfaces[split], b.target, span)["psnr_db"]
        fig[f"{split}_db"] = db
        out.append((f"measured {split}: {db:.1f} dB", b.surfaces[split]))
    return fig, out


def draw(rows: list[tuple[dict, list]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 3, figsize=(9.6, 3.2 * len(rows) + 0.5),
                             constrained_layout=True, squeeze=False)
    for r, (info, cells) in enumerate(rows):
        vmin = min(float(a.min()) for _, a in cells)
        vmax = max(float(a.max()) for _, a in cells)
        for c, (title, arr) in enumerate(cells):
            ax = axes[r, c]
            im = ax.imshow(arr.T, origin="lower", extent=[0, 1, 0, 1], vmin=vmin, vmax=vmax,
                           cmap="viridis", interpolation="nearest")
            ax.set_title(title, fontsize=10)
            ax.set_xticks([0, 1])
            ax.set_yticks([0, 1])
            if c == 0:
                ax.set_ylabel(f"{LABELS.get(info['family'], info['family'])}\n" r"$\alpha_2$",
                              fontsize=10)
            if r == len(rows) - 1:
                ax.set_xlabel(r"$\alpha_1$")
        fig.colorbar(im, ax=axes[r, :], shrink=0.8, label="loss (nats)")
    first = rows[0][0]
    fig.suptitle(f"Theorem 1: pattern '{first['pattern']}' in three architectures on "
                 f"{first['dataset']} (exact losses over the full splits)", fontsize=11)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for fam in FAMILIES:
        p.add_argument(f"--{fam}", type=Path, help=f"bundle of the {fam} construction")
    p.add_argument("--run", action="store_true", help="construct missing bundles under --work")
    p.add_argument("--work", type=Path, default=Path("architectures-work"))
    p.add_argument("--pattern", default="mountains")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--grid", type=int, default=64)
    p.add_argument("--out", type=Path, default=Path("docs/architectures.png"))
    p.add_argument("--families", default=",".join(FAMILIES),
                   help="rows, in order (default mlp,cnn,resnet)")
    args = p.parse_args(argv)
    rows, runs = [], {}
    for fam in args.families.split(","):
        if fam not in FAMILIES:
            sys.exit(f"unknown family {fam!r}; choose from {', '.join(FAMILIES)}")
        bundle = getattr(args, fam) or args.work / fam
        if not (bundle / "construction.json").is_file():
            if not args.run:
                sys.exit(f"{bundle}: no bundle; pass --{fam} PATH or --run")
            runs[fam] = construct(fam, bundle, args.pattern, args.dataset, args.grid)
        rows.append(panels(bundle))
    draw(rows, args.out)
    print("| family | pattern | train dB | test dB | command s | load (1 min) |")
    print("|---|---|---|---|---|---|")
    for info, _ in rows:
        run = runs.get(info["family"], {})
        load = f"{run['load'][0]:.1f} -> {run['load'][1]:.1f}" if run else "see its log"
        secs = info["command_s"]
        print(f"| {info['family']} | {info['pattern']} | {info['train_db']:.2f} | "
              f"{info['test_db']:.2f} | {secs if secs is None else round(secs)} | {load} |")
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
