"""The headless command line: ``losspattern construct | verify | patterns | datasets``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from .errors import LossPatternError


class Progress:
    """A text progress bar on stderr (redrawn in place on a terminal, every 10% otherwise)."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.last_decile = -1

    def __call__(self, frame) -> None:
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


def _construct(args) -> int:
    from .bundle import save_bundle
    from .config import ConstructionConfig, validate
    from .construct import construct, drive
    from .figure import construction_figure
    from .metrics import construction_metrics, measure_surfaces, summary_lines

    cfg = ConstructionConfig(
        pattern=args.pattern, dataset=args.dataset, theorem=args.theorem, z=args.z, rgb=args.rgb,
        depth=args.depth, width=args.width, activation=args.activation, loss=args.loss,
        loss_range=tuple(args.loss_range) if args.loss_range else None, smooth=args.smooth,
        steps=args.steps, lr=args.lr, batch=args.batch, grid=args.grid, seed=args.seed,
        device=args.device, snapshot_every=0)
    out = Path(args.out) if args.out else Path("losspattern-out") / (
        f"{Path(cfg.pattern).stem}-{cfg.dataset.split(':')[0]}-thm{cfg.theorem}-"
        f"{datetime.now():%Y%m%d-%H%M%S}")
    if out.exists() and not args.overwrite:
        raise LossPatternError(f"{out} already exists: choose another --out or pass --overwrite")
    t0 = time.perf_counter()
    resolved = validate(cfg)
    print(resolved.dataset.summary())
    print(f"pattern: {resolved.pattern.name} ({resolved.pattern.description}); loss range "
          f"[{resolved.loss_range.low:g}, {resolved.loss_range.high:g}], floor "
          f"{resolved.floor:.4f}")
    con = drive(construct(resolved), None if args.quiet else Progress())
    measurement = measure_surfaces(con)
    metrics = construction_metrics(con, measurement)
    metrics["timings"]["command_s"] = round(time.perf_counter() - t0, 3)
    save_bundle(out, con, measurement, metrics, overwrite=args.overwrite)
    png = construction_figure(Path(args.png) if args.png else out / "figure.png", con,
                              measurement, metrics)
    metrics["timings"]["command_s"] = round(time.perf_counter() - t0, 3)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print("\n".join(summary_lines(metrics)))
    print(f"wall time {metrics['timings']['command_s']:.1f} s; bundle {out}; figure {png}")
    return 0


def _verify(args) -> int:
    from .bundle import load_bundle
    from .verify import verify

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
    from .patterns import available_patterns

    for name, desc in available_patterns().items():
        print(f"{name:14s} {desc}")
    print("Any image file Pillow reads is a pattern too (--pattern path/to/image.png); functions "
          "take options, e.g. rings:freq=5")
    return 0


def _datasets(args) -> int:
    from .datasets import available_datasets

    for name, desc in available_datasets().items():
        print(f"{name:14s} {desc}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="losspattern", description=__doc__)
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
    c.add_argument("--grid", type=int, default=64)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--device", default="cpu")
    c.add_argument("--out", help="bundle folder (default: losspattern-out/<name>-<time>)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    c.add_argument("--png", help="figure path (default: <out>/figure.png)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=_construct)

    v = sub.add_parser("verify", help="re-measure a bundle from scratch")
    v.add_argument("bundle")
    v.add_argument("--device", default="cpu")
    v.add_argument("--tolerance", type=float, default=1e-4)
    v.set_defaults(func=_verify)

    sub.add_parser("patterns", help="list built-in patterns").set_defaults(func=_patterns)
    sub.add_parser("datasets", help="list datasets").set_defaults(func=_datasets)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LossPatternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
