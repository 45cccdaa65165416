"""``losspattern cheat --pattern P --dataset NAME --out DIR``: the paper's warning in numbers.

A Theorem 2 network and an ordinary network of the same family on the same data, side by side:
train/test accuracy, their random filter-normalised landscapes (same seed, range and grid),
sharpness, and the Theorem 2 network's axis slice drawing the pattern. Writes ``cheat.md``
(table), ``cheat.json`` and ``figure.png`` into DIR (each file renamed into place whole).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from losspattern_core.errors import LossPatternError
from losspattern_core.io import options as opt

from .construct_args import ARCHS

FILES = ("cheat.md", "cheat.json", "figure.png")


def register(subparsers) -> None:
    """Add ``cheat`` to ``losspattern``'s sub-parsers."""
    c = subparsers.add_parser("cheat", help="the paper's warning: a Theorem 2 network beside an "
                              "ordinary one (accuracy, random landscapes, sharpness, pattern)")
    c.add_argument("--pattern", default="smiley", help="built-in name, function or image")
    c.add_argument("--dataset", default="digits")
    c.add_argument("--arch", default="mlp", choices=ARCHS)
    c.add_argument("--grid", type=opt.int_range(3, 256), default=21,
                   help="random landscapes: points per direction (default 21)")
    c.add_argument("--range", type=opt.float_range(0.0, 1e4, open_low=True), default=1.0,
                   dest="range_a", help="random landscapes span [-A, A] (default 1)")
    c.add_argument("--steps", type=opt.int_range(1, 10_000_000), default=2000,
                   help="Theorem 2 regression steps (default 2000)")
    c.add_argument("--sharpness-samples", type=opt.int_range(2, 100_000_000), default=2048,
                   help="sharpness on a stratified subset of this many training samples")
    c.add_argument("--seed", type=opt.seed, default=0)
    c.add_argument("--device", default="cpu")
    c.add_argument("--out", required=True, type=opt.nonempty_path, help="folder for the files")
    c.add_argument("--overwrite", action="store_true", help="replace files already there")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=run)


def run(args) -> int:
    """Run the comparison, print the table, write cheat.md, cheat.json and figure.png."""
    from losspattern_core.cli import note_written
    from losspattern_core.cli_output import Progress
    from losspattern_core.explore.cheat import CheatConfig, cheat
    from losspattern_core.explore.cheat_report import cheat_figure, cheat_numbers, cheat_table
    from losspattern_core.frames import drive
    from losspattern_core.io.atomic import write_file_atomically
    from losspattern_core.io.bundle_write import finite_json

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise LossPatternError(f"{out} exists and is not a folder")
    paths = [out / n for n in FILES]
    if not args.overwrite and any(p.exists() for p in paths):
        raise LossPatternError(f"{out} already holds a cheat comparison: pass --overwrite")
    t0 = time.perf_counter()
    cfg = CheatConfig(pattern=args.pattern, dataset=args.dataset, arch=args.arch,
                      grid=args.grid, alpha_range=args.range_a, seed=args.seed, steps=args.steps,
                      sharpness_samples=args.sharpness_samples, device=args.device)
    res = drive(cheat(cfg), None if args.quiet else Progress())
    numbers = cheat_numbers(res)
    numbers["wall_s"] = round(time.perf_counter() - t0, 1)
    table = cheat_table(numbers)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(finite_json(numbers), indent=2, allow_nan=False)
    write_file_atomically(paths[0], lambda tmp: tmp.write_text(table), on_commit=note_written)
    write_file_atomically(paths[1], lambda tmp: tmp.write_text(text), on_commit=note_written)
    write_file_atomically(paths[2], lambda tmp: cheat_figure(tmp, res), on_commit=note_written)
    print(table)
    print(f"wall time {numbers['wall_s']:.1f} s; wrote {', '.join(map(str, paths))}")
    return 0
