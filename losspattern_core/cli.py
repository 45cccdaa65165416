"""The headless command line: ``losspattern construct | verify | transfer | patterns | datasets``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from losspattern_core.errors import LossPatternError

PLUGIN_GROUP = "losspattern.commands"


class Progress:
    """A text progress bar on stderr (redrawn in place on a terminal, every 10% otherwise)."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.last_decile = -1
        self.phase = None

    def __call__(self, frame) -> None:
        if frame.phase != self.phase:  # a construction may run several phases
            self.phase, self.last_decile = frame.phase, -1
        frac = frame.step / max(frame.total, 1)
        rate = frame.step / max(frame.elapsed, 1e-9)
        eta = (frame.total - frame.step) / max(rate, 1e-9)
        bar = "#" * int(frac * self.width)
        line = (f"[{bar:<{self.width}}] {frame.phase} {frame.step}/{frame.total}  "
                f"fit loss {frame.reg_loss:.2e}  {rate:.0f} steps/s  ETA {eta:.0f}s")
        if self.tty:
            self.stream.write("\r" + line + ("\n" if frame.step == frame.total else ""))
            self.stream.flush()
        elif int(frac * 10) > self.last_decile:
            self.last_decile = int(frac * 10)
            self.stream.write(line + "\n")


def theorem2_lines(metrics: dict) -> list[str]:
    """The Theorem 2 comparison: fit at alpha* beside ordinary training, and the test gap."""
    t2 = metrics["theorem2"]
    s = t2["at_alpha_star"]
    a = ", ".join(f"{v:.3f}" for v in t2["alpha_star"])
    lines = [f"theorem 2: pattern shifted by {t2['shift']:+.4f} nats so that min T' = "
             f"{t2['best_loss']:.4f} (the classifier phase's training loss) at alpha* = ({a})",
             f"  at alpha*: train loss {s['train_loss']:.4f}, train accuracy "
             f"{s['train_accuracy']:.4f}, test loss {s['test_loss']:.4f}, test accuracy "
             f"{s['test_accuracy']:.4f}"]
    b = metrics.get("baseline")
    if b:
        lines.append(f"  ordinary training, same network and split: train loss "
                     f"{b['train_loss']:.4f}, train accuracy {b['train_accuracy']:.4f}, test "
                     f"loss {b['test_loss']:.4f}, test accuracy {b['test_accuracy']:.4f}")
        lines.append(f"  difference (construction - ordinary): train loss "
                     f"{s['train_loss'] - b['train_loss']:+.4f}, train accuracy "
                     f"{s['train_accuracy'] - b['train_accuracy']:+.4f}, test accuracy "
                     f"{s['test_accuracy'] - b['test_accuracy']:+.4f}")
    tr, te = metrics.get("train", {}), metrics.get("test", {})
    if tr and te:
        tf = metrics.get("transfer", {})
        lines.append(f"  the test surface does not follow T': test PSNR {te['psnr_db']:.2f} dB "
                     f"vs train {tr['psnr_db']:.2f} dB; mean |test - train| "
                     f"{tf.get('mean_abs_gap', float('nan')):.4f} nats, max "
                     f"{tf.get('max_abs_gap', float('nan')):.4f} (no transfer is promised)")
    return lines


def _construct(args) -> int:
    from losspattern_core.measure.ease import ease_comparison, ease_lines
    from losspattern_core.io.bundle import save_bundle
    from losspattern_core.config import ConstructionConfig, validate
    from losspattern_core.construct import construct
    from losspattern_core.frames import drive
    from losspattern_core.io.figure import any_figure
    from losspattern_core.measure.metrics import construction_metrics, measure_surfaces, summary_lines
    from losspattern_core.data.patterns import default_grid

    grid = args.grid if args.grid is not None else default_grid(args.z, args.theorem)
    cfg = ConstructionConfig(
        pattern=args.pattern, dataset=args.dataset, theorem=args.theorem, z=args.z, rgb=args.rgb,
        depth=args.depth, width=args.width, activation=args.activation, loss=args.loss,
        loss_range=tuple(args.loss_range) if args.loss_range else None, smooth=args.smooth,
        steps=args.steps, lr=args.lr, batch=args.batch, grid=grid, seed=args.seed,
        device=args.device, snapshot_every=0)
    out = Path(args.out) if args.out else Path("losspattern-out") / (
        f"{Path(cfg.pattern.split(':')[0]).stem}-{cfg.dataset.split(':')[0]}-thm{cfg.theorem}-"
        f"{datetime.now():%Y%m%d-%H%M%S}")
    if out.exists() and not args.overwrite:
        raise LossPatternError(f"{out} already exists: choose another --out or pass --overwrite")
    t0 = time.perf_counter()
    resolved = validate(cfg)
    print(resolved.dataset.summary())
    print(f"pattern: {resolved.pattern.name} ({resolved.pattern.description}); loss range "
          f"[{resolved.loss_range.low:g}, {resolved.loss_range.high:g}], floor "
          f"{resolved.floor:.4f}; grid {grid}^{cfg.z}"
          + ("" if args.grid is not None else " (default for this z)"))
    if resolved.pattern.note:
        print(f"note: {resolved.pattern.note}")
    con = drive(construct(resolved), None if args.quiet else Progress())
    measurement = measure_surfaces(con)
    metrics = construction_metrics(con, measurement, checks=cfg.theorem == 1)
    if cfg.theorem == 1 and not args.no_baseline:
        metrics.update(drive(ease_comparison(resolved, con), None if args.quiet else Progress()))
    metrics["timings"]["command_s"] = round(time.perf_counter() - t0, 3)
    save_bundle(out, con, measurement, metrics, overwrite=args.overwrite)
    png = any_figure(Path(args.png) if args.png else out / "figure.png", con, measurement,
                     metrics)
    metrics["timings"]["command_s"] = round(time.perf_counter() - t0, 3)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    lines = summary_lines(metrics)
    if "ease" in metrics:
        e = metrics["ease"]
        lines = [ln for ln in lines if not ln.startswith("ease:")]
        lines += ease_lines(e["construction_s"], e["construction_steps"], metrics["baseline"])
    if cfg.theorem == 2:  # the marginal prediction is Theorem 1's; theorem2_lines says why not
        lines = [ln for ln in lines if not ln.startswith("transfer:")] + theorem2_lines(metrics)
    print("\n".join(lines))
    print(f"wall time {metrics['timings']['command_s']:.1f} s; bundle {out}; figure {png}")
    return 0


def _transfer(args) -> int:
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.measure.transfer import transfer, transfer_lines

    b = load_bundle(args.bundle)
    rep = transfer(b, args.dataset, split=args.split, device=args.device)
    print("\n".join(transfer_lines(rep)))
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in rep.items()
                                               if not k.startswith("_")}, indent=2))
    if args.png:
        from losspattern_core.io.figure import transfer_figure

        print(f"figure {transfer_figure(args.png, rep, b.target, b.surfaces['train'], b.heads, b.alpha_range)}")
    return 0


def _measure(args) -> int:
    """Re-measure a bundle's surface on a finer grid, coarse to fine (progressive refinement)."""
    import numpy as np

    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.frames import drive
    from losspattern_core.data.datasets import load_dataset
    from losspattern_core.measure.progressive import progressive_surface
    from losspattern_core.measure.verify import bundle_split

    b = load_bundle(args.bundle)
    out = Path(args.out) if args.out else None
    if out is not None and not out.parent.is_dir():
        raise LossPatternError(f"cannot write {out}: folder {out.parent} does not exist")
    z = len(b.directions)
    if args.grid < 2 or args.grid ** z > 64_000_000:
        raise LossPatternError(f"grid {args.grid}^{z} is out of range: 2 <= grid and at most "
                               f"64 million points")
    X, y = bundle_split(b, load_dataset(b.meta["dataset"]["name"]), args.split)
    gen = progressive_surface(b.model, b.directions, X, y, args.grid, b.alpha_range,
                              classes=b.classes, heads=b.heads,
                              loss=b.meta.get("loss", "cross_entropy"), device=args.device,
                              first_frame_s=0.2)
    t0 = time.perf_counter()
    print(f"measuring {b.meta['dataset']['name']} {args.split} ({len(y)} samples, every one) "
          f"on a {args.grid}^{z} grid, coarse to fine:")
    full = drive(gen, lambda level: print(
        f"  {level[0]}^{z} grid: exact, range [{level[1].min():.4f}, {level[1].max():.4f}] "
        f"nats, at {time.perf_counter() - t0:.3f} s"))
    if out is not None:
        tmp = out.with_name(out.name + ".partial.npy")
        np.save(tmp, full.astype(np.float32))
        tmp.replace(out)
        print(f"wrote {out} (float32, shape {full.shape})")
    return 0


def _verify(args) -> int:
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.measure.verify import verify

    b = load_bundle(args.bundle)
    rep = verify(b, device=args.device)
    for split in ("train", "test"):
        f = rep[split]
        print(f"{split:5s}: PSNR {f['psnr_db']:6.2f} dB   NRMSE {f['nrmse']:.4f}   max error "
              f"{f['max_error']:.4f}   |fresh - stored| {rep['max_abs_diff_vs_stored'][split]:.2e}")
    print(f"naive per-point loop vs fresh surface at 8 grid points: max |diff| "
          f"{rep['naive_spot_check_max_abs_diff']:.2e}")
    worst = max(rep["max_abs_diff_vs_stored"].values())
    if worst > args.tolerance:
        print(f"MISMATCH: re-measured surfaces differ from the stored ones by {worst:.2e} "
              f"> {args.tolerance:g}")
        return 1
    print("verified: the stored surfaces are the network's measured loss")
    return 0


def _patterns(args) -> int:
    from losspattern_core.data.patterns import available_patterns

    for name, desc in available_patterns().items():
        print(f"{name:14s} {desc}")
    print("Any image file Pillow reads is a pattern too (--pattern path/to/image.png); functions "
          "take options, e.g. rings:freq=5")
    return 0


def _datasets(args) -> int:
    from losspattern_core.data.datasets import available_datasets

    for name, desc in available_datasets().items():
        print(f"{name:14s} {desc}")
    return 0



def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="losspattern", description=__doc__)
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: all cores, or $LOSSPATTERN_THREADS); "
                        "use 1 on a machine other jobs share")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("construct", help="build a network whose loss surface draws a pattern")
    c.add_argument("--pattern", default="mountains", help="built-in name, function[:opts] or image path")
    c.add_argument("--dataset", default="digits")
    c.add_argument("--theorem", type=int, default=1, choices=(1, 2))
    c.add_argument("--z", type=int, default=2, help="pattern dimension")
    c.add_argument("--rgb", action="store_true", help="three heads draw a colour image")
    c.add_argument("--depth", type=int, default=3, help="hidden layers")
    c.add_argument("--width", type=int, default=128)
    c.add_argument("--activation", default="sin", choices=("relu", "tanh", "gelu", "sin"))
    c.add_argument("--loss", default="cross_entropy", choices=("cross_entropy", "mse"))
    c.add_argument("--loss-range", type=float, nargs=2, metavar=("LOW", "HIGH"))
    c.add_argument("--smooth", type=float, help="image smoothing sigma in pixels (default 1)")
    c.add_argument("--steps", type=int, default=2000)
    c.add_argument("--lr", type=float, default=3e-3)
    c.add_argument("--batch", type=int, default=2048)
    c.add_argument("--grid", type=int, default=None,
                   help="grid points per direction (default by z: 256, 64, 24, 10, 6, 4...)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--device", default="cpu")
    c.add_argument("--out", help="bundle folder (default: losspattern-out/<name>-<time>)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    c.add_argument("--png", help="figure path (default: <out>/figure.png)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.add_argument("--no-baseline", action="store_true",
                   help="Theorem 1: skip the ordinary-training run shown for 'ease'")
    c.set_defaults(func=_construct)

    t = sub.add_parser("transfer", help="measure a bundle's surface on another dataset or split")
    t.add_argument("bundle")
    t.add_argument("--dataset", required=True, help="dataset spec (same classes and features)")
    t.add_argument("--split", choices=("train", "test", "all"), default=None,
                   help="which samples (default: test for the bundle's own dataset, else all)")
    t.add_argument("--device", default="cpu")
    t.add_argument("--json", help="also write the figures to this JSON file")
    t.add_argument("--png", help="also draw target, both measured surfaces, measured and "
                                 "predicted gap to this PNG")
    t.set_defaults(func=_transfer)

    v = sub.add_parser("verify", help="re-measure a bundle from scratch")
    v.add_argument("bundle")
    v.add_argument("--device", default="cpu")
    v.add_argument("--tolerance", type=float, default=1e-4)
    v.set_defaults(func=_verify)

    m = sub.add_parser("measure", help="re-measure a bundle's surface on a finer grid, coarse "
                                       "to fine (progressive refinement)")
    m.add_argument("bundle")
    m.add_argument("--grid", type=int, default=256, help="points per direction (default 256)")
    m.add_argument("--split", default="train", choices=("train", "test"))
    m.add_argument("--device", default="cpu")
    m.add_argument("--out", help="write the final surface to this .npy")
    m.set_defaults(func=_measure)

    sub.add_parser("patterns", help="list built-in patterns").set_defaults(func=_patterns)
    sub.add_parser("datasets", help="list datasets").set_defaults(func=_datasets)
    add_plugin_commands(sub)
    return p


def add_plugin_commands(sub) -> None:
    """Commands other installed packages register (entry-point group ``losspattern.commands``:
    a callable that adds its sub-parser). The app registers ``render`` this way, so the core
    never imports the app, and ``losspattern render`` works wherever the app is installed."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=PLUGIN_GROUP):
        try:
            register = ep.load()
        except ImportError as exc:  # a plugin whose own dependencies are missing
            sub.add_parser(ep.name, help=f"unavailable here: {exc}").set_defaults(
                func=lambda _args, exc=exc, name=ep.name: _unavailable(name, exc))
            continue
        register(sub)


def _unavailable(name: str, exc: Exception) -> int:
    print(f"error: the '{name}' command cannot run here: {exc}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from losspattern_core.runtime import configure_threads

    configure_threads(args.threads)
    try:
        return args.func(args)
    except LossPatternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable --png/--json/--out path, a vanished file
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
