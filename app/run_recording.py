"""Records the train surfaces a construction streams while it runs, for the "construction
forming" animation (Qt-free).

The recorder observes the state's ``shown`` event: each new train snapshot of the live run
(``Layer.step`` set: a surface the regression streamed on the run's own grid) is kept as
``(step, surface, fidelity dB)``. Memory is bounded: at most ``limit`` snapshots per run; when
full, every other one is dropped (the first kept) and only every ``stride``-th later snapshot
is taken, so the kept ones stay evenly spaced in steps. Recordings of the last few runs are
kept (a run's recording is what the exports of that run use).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import losspattern_core as lp

MAX_SNAPSHOTS = 300
KEPT_RUNS = 3


@dataclass
class Recording:
    """One run's snapshots, in step order; ``stride``: one offered snapshot in ``stride``
    is taken (doubles each time the recording is thinned)."""

    run_id: int
    limit: int = MAX_SNAPSHOTS
    steps: list[int] = field(default_factory=list)
    surfaces: list[np.ndarray] = field(default_factory=list)
    fidelity: list[float] = field(default_factory=list)
    stride: int = 1
    offered: int = 0
    last_offered: int | None = None

    def offer(self, step: int, surface: np.ndarray, psnr_db: float) -> bool:
        """Keep this snapshot if it falls on the stride; thin the recording when full."""
        if self.last_offered is not None and step <= self.last_offered:
            return False                        # the same snapshot shown again
        self.last_offered = int(step)
        take = self.offered % self.stride == 0
        self.offered += 1
        if not take:
            return False
        if len(self.steps) >= self.limit:
            self.steps, self.surfaces, self.fidelity = (x[::2] for x in (
                self.steps, self.surfaces, self.fidelity))
            self.stride *= 2
            if (self.offered - 1) % self.stride:   # not on the new stride: wait for the next
                return False
        self.steps.append(int(step))
        self.surfaces.append(np.asarray(surface, dtype=np.float32).copy())
        self.fidelity.append(float(psnr_db))
        return True

    def __len__(self) -> int:
        return len(self.steps)

    def snapshots(self) -> list[tuple[int, np.ndarray, float]]:
        """``[(step, train surface, fidelity dB), ...]`` as the core's animation takes them."""
        return list(zip(self.steps, self.surfaces, self.fidelity, strict=True))


def psnr_db(surface: np.ndarray, target: np.ndarray, span: float, heads: int) -> float:
    """Train fidelity of a snapshot against the run's target (the core's measure)."""
    return float(lp.fidelity_per_head(np.asarray(surface, dtype=np.float64), target, span,
                                      heads)["psnr_db"])


class RunRecorder:
    """Subscribes to ``state.events.shown``; ``recording(run_id)`` gives a run's snapshots."""

    def __init__(self, state, limit: int = MAX_SNAPSHOTS, kept_runs: int = KEPT_RUNS):
        self.state, self.limit, self.kept_runs = state, int(limit), int(kept_runs)
        self.recordings: dict[int, Recording] = {}
        state.events.shown.connect(self._on_shown)

    def _on_shown(self) -> None:
        live = self.state.live
        layer = live.surfaces.get("train") if live is not None else None
        if layer is None or layer.step is None or layer.is_level:
            return
        rec = self.recordings.get(live.run_id)
        if rec is None:
            rec = self.recordings[live.run_id] = Recording(live.run_id, self.limit)
            for old in sorted(self.recordings)[:-self.kept_runs]:
                del self.recordings[old]
        if rec.last_offered is not None and layer.step <= rec.last_offered:
            return                              # shown again (a level, a view change)
        span = live.resolved.loss_range.span
        rec.offer(layer.step, layer.array, psnr_db(layer.array, live.target, span, live.heads))

    def recording(self, run_id: int) -> Recording | None:
        return self.recordings.get(run_id)

    def snapshots_for(self, run) -> list[tuple[int, np.ndarray, float]]:
        """A finished run's snapshots, its final measured train surface last (at its last
        step), the fidelity of each against the run's final target (Theorem 2 shifts the
        target at the end)."""
        rec = self.recordings.get(run.run_id)
        out = [] if rec is None else [(s, a, 0.0) for s, a, _ in rec.snapshots()]
        if run.finished and run.measurement is not None:
            final = np.asarray(run.measurement.surfaces["train"])
            last = int(run.config.steps)
            out = [x for x in out if x[0] < last] + [(last, final, 0.0)]
        span = run.resolved.loss_range.span
        return [(s, a, psnr_db(a, run.target, span, run.heads)) for s, a, _ in out]
