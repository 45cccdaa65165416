"""Draw cases per family with Hypothesis (deterministic for a seed), run each in a forked
child, and tabulate the outcomes."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, seed, settings

from fuzz.oracle import ORACLES
from fuzz.runner import OUTCOMES, PASSING, Result, run_case


def families() -> dict[str, Callable]:
    from fuzz.strategies_bundles import bundle_case
    from fuzz.strategies_files import array_case, dataset_case, image_case, through_loader
    from fuzz.strategies_options import options_case

    return {"images": lambda: through_loader(image_case()),
            "arrays": lambda: through_loader(array_case()),
            "datasets": lambda: through_loader(dataset_case()),
            "bundles": bundle_case, "options": options_case}


def default_memory_cap() -> int:
    """Address space for a child: what the parent maps now (torch, numpy) plus 4 GiB."""
    with open("/proc/self/status") as fh:
        vm = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
    return vm + 4 * 2**30


def warm_up() -> None:
    """Import and exercise in the parent what every child needs (forked children share it):
    one tiny construction and verification on digits, one thread (nothing is forked while a
    thread pool runs)."""
    import contextlib
    import io
    import tempfile

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from losspattern_core.cli import main
    from losspattern_core.data.datasets import load_dataset

    load_dataset("digits")
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        main(["--threads", "1", "construct", "--steps", "2", "--width", "8", "--depth", "2",
              "--grid", "3", "--batch", "8", "--no-baseline", "--quiet", "--out", f"{tmp}/b"])
        main(["--threads", "1", "verify", f"{tmp}/b"])


def run_family(name: str, n: int, rng_seed: int = 0, timeout: float = 60.0,
               mem_bytes: int | None = None, deadline: float | None = None,
               on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Up to ``n`` cases of family ``name`` (fewer if ``deadline``, a monotonic time, passes)."""
    strategy = families()[name]()
    mem = default_memory_cap() if mem_bytes is None else mem_bytes
    results: list[Result] = []

    @seed(rng_seed)
    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @given(strategy)
    def draw_and_run(case):
        if deadline is not None and time.monotonic() > deadline:
            return
        result = run_case(case, timeout, mem, ORACLES)
        results.append(result)
        if on_result is not None:
            on_result(result)

    draw_and_run()
    return results


def table(results: list[Result]) -> str:
    """Cases per family and outcome, as a fixed-width table with a total row."""
    fams = sorted({r.case.family for r in results})
    counts = {f: Counter(r.outcome for r in results if r.case.family == f) for f in fams}
    total = Counter(r.outcome for r in results)
    cols = [o for o in OUTCOMES if o in PASSING or total[o] or o in ("traceback", "hang",
                                                                       "wrongly accepted")]
    head = f"{'family':10s} {'cases':>6s} " + " ".join(f"{c:>16s}" for c in cols)
    lines = [head, "-" * len(head)]
    for f in fams + ["total"]:
        c = total if f == "total" else counts[f]
        lines.append(f"{f:10s} {sum(c.values()):6d} " + " ".join(f"{c[o]:16d}" for o in cols))
    return "\n".join(lines)


def failures(results: list[Result]) -> list[Result]:
    return [r for r in results if r.outcome not in PASSING]
