"""The whole run's estimated time to completion, from its whole-run fraction over time (Qt-free).

The run panel feeds ``WholeRunEta.update`` the seconds since the run started and the
whole-run fraction (``run_plan.position``) each time the progress changes. The estimate blends
the run's average rate with its rate over the last ``WINDOW_S`` seconds: the average alone
lags when a phase is much slower than the last one (phases are equal shares of the bar, not
of the time), the recent rate alone jumps at every phase change. Until there is a basis (a
few seconds and a few percent of progress) the text says "estimating…".
"""

from __future__ import annotations

import math
from collections import deque

MIN_ELAPSED_S = 2.0     # no estimate from the first moments (start-up, data loading)
MIN_FRACTION = 0.02     # nor from a sliver of progress
WINDOW_S = 20.0         # the recent rate is measured over this span
RECENT_WEIGHT = 0.5     # share of the recent rate in the blended rate
ESTIMATING = "estimating…"


class WholeRunEta:
    """Remaining seconds of a run estimated from (elapsed seconds, whole-run fraction) pairs."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque()
        self._made_at = 0.0                 # elapsed seconds when the estimate was made
        self._left: float | None = None     # seconds left then (None: no basis yet)

    def reset(self) -> None:
        """Forget the samples (a new run starts)."""
        self._samples.clear()
        self._made_at, self._left = 0.0, None

    def update(self, elapsed: float, fraction: float) -> None:
        """Record that ``fraction`` (0..1) of the whole run was done after ``elapsed`` s."""
        if not (math.isfinite(elapsed) and math.isfinite(fraction)):
            return
        fraction = min(max(fraction, 0.0), 1.0)
        if self._samples and (elapsed < self._samples[-1][0] or fraction < self._samples[-1][1]):
            return   # out of order or backwards (a stale event): keep the basis as it is
        self._samples.append((elapsed, fraction))
        while len(self._samples) > 2 and self._samples[1][0] < elapsed - WINDOW_S:
            self._samples.popleft()
        self._made_at, self._left = elapsed, self._remaining(elapsed, fraction)

    def _remaining(self, elapsed: float, fraction: float) -> float | None:
        if fraction >= 1.0:
            return 0.0
        if elapsed < MIN_ELAPSED_S or fraction < MIN_FRACTION:
            return None
        rate = fraction / elapsed                       # the whole run's average
        t0, f0 = self._samples[0]
        if elapsed - t0 >= MIN_ELAPSED_S and fraction > f0:
            recent = (fraction - f0) / (elapsed - t0)
            rate = (1 - RECENT_WEIGHT) * rate + RECENT_WEIGHT * recent
        return (1.0 - fraction) / rate

    def seconds(self, elapsed: float | None = None) -> float | None:
        """Seconds left (None without a basis); with ``elapsed`` (now), the estimate counts
        down from when it was made, never below 0."""
        if self._left is None:
            return None
        left = self._left
        if elapsed is not None:
            left -= max(elapsed - self._made_at, 0.0)
        return max(left, 0.0)

    def text(self, elapsed: float | None = None) -> str:
        """"ETA ~1 min 10 s", or "ETA estimating…" without a basis."""
        left = self.seconds(elapsed)
        return f"ETA {ESTIMATING}" if left is None else f"ETA ~{duration_text(left)}"


def duration_text(seconds: float) -> str:
    """A rounded duration a person reads at a glance: "8 s", "45 s", "1 min 10 s", "2 h 5 min"."""
    s = max(float(seconds), 0.0)
    if s < 10:
        return f"{round(s)} s"
    if s < 57.5:
        return f"{5 * round(s / 5)} s"
    if s < 3595:
        s = 10 * round(s / 10)
        minutes, rest = divmod(int(s), 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    minutes = round(s / 60)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")
