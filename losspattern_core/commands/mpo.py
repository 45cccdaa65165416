"""``losspattern mpo`` (Skorokhodov & Burtsev's multi-point optimisation: a bundle) and
``losspattern compare-mpo`` (it against our Theorem 1 construction: table, figure, JSON)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from losspattern_core.errors import LossPatternError
from losspattern_core.io import options as opt

DEFAULTS = "defaults are their Fashion-MNIST icon runs (configs/icons-mask-hpo.yml)"


def _common(p) -> None:
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--grid", type=opt.int_range(3, 512), default=50,
                   help="the icon is G x G cells (default 50, theirs)")
    p.add_argument("--seed", type=opt.seed, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--eval-samples", type=opt.int_range(1, 10_000_000),
                   help="measure MPO's surfaces on a stratified subset of this many samples "
                        "per split (default: every sample; each cell is a full pass)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    """Add ``mpo`` and ``compare-mpo`` to ``losspattern``'s sub-parsers."""
    m = subparsers.add_parser("mpo", help="Skorokhodov & Burtsev's multi-point optimisation: "
                              "search a plane whose loss draws a binary icon",
                              description=DEFAULTS)
    m.add_argument("--pattern", default="heart", help="icon: built-in image name or image path")
    m.add_argument("--arch", default="cnn", choices=("cnn", "mlp"))
    m.add_argument("--steps", type=opt.int_range(1, 10_000_000),
                   help="cap on iterations (default: 100 epochs with their early stop)")
    m.add_argument("--epochs", type=opt.int_range(1, 100_000), default=100)
    m.add_argument("--batch", type=opt.int_range(1, 1_000_000), default=512)
    m.add_argument("--cells", type=opt.int_range(1, 100_000), default=50,
                   help="good and bad cells per update, each (default 50)")
    m.add_argument("--tau", type=opt.float_range(0.0, 1e6, open_low=True), default=2.5,
                   help="clamp of the bad cells' loss (default 2.5)")
    m.add_argument("--lr", type=opt.float_range(0.0, 1.0, open_low=True), default=2.5e-4)
    m.add_argument("--engine", choices=("auto", "vmap", "loop"), default="auto")
    m.add_argument("--out", required=True, type=opt.nonempty_path, help="bundle folder")
    _common(m)
    m.set_defaults(func=run_mpo)

    c = subparsers.add_parser("compare-mpo", help="our construction against the multi-point "
                              "optimisation on one icon: table, figure, JSON")
    c.add_argument("pattern", help="icon: built-in image name or image path")
    c.add_argument("--steps", type=opt.int_range(1, 10_000_000), default=400,
                   help="our construction's steps (default 400)")
    c.add_argument("--batch", type=opt.int_range(1, 1_000_000), default=256,
                   help="our construction's batch of alpha samples (default 256)")
    c.add_argument("--mpo-steps", type=opt.int_range(1, 10_000_000),
                   help="cap on MPO's iterations (default: their 100 epochs)")
    c.add_argument("--transfer-samples", type=opt.int_range(1, 10_000_000),
                   help="MPO's train surface (transfer gap) on this many samples")
    c.add_argument("--transfer-stride", type=opt.int_range(1, 512), default=1,
                   help="MPO's train surface on every k-th grid point")
    c.add_argument("--out", required=True, type=opt.nonempty_path,
                   help="folder for comparison.md, comparison.png, comparison.json")
    _common(c)
    c.set_defaults(func=run_compare)


def _progress(args):
    from losspattern_core.cli_output import Progress

    return None if args.quiet else Progress()


def run_mpo(args) -> int:
    """Validate, train, measure both splits, write the bundle with its figure."""
    import numpy as np
    import torch

    from losspattern_core.constructions.mpo import MpoConfig, construct, validate_mpo
    from losspattern_core.constructions.mpo_bundle import save_mpo_bundle
    from losspattern_core.constructions.mpo_mask import image_to_grid
    from losspattern_core.constructions.mpo_surface import point_surface
    from losspattern_core.frames import drive
    from losspattern_core.grid import range_points
    from losspattern_core.io.bundle_write import check_out
    from losspattern_core.measure.compare_mpo import icon_metrics, stratified_subset
    from losspattern_core.measure.compare_mpo_report import mpo_figure
    from losspattern_core.networks import as_input

    out = Path(args.out)
    check_out(out, args.overwrite)
    t0 = time.perf_counter()
    run = validate_mpo(MpoConfig(
        pattern=args.pattern, dataset=args.dataset, arch=args.arch, grid=args.grid,
        steps=args.steps, epochs=args.epochs, batch=args.batch, good_cells=args.cells,
        bad_cells=args.cells, tau=args.tau, lr=args.lr, engine=args.engine, seed=args.seed,
        device=args.device))
    mask = run.mask
    print(f"icon {run.pattern.name}: {args.grid}x{args.grid}, {int((mask == 1).sum())} good "
          f"and {int((mask == -1).sum())} bad boundary cells; network {args.arch} on "
          f"{run.dataset.name}")
    res = drive(construct(run), _progress(args))
    print(f"trained {res.timings['steps']} steps ({res.timings['epochs']:.3f} epochs) in "
          f"{res.timings['mpo_s']:.1f} s; stopped: {res.stopped}")
    alphas = range_points(args.grid, 2, res.alpha_range)
    surfaces, subset = {}, ({} if args.eval_samples else None)
    for split in ("test", "train"):
        X, y = run.dataset.split(split)
        idx = stratified_subset(y, args.eval_samples, args.seed)
        if subset is not None:
            subset[split] = (run.dataset.train_idx if split == "train"
                             else run.dataset.test_idx)[idx]
        loss, acc = drive(point_surface(res.model, res.directions,
                                        as_input(torch.as_tensor(X[idx]), run.network),
                                        y[idx], alphas), _progress(args))
        surfaces[split] = (loss.reshape(args.grid, args.grid), acc.reshape(args.grid,
                                                                           args.grid))
    icon, band = image_to_grid(run.icon), image_to_grid(run.mask)
    metrics = {"test": icon_metrics(*surfaces["test"], icon, band),
               "train": icon_metrics(*surfaces["train"], icon, band),
               "transfer": {"mean_abs_gap": float(np.abs(surfaces["test"][0]
                                                         - surfaces["train"][0]).mean())},
               "timings": res.timings, "evaluations": res.evaluations, "plane": res.plane}
    title = (f"MPO {run.pattern.name} on {run.dataset.name}: test IoU "
             f"{metrics['test']['iou']:.3f}, good - bad accuracy {metrics['test']['acc_gap']:.3f}")
    save_mpo_bundle(out, res, surfaces, metrics, subset, args.overwrite,
                    extras=lambda tmp: mpo_figure(tmp / "figure.png", icon,
                                                  *surfaces["test"], title))
    print(title)
    print(f"wall time {time.perf_counter() - t0:.1f} s; bundle {out}")
    return 0


def run_compare(args) -> int:
    """Both methods on one icon; write comparison.md/.png/.json into --out."""
    from losspattern_core.frames import drive
    from losspattern_core.io.bundle_write import finite_json
    from losspattern_core.measure.compare_mpo import CompareConfig, compare
    from losspattern_core.measure.compare_mpo_report import (
        compare_figure,
        report_numbers,
        table_markdown,
    )

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise LossPatternError(f"{out} exists and is not a folder")
    names = [out / n for n in ("comparison.md", "comparison.png", "comparison.json")]
    if not args.overwrite and any(p.exists() for p in names):
        raise LossPatternError(f"{out} already holds a comparison: pass --overwrite")
    cfg = CompareConfig(pattern=args.pattern, dataset=args.dataset, grid=args.grid,
                        ours_steps=args.steps, ours_batch=args.batch, mpo_steps=args.mpo_steps,
                        eval_samples=args.eval_samples, transfer_samples=args.transfer_samples,
                        transfer_stride=args.transfer_stride, seed=args.seed,
                        device=args.device)
    rep = drive(compare(cfg), _progress(args))
    out.mkdir(parents=True, exist_ok=True)
    table = table_markdown(rep)
    names[0].write_text(table)
    compare_figure(names[1], rep)
    names[2].write_text(json.dumps(finite_json(report_numbers(rep)), indent=2))
    print(table)
    print(f"wrote {', '.join(map(str, names))}")
    return 0
