"""Ctrl+C at random moments of ``losspattern construct``: every message true, no partial bundle.

    python scripts/interrupt_test.py --runs 24

A third of the runs get SIGINT during start-up (the first 1.5 s: the console script and
the torch import), a third at a random time within a measured uninterrupted run, a third at
the moment the bundle folder appears. After each run: exit 130 (or 0 if it finished first),
no traceback, no temporary folder left, and what the message says is true: "nothing was
written" means no bundle exists; "... was written" means the bundle is complete (every file,
its figure, checksums matching, it loads).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).with_name("losspattern")
ARGS = ["--threads", "1", "construct", "--steps", "30", "--width", "16", "--grid", "12",
        "--batch", "64", "--quiet", "--no-baseline"]
FILES = ("construction.json", "weights.safetensors", "split.npz", "target.npy",
         "surface_train.npy", "surface_test.npy", "metrics.json", "README.txt", "figure.png")


def start(out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([str(BIN), *ARGS, "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def check(out: Path, rc: int, err: str) -> list[str]:
    """What is wrong with this run's outcome (empty: every claim true, nothing partial)."""
    problems = []
    if "Traceback" in err:
        problems.append("traceback: " + err.strip().splitlines()[-1])
    stray = [p.name for p in out.parent.iterdir() if p.name != out.name]
    if stray:
        problems.append(f"left behind: {stray}")
    if rc == 130:
        if "interrupted: nothing was written" in err and out.exists():
            problems.append("said nothing was written, but the bundle exists")
        elif "was written (complete)" in err and not out.exists():
            problems.append("said the bundle was written, but it does not exist")
        elif "interrupted" not in err:
            problems.append(f"exit 130 without a message: {err[-200:]!r}")
    elif rc == -signal.SIGINT and not err.strip() and not out.exists():
        pass  # killed before Python's handler existed: silent, nothing written (true)
    elif rc != 0:
        problems.append(f"exit {rc}: {err.strip()[-200:]}")
    if out.exists():
        missing = [f for f in FILES if not (out / f).is_file()]
        if missing:
            problems.append(f"bundle without {missing}")
        else:
            from losspattern_core.io.bundle import load_bundle

            try:
                load_bundle(out)
            except Exception as exc:  # noqa: BLE001 - any failure is a finding
                problems.append(f"bundle does not load: {exc}")
    return problems


def run_once(folder: Path, mode: str, delay: float) -> tuple[str, list[str]]:
    out = folder / "bundle"
    proc = start(out)
    if mode == "appear":
        while proc.poll() is None and not out.exists():
            time.sleep(0.0005)
    elif mode in ("random", "startup"):
        time.sleep(delay)
    if mode != "none" and proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=600)
    if proc.returncode == 130:
        said = ("nothing" if "nothing was written" in err else
                "written" if "was written (complete)" in err else "?")
    elif proc.returncode == -signal.SIGINT and not err.strip():
        said = "silent"   # before the interpreter had a handler: the OS ended it
    else:
        said = f"exit {proc.returncode}"
    return said, check(out, proc.returncode, err)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        said, problems = run_once(Path(tmp), "none", 1e9)
        full = time.perf_counter() - t0
        print(f"uninterrupted run: {full:.1f} s ({said}); problems: {problems or 'none'}",
              flush=True)
    tally, failures = Counter(), []
    for i in range(args.runs):
        mode = ("startup", "random", "appear")[i % 3]
        delay = rng.uniform(0.0, 1.5) if mode == "startup" else rng.uniform(0.0, full * 1.05)
        with tempfile.TemporaryDirectory() as tmp:
            said, problems = run_once(Path(tmp), mode, delay)
        tally[(mode, said)] += 1
        label = "at folder appearance" if mode == "appear" else f"at {delay:5.2f} s"
        print(f"run {i + 1:2d} SIGINT {label}: {said:8s} {'OK' if not problems else problems}",
              flush=True)
        failures += problems
    print("\nruns by moment and what the tool said:")
    for (mode, said), n in sorted(tally.items()):
        print(f"  {mode:7s} {said:10s} {n}")
    print(f"{args.runs} interrupted runs: {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
