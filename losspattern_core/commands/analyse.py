"""``losspattern analyse DIR``: the analysis of any bundle (construction, explore, MPO).

Minima and basins by 0-dimensional persistence of the sublevel sets, above a stated share of the
value range (the pattern's loss range for constructions, the surface's own range otherwise); for
constructions the target's and the measured surface's diagrams, their bottleneck distance and
"basins: target k, measured k"; sharpness at theta_0 (top Hessian eigenvalue, Hutchinson trace)
on the training split or a stated stratified subset of it. Prints a table; ``--json`` writes
everything, diagrams included.
"""

from __future__ import annotations

import json

from losspattern_core.io import options as opt


def register(subparsers) -> None:
    """Add ``analyse`` to ``losspattern``'s sub-parsers."""
    a = subparsers.add_parser("analyse", help="basins (persistence), bottleneck distance to the "
                              "target and sharpness at theta_0 of any bundle")
    a.add_argument("bundle", type=opt.nonempty_path)
    a.add_argument("--min-share", type=opt.float_range(0.0, 0.99), default=0.05,
                   help="a basin's minimum must persist over this share of the range (0.05)")
    a.add_argument("--sharpness-samples", type=opt.int_range(2, 100_000_000), default=4096,
                   help="sharpness on a stratified subset of this many training samples "
                        "(default 4096; the whole split when it is smaller)")
    a.add_argument("--no-sharpness", action="store_true", help="skip the Hessian figures")
    a.add_argument("--seed", type=opt.seed, default=0)
    a.add_argument("--json", type=opt.nonempty_path, help="also write the analysis here")
    a.set_defaults(func=run)


def run(args) -> int:
    """Load, analyse, print the table, write the JSON."""
    from losspattern_core.cli import note_written
    from losspattern_core.io.atomic import write_file_atomically
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.io.bundle_write import finite_json
    from losspattern_core.measure.analysis import analysis_lines, bundle_analysis

    js = opt.check_output_file(args.json, ("json",), "JSON output") if args.json else None
    b = load_bundle(args.bundle, weights=not args.no_sharpness)
    rep = bundle_analysis(b, args.min_share, sharpness_samples=args.sharpness_samples,
                          with_sharpness=not args.no_sharpness, seed=args.seed)
    print("\n".join(analysis_lines(rep)))
    if js is not None:
        text = json.dumps(finite_json(rep), indent=2, allow_nan=False)
        write_file_atomically(js, lambda tmp: tmp.write_text(text), on_commit=note_written)
        print(f"wrote {js}")
    return 0
