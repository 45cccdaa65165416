"""The phases of a whole construction run, in order, and where a run is among them (Qt-free).

A Theorem 1 run fits the pattern (regression), measures the train and test surfaces coarse
to fine, then trains an ordinary network for the ease comparison; a Theorem 2 run first fits
the classifier block and its ordinary yardstick, then the pattern, then measures. The run
panel shows "phase k of n" and the whole run's fraction, so the bar does not restart at 0 %
for every phase.
"""

from __future__ import annotations

from .records import Progress

PLANS = {1: ("regression", "measure", "baseline"),
         2: ("classifier", "baseline", "regression", "measure"),
         "mpo": ("mpo", "measure")}
NAMES = {"regression": "fitting the pattern", "measure": "measuring",
         "baseline": "ordinary net", "classifier": "classifier",
         "mpo": "multi-point optimisation"}
SPLIT_INDEX = {"train": 0, "test": 1}


def current_phase(progress: Progress) -> str | None:
    """The plan's name of what the run does now (None before anything is known)."""
    if progress.latest == "level" or (progress.latest == "phase"
                                      and progress.phase.startswith("measuring")):
        return "measure"
    if progress.latest == "phase" and progress.phase.startswith("training an ordinary"):
        return "baseline"
    return progress.frame.phase if progress.frame is not None else None


def position(progress: Progress, theorem: int) -> tuple[int, int, str, float] | None:
    """(k, n, name, whole-run fraction) with k counted from 1; None when the phase is not in
    the plan (the plain per-phase bar is shown then)."""
    plan = PLANS.get(theorem, ())
    phase = current_phase(progress)
    if phase not in plan:
        return None
    k = plan.index(phase)
    frame = progress.frame
    if phase == "measure":
        within = 0.0
        if progress.level is not None:
            split, size, grid = progress.level
            within = (SPLIT_INDEX.get(split, 0) + size / max(grid, 1)) / 2
    elif frame is not None and frame.phase == phase:
        within = frame.step / max(frame.total, 1)
    else:
        within = 0.0
    return k + 1, len(plan), NAMES[phase], (k + min(within, 1.0)) / len(plan)


def whole_run_text(where: tuple[int, int, str, float], eta: str) -> str:
    """The bar's text: "phase 2 of 4 · fitting the pattern · whole run 43 % · ETA ~1 min"."""
    k, n, name, fraction = where
    return f"phase {k} of {n} · {name} · whole run {100 * fraction:.0f} % · {eta}"
