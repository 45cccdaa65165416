"""The whole run's ETA (app/eta.py) on synthetic progress sequences, and its text in the bar."""

from __future__ import annotations

import pytest

from app.eta import WholeRunEta, duration_text
from app.run_plan import whole_run_text


def _feed(eta: WholeRunEta, samples):
    out = []
    for t, f in samples:
        eta.update(t, f)
        out.append(eta.seconds())
    return out


def test_estimating_until_there_is_a_basis():
    eta = WholeRunEta()
    assert eta.text() == "ETA estimating…"
    eta.update(1.5, 0.10)            # too early
    assert eta.seconds() is None and eta.text() == "ETA estimating…"
    other = WholeRunEta()
    other.update(5.0, 0.01)          # too little progress
    assert other.seconds() is None
    eta.update(6.0, 0.16)
    assert eta.seconds() is not None and eta.text().startswith("ETA ~")


def test_steady_progress_gives_a_falling_eta_near_the_truth():
    eta = WholeRunEta()
    total = 100.0                    # a run of 100 s at a steady rate
    left = [s for s in _feed(eta, [(t, t / total) for t in range(1, 101)]) if s is not None]
    assert len(left) > 90
    assert all(b < a for a, b in zip(left[:-1], left[1:], strict=True))  # falls as the run proceeds
    assert left[0] == pytest.approx(total - 3, abs=1)      # first basis at 3 s
    assert left[-1] == 0.0


def test_a_slower_phase_raises_the_eta_and_it_never_goes_negative():
    eta = WholeRunEta()
    # phase 1 (a quarter of the bar) in 10 s, then the rest four times slower
    samples = [(t, 0.025 * t) for t in range(1, 11)]
    samples += [(10 + t, 0.25 + 0.00625 * t) for t in range(1, 121)]
    left = _feed(eta, samples)
    at_10 = left[9]
    assert at_10 == pytest.approx(30, abs=1)                # judged from phase 1's rate
    assert max(left[20:40]) > at_10                         # the slow phase is noticed
    assert all(s is None or s >= 0 for s in left)
    assert left[-1] == 0.0


def test_the_estimate_counts_down_between_events_but_not_below_zero():
    eta = WholeRunEta()
    eta.update(10.0, 0.5)
    assert eta.seconds() == pytest.approx(10.0)
    assert eta.seconds(elapsed=14.0) == pytest.approx(6.0)
    assert eta.seconds(elapsed=40.0) == 0.0


def test_stale_or_bad_samples_do_not_move_the_estimate():
    eta = WholeRunEta()
    eta.update(10.0, 0.5)
    eta.update(9.0, 0.6)                                    # out of order
    eta.update(11.0, 0.4)                                   # backwards
    eta.update(float("nan"), 0.7)
    assert eta.seconds() == pytest.approx(10.0)
    eta.reset()
    assert eta.seconds() is None


def test_duration_text_and_bar_text():
    assert duration_text(4.2) == "4 s"
    assert duration_text(43) == "45 s"
    assert duration_text(70) == "1 min 10 s"
    assert duration_text(120) == "2 min"
    assert duration_text(7500) == "2 h 5 min"
    assert duration_text(-3) == "0 s"
    text = whole_run_text((2, 4, "fitting the pattern", 0.43), "ETA ~1 min 10 s")
    assert text == "phase 2 of 4 · fitting the pattern · whole run 43 % · ETA ~1 min 10 s"
