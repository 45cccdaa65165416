"""The evaluator benchmark's command-line options and the settings they resolve to."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass

DEFAULT_JSON = "benchmarks/results.json"
DEFAULT_MD = "benchmarks/results.md"
# a --quick run never overwrites the full run's results
QUICK_JSON = "benchmarks/results-quick.json"
QUICK_MD = "benchmarks/results-quick.md"
# theorem1 / theorem2: the constructions' networks; zero-rows: Theorem 2's directions on an
# ordinary trained MLP (no block structure: the general path); dense: random directions.
CASES = ("theorem1", "theorem2", "zero-rows", "dense")


@dataclass(frozen=True)
class Settings:
    """Everything one benchmark run depends on (stored in the JSON as ``settings``)."""

    quick: bool
    datasets: tuple[str, ...]
    cases: tuple[str, ...]
    grid: int
    big_grid: int
    threads: int
    baseline_seconds: float
    train_steps: int
    repeats: int
    batches: int
    matmul_seconds: float
    loss_landscapes: bool
    device: str
    json: str
    md: str

    def to_json(self) -> dict:
        return asdict(self)


def parser() -> argparse.ArgumentParser:
    """The options of ``python -m benchmarks.evaluator``."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.evaluator",
        description="Time the exact loss-surface evaluator side by side with a naive "
                    "per-point loop and the loss-landscapes library; write JSON and markdown.")
    p.add_argument("--quick", action="store_true",
                   help="small fast run (digits only, 16x16 grid, short baselines)")
    p.add_argument("--datasets", nargs="+", default=None,
                   help="dataset specs to run (default: digits fashion-mnist; --quick: digits)")
    p.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    p.add_argument("--grid", type=int, default=None,
                   help="grid size per axis (default 64; --quick 16)")
    p.add_argument("--big-grid", type=int, default=None,
                   help="grid of the full train+test Theorem 1 run on the largest dataset "
                        "(default 256; --quick 0; 0 skips it)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch/OpenMP threads for every method (default 1: the least noisy "
                        "comparison on a shared machine)")
    p.add_argument("--baseline-seconds", type=float, default=None,
                   help="time budget per slow baseline and case (default 8; --quick 1)")
    p.add_argument("--train-steps", type=int, default=None,
                   help="training steps of each case's network (default 300; --quick 30)")
    p.add_argument("--repeats", type=int, default=1,
                   help="runs of ours per case; the fastest is reported (default 1: cold, "
                        "preparation included)")
    p.add_argument("--batches", type=int, default=8,
                   help="each method is timed in this many batches of points; its fastest "
                        "batch's time per point is used (default 8)")
    p.add_argument("--matmul-seconds", type=float, default=None,
                   help="time spent measuring the matmul peak, at start and at end "
                        "(default 1.5; --quick 0.5)")
    p.add_argument("--no-loss-landscapes", action="store_true",
                   help="do not time the loss-landscapes library even if it is installed")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--json", default=None,
                   help=f"JSON output (default {DEFAULT_JSON}; --quick {QUICK_JSON})")
    p.add_argument("--md", default=None,
                   help=f"markdown report (default {DEFAULT_MD}; --quick {QUICK_MD})")
    return p


def resolve(args: argparse.Namespace) -> Settings:
    """Fill the defaults that depend on ``--quick`` and check the numbers."""
    q = args.quick
    s = Settings(
        quick=q,
        datasets=tuple(args.datasets or (["digits"] if q else ["digits", "fashion-mnist"])),
        cases=tuple(args.cases),
        grid=args.grid or (16 if q else 64),
        big_grid=args.big_grid if args.big_grid is not None else (0 if q else 256),
        threads=args.threads,
        baseline_seconds=args.baseline_seconds or (1.0 if q else 8.0),
        train_steps=args.train_steps or (30 if q else 300),
        repeats=args.repeats,
        batches=args.batches,
        matmul_seconds=args.matmul_seconds or (0.5 if q else 1.5),
        loss_landscapes=not args.no_loss_landscapes,
        device=args.device,
        json=args.json or (QUICK_JSON if q else DEFAULT_JSON),
        md=args.md or (QUICK_MD if q else DEFAULT_MD),
    )
    if s.grid < 2 or s.big_grid < 0 or s.threads < 1 or s.repeats < 1 or s.batches < 1:
        raise SystemExit("need --grid >= 2, --big-grid >= 0, --threads/--repeats/--batches >= 1")
    if s.baseline_seconds <= 0 or s.matmul_seconds <= 0 or s.train_steps < 1:
        raise SystemExit("need --baseline-seconds > 0, --matmul-seconds > 0 and "
                         "--train-steps >= 1")
    return s
