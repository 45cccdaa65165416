"""Fuzz every input LossPattern reads: ``python scripts/fuzz.py --cases 2000``.

Cases are split over the families (images, arrays, datasets, bundles, options), drawn by
Hypothesis from ``--seed``, each run in a forked child with a timeout and a memory cap. Prints
every failing case as it happens and a summary table at the end; exits 1 if any case failed
(traceback, hang, crash, wrongly accepted, unclear message, out of memory).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=2000, help="total cases (split over families)")
    p.add_argument("--families", default="images,arrays,datasets,bundles,options")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    p.add_argument("--minutes", type=float, default=None, help="stop drawing after this long")
    p.add_argument("--round", type=int, default=25, help="cases per family per round")
    p.add_argument("--verbose", action="store_true", help="print every case")
    args = p.parse_args()

    from fuzz import seeds
    from fuzz.driver import failures, run_family, table, warm_up

    signal.signal(signal.SIGINT, signal.default_int_handler)
    names = args.families.split(",")
    print("building seed inputs (cached in", seeds.CACHE, ")", flush=True)
    warm_up()
    seeds.HONEST_BOMBS = True
    seeds.bundle_files("z2"), seeds.bundle_files("z1rgb"), seeds.zip_bomb(), seeds.gzip_bomb()
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else None
    t0 = time.perf_counter()
    results = []

    def show(r):
        if args.verbose or r.outcome not in ("refused", "accepted"):
            print(f"[{r.outcome}] {r.case.family}: {r.case.name}  ({r.seconds:.1f} s) "
                  f"{r.detail[:200]}", flush=True)

    # families take turns in rounds of --round cases (a new Hypothesis seed each round), so a
    # --minutes limit cuts every family short alike
    want = {name: args.cases // len(names) + (1 if i < args.cases % len(names) else 0)
            for i, name in enumerate(names)}
    done = dict.fromkeys(names, 0)
    rnd = 0
    while any(done[n] < want[n] for n in names):
        if deadline is not None and time.monotonic() > deadline:
            break
        for name in names:
            n = min(args.round, want[name] - done[name])
            if n > 0:
                got = run_family(name, n, args.seed + rnd, args.timeout, deadline=deadline,
                                 on_result=show)
                results += got
                done[name] += max(len(got), 1 if not got else 0)
        rnd += 1
        print(f"round {rnd}: {len(results)} cases, {time.perf_counter() - t0:.0f} s", flush=True)
    print()
    print(table(results))
    bad = failures(results)
    print(f"\n{len(results)} cases in {time.perf_counter() - t0:.0f} s; {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
