"""The headless command line: ``losspattern construct | verify | measure | transfer | patterns |
datasets | export | mpo | compare-mpo | explore | analyse | cheat`` (and ``render``, registered
by the app).

Every option is parsed by a checked type (``io.options``) and every run is validated before any
work; errors print one line naming the problem (exit 2), never a traceback. Ctrl+C prints what
is true: nothing was written, or which complete bundle/file was.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

_WORKING = [False]  # True while main's work runs: Ctrl+C then raises KeyboardInterrupt


def _on_sigint(signum, frame) -> None:
    """Ctrl+C: inside main's work, KeyboardInterrupt (main reports it); at any other moment
    (modules still importing, the interpreter exiting) one true line and exit 130 at once."""
    if _WORKING[0]:
        raise KeyboardInterrupt
    message = globals().get("_interrupt_message")   # defined below; absent while importing
    sys.stderr.write("\n" + (message() if message else "interrupted: nothing was written")
                     + "\n")
    sys.stderr.flush()
    os._exit(130)


# Installed first, before the imports below and long before torch's: the console script
# imports this module, and an interrupt during start-up then ends quietly instead of with a
# KeyboardInterrupt traceback. (Python's own start-up, before this line, is not covered.)
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGINT, _on_sigint)

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from losspattern_core.cli_output import Progress, error_line, theorem2_lines  # noqa: E402
from losspattern_core.commands import analyse as analyse_command  # noqa: E402
from losspattern_core.commands import cheat as cheat_command  # noqa: E402
from losspattern_core.commands import explore as explore_command  # noqa: E402
from losspattern_core.commands import export as export_command  # noqa: E402
from losspattern_core.commands import mpo as mpo_command  # noqa: E402
from losspattern_core.commands.construct_args import (  # noqa: E402
    add_construct_parser,
    config_from_args,
)
from losspattern_core.errors import LossPatternError  # noqa: E402
from losspattern_core.io import options as opt  # noqa: E402

PLUGIN_GROUP = "losspattern.commands"
# commands that live in their own modules (each: register(subparsers))
BUILTIN_COMMANDS = (export_command.register, mpo_command.register,
                    explore_command.register, analyse_command.register,
                    cheat_command.register)
_WRITTEN: list[Path] = []  # complete outputs of this command, for a truthful interrupt message


def note_written(path: Path) -> None:
    """Record a complete output (called at the moment it appears, interrupts held)."""
    _WRITTEN.append(Path(path))


def _construct(args) -> int:
    """Validate everything, run, measure, then write the bundle (figure inside) at once."""
    from losspattern_core.config import validate
    from losspattern_core.io.bundle_write import check_out

    cfg = config_from_args(args)
    out = Path(args.out) if args.out is not None else Path("losspattern-out") / (
        f"{Path(cfg.pattern.split(':')[0]).stem}-{cfg.dataset.split(':')[0]}-thm{cfg.theorem}-"
        f"{datetime.now():%Y%m%d-%H%M%S}")
    check_out(out, args.overwrite)
    png = opt.check_output_file(args.png) if args.png else None
    t0 = time.perf_counter()
    resolved = validate(cfg)
    print(resolved.dataset.summary())
    print(f"pattern: {resolved.pattern.name} ({resolved.pattern.description}); loss range "
          f"[{resolved.loss_range.low:g}, {resolved.loss_range.high:g}], floor "
          f"{resolved.floor:.4f}; grid {cfg.grid}^{cfg.z}"
          + ("" if args.grid is not None else " (default for this z)"))
    if resolved.pattern.note:
        print(f"note: {resolved.pattern.note}")
    con, measurement, metrics = _run(args, resolved)
    _write(args, out, png, con, measurement, metrics, t0)
    return 0


def _run(args, resolved):
    from losspattern_core.constructions import construct
    from losspattern_core.frames import drive
    from losspattern_core.measure.analysis import construction_analysis
    from losspattern_core.measure.ease import ease_comparison
    from losspattern_core.measure.metrics import construction_metrics, measure_surfaces

    cfg = resolved.config
    con = drive(construct(resolved), None if args.quiet else Progress())
    measurement = measure_surfaces(con)
    metrics = construction_metrics(con, measurement, checks=cfg.theorem == 1)
    metrics["analysis"] = construction_analysis(con, measurement)  # basins, bottleneck
    if cfg.theorem == 1 and not args.no_baseline:
        metrics.update(drive(ease_comparison(resolved, con), None if args.quiet else Progress()))
    return con, measurement, metrics


def _write(args, out: Path, png: Path | None, con, measurement, metrics: dict, t0: float) -> None:
    """The bundle with its figure (one rename), then the figure at --png, then the summary."""
    from losspattern_core.io.atomic import write_file_atomically
    from losspattern_core.io.bundle_write import save_bundle
    from losspattern_core.io.figure import any_figure
    from losspattern_core.measure.ease import ease_lines
    from losspattern_core.measure.metrics import summary_lines

    def figure(folder: Path) -> None:
        any_figure(folder / "figure.png", con, measurement, metrics)
        metrics["timings"]["command_s"] = round(time.perf_counter() - t0, 3)

    save_bundle(out, con, measurement, metrics, overwrite=args.overwrite, extras=figure,
                on_commit=note_written)
    if png is not None:
        write_file_atomically(png, lambda tmp: any_figure(tmp, con, measurement, metrics),
                              on_commit=note_written)
    lines = summary_lines(metrics)
    if "ease" in metrics:
        e = metrics["ease"]
        lines = [ln for ln in lines if not ln.startswith("ease:")]
        lines += ease_lines(e["construction_s"], e["construction_steps"], metrics["baseline"])
    if con.config.theorem == 2:  # the marginal prediction is Theorem 1's; see theorem2_lines
        lines = [ln for ln in lines if not ln.startswith("transfer:")] + theorem2_lines(metrics)
    print("\n".join(lines))
    print(f"wall time {metrics['timings']['command_s']:.1f} s; bundle {out}; figure "
          f"{out / 'figure.png'}" + (f" and {png}" if png else ""))


def _transfer(args) -> int:
    from losspattern_core.config import resolve_device
    from losspattern_core.io.atomic import write_file_atomically
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.io.bundle_write import finite_json
    from losspattern_core.measure.transfer import transfer, transfer_lines

    resolve_device(args.device)
    js = opt.check_output_file(args.json, ("json",), "JSON output") if args.json else None
    png = opt.check_output_file(args.png) if args.png else None
    b = load_bundle(args.bundle)
    if png is not None and b.target is None:
        raise LossPatternError(f"{b.path} has no target (an explored landscape): --png draws "
                               "target and surfaces, so it cannot be used here")
    rep = transfer(b, args.dataset, split=args.split, device=args.device)
    print("\n".join(transfer_lines(rep)))
    if js is not None:
        text = json.dumps(finite_json({k: v for k, v in rep.items() if not k.startswith("_")}),
                          indent=2, allow_nan=False)
        write_file_atomically(js, lambda tmp: tmp.write_text(text), on_commit=note_written)
    if png is not None:
        from losspattern_core.io.figure import transfer_figure

        write_file_atomically(png, lambda tmp: transfer_figure(
            tmp, rep, b.target, b.surfaces["train"], b.heads, b.alpha_range),
            on_commit=note_written)
        print(f"figure {png}")
    return 0


def _measure_locally(args, b, X, y):
    from losspattern_core.frames import drive
    from losspattern_core.measure.progressive import progressive_surface

    z = len(b.directions)
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
    return full


def _measure_on_ray(args, b, samples: int):
    """The same grid evaluated as chunks on a Ray cluster (losspattern_core.distributed)."""
    from losspattern_core.distributed import ray_surfaces
    from losspattern_core.grid import grid_array, range_points

    z = len(b.directions)
    pts = range_points(args.grid, z, b.alpha_range)
    t0 = time.perf_counter()
    print(f"measuring {b.meta['dataset']['name']} {args.split} ({samples} samples, every one) "
          f"on a {args.grid}^{z} grid as Ray tasks at {args.ray}:")
    step = max(1, len(pts) // 20)
    shown = [0]

    def progress(done: int, total: int) -> None:
        if done - shown[0] >= step or done == total:
            shown[0] = done
            print(f"  {done}/{total} points at {time.perf_counter() - t0:.1f} s", flush=True)

    res = ray_surfaces(b.path, pts, splits=(args.split,), address=args.ray,
                       on_progress=progress, accuracy=False)
    return grid_array(res[args.split]["loss"], args.grid, z)


def _measure(args) -> int:
    """Re-measure a bundle's surface on a finer grid, coarse to fine (progressive refinement)."""
    import numpy as np

    from losspattern_core.config import grid_bytes, resolve_device
    from losspattern_core.data.datasets import load_dataset
    from losspattern_core.io.atomic import write_file_atomically
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.io.limits import check_memory
    from losspattern_core.measure.verify import bundle_split, check_dataset

    resolve_device(args.device)
    out = opt.check_output_file(args.out, ("npy",), "output") if args.out else None
    b = load_bundle(args.bundle)
    z = len(b.directions)
    if args.grid ** z > MEASURE_MAX_POINTS:
        raise LossPatternError(f"grid {args.grid}^{z} = {args.grid ** z} points is out of "
                               f"range: at most {MEASURE_MAX_POINTS} points")
    check_memory(grid_bytes(args.grid ** z, z, b.heads, b.classes), f"measuring a "
                 f"{args.grid}^{z} grid ({b.heads} head(s) x {b.classes} classes)",
                 LossPatternError, "Use a smaller --grid")
    ds = load_dataset(b.meta["dataset"]["name"])
    check_dataset(b, ds)
    X, y = bundle_split(b, ds, args.split)
    if args.ray is not None:
        full = _measure_on_ray(args, b, len(y))
    else:
        full = _measure_locally(args, b, X, y)
    if not np.isfinite(full).all():
        raise LossPatternError(f"{b.path}: the measured surface holds non-finite values (the "
                               "network overflows on this grid); nothing was written")
    if out is not None:
        write_file_atomically(out, lambda tmp: np.save(tmp, full.astype(np.float32)),
                              on_commit=note_written)
        print(f"wrote {out} (float32, shape {full.shape})")
    return 0


def _verify(args) -> int:
    from losspattern_core.config import resolve_device
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.measure.verify import verify

    resolve_device(args.device)
    b = load_bundle(args.bundle)
    print(f"bundle {b.path}: {b.checksums}")
    rep = verify(b, device=args.device, tolerance=args.tolerance)
    for split in ("train", "test"):
        f = rep.get(split)
        fid = (f"PSNR {f['psnr_db']:6.2f} dB   NRMSE {f['nrmse']:.4f}   max error "
               f"{f['max_error']:.4f}   " if f else "")
        print(f"{split:5s}: {fid}|fresh - stored| {rep['max_abs_diff_vs_stored'][split]:.2e}")
    print(f"naive per-point loop vs fresh surface at 8 grid points: max |diff| "
          f"{rep['naive_spot_check_max_abs_diff']:.2e}")
    for split, n in rep.get("measured_on", {}).items():
        if n != "all":
            print(f"{split}: re-measured on the bundle's stated subset of {n} samples "
                  "(measured_on, eval_idx.npz), as its stored surface was")
    if not rep["ok"]:
        print(f"MISMATCH: re-measured surfaces differ from the stored ones by {rep['worst']:.2e}"
              f" (tolerance {args.tolerance:g}) or the naive loop disagrees "
              f"({rep['naive_spot_check_max_abs_diff']:.2e})")
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



MEASURE_MAX_POINTS = 64_000_000


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="losspattern", description=__doc__)
    p.add_argument("--threads", type=opt.threads, default=None,
                   help="CPU threads for torch (default: all cores, or $LOSSPATTERN_THREADS); "
                        "use 1 on a machine other jobs share")
    sub = p.add_subparsers(dest="command", required=True)
    add_construct_parser(sub, _construct)

    t = sub.add_parser("transfer", help="measure a bundle's surface on another dataset or split")
    t.add_argument("bundle", type=opt.nonempty_path)
    t.add_argument("--dataset", required=True, help="dataset spec (same classes and features)")
    t.add_argument("--split", choices=("train", "test", "all"), default=None,
                   help="which samples (default: test for the bundle's own dataset, else all)")
    t.add_argument("--device", default="cpu")
    t.add_argument("--json", type=opt.nonempty_path, help="also write the figures to this JSON")
    t.add_argument("--png", type=opt.nonempty_path, help="also draw target, both measured "
                   "surfaces, measured and predicted gap to this PNG")
    t.set_defaults(func=_transfer)

    v = sub.add_parser("verify", help="re-measure a bundle from scratch")
    v.add_argument("bundle", type=opt.nonempty_path)
    v.add_argument("--device", default="cpu")
    v.add_argument("--tolerance", type=opt.float_range(0.0, 1e6), default=1e-4)
    v.set_defaults(func=_verify)

    m = sub.add_parser("measure", help="re-measure a bundle's surface on a finer grid, coarse "
                                       "to fine (progressive refinement)")
    m.add_argument("bundle", type=opt.nonempty_path)
    m.add_argument("--grid", type=opt.int_range(2, 65536), default=256,
                   help="points per direction (default 256)")
    m.add_argument("--split", default="train", choices=("train", "test"))
    m.add_argument("--device", default="cpu")
    m.add_argument("--out", type=opt.nonempty_path, help="write the final surface to this .npy")
    m.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                   help="evaluate grid chunks as Ray tasks: auto (default), HOST:PORT or "
                        "local:N (needs pip install -e .[ray]; see docs/ray.md)")
    m.set_defaults(func=_measure)

    sub.add_parser("patterns", help="list built-in patterns").set_defaults(func=_patterns)
    sub.add_parser("datasets", help="list datasets").set_defaults(func=_datasets)
    for register in BUILTIN_COMMANDS:
        register(sub)
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


def _interrupt_message() -> str:
    if not _WRITTEN:
        return "interrupted: nothing was written"
    done = ", ".join(str(p) for p in _WRITTEN)
    return f"interrupted: {done} {'was' if len(_WRITTEN) == 1 else 'were'} written (complete)"


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 0, 1 (verify: mismatch), 2 (refused), 130 (interrupted).

    Every Ctrl+C gets one true line: inside the work a KeyboardInterrupt caught here, outside
    it (before the try, after the result) ``_on_sigint`` exits at once; the flag flips inside
    the try, so there is no moment where neither applies.
    """
    _WRITTEN.clear()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main_thread else None
    if main_thread:
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        _WORKING[0] = True
        rc = _command(argv)
        _WORKING[0] = False   # from here on an interrupt exits with the true message
        return rc
    except KeyboardInterrupt:
        _WORKING[0] = False
        print("\n" + _interrupt_message(), file=sys.stderr)
        return 130
    finally:
        _WORKING[0] = False
        if main_thread and argv is not None and previous is not None:
            signal.signal(signal.SIGINT, previous)   # a library caller's own handling


def _command(argv: list[str] | None) -> int:
    """Parse, configure, run; refusals print one ``error:`` line and return 2."""
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, or a refused option (argparse printed why)
            return exc.code if isinstance(exc.code, int) else 2
        threads = args.threads if args.threads is not None else opt.threads_from_env()
        from losspattern_core.io.limits import memory_limit
        from losspattern_core.runtime import configure_threads

        memory_limit()  # a bad $LOSSPATTERN_MAX_MEMORY is refused before any work
        configure_threads(threads)
        return args.func(args)
    except LossPatternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an unwritable --png/--json/--out path, a vanished file
        print(f"error: {error_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:  # a last resort: the size checks should refuse such inputs first
        print("error: out of memory: this input needs more memory than is free (the size "
              "checks did not foresee it)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
