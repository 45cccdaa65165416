"""The run recorder keeps the streamed train snapshots in step order, labelled, bounded."""

from __future__ import annotations

import numpy as np

from app.run_recording import Recording

from .conftest import run_to_end, show_finished


def test_recording_is_bounded_and_evenly_thinned():
    rec = Recording(run_id=1, limit=10)
    for step in range(1, 101):
        rec.offer(step * 10, np.full((4, 4), step, dtype=float), float(step))
    assert len(rec) <= 10
    steps = rec.steps
    assert steps == sorted(steps) and steps[0] == 10
    gaps = np.diff(steps)
    assert len(set(gaps.tolist())) == 1   # evenly spaced in steps
    # each snapshot keeps its own surface and label
    for step, surface, db in rec.snapshots():
        assert np.all(surface == step / 10) and db == step / 10


def test_same_snapshot_offered_twice_is_kept_once():
    rec = Recording(run_id=1, limit=5)
    assert rec.offer(10, np.zeros((2, 2)), 1.0)
    assert not rec.offer(10, np.zeros((2, 2)), 1.0)
    assert rec.offer(20, np.ones((2, 2)), 2.0)
    assert rec.steps == [10, 20]


def test_a_real_run_is_recorded_with_steps_and_fidelity(qtbot, window):
    run_to_end(qtbot, window)
    run = window.result
    rec = window.recording.recording(run.run_id)
    assert rec is not None and len(rec) >= 3
    assert rec.steps == sorted(rec.steps) and len(set(rec.steps)) == len(rec.steps)
    snaps = window.recording.snapshots_for(run)
    assert snaps[-1][0] == run.config.steps
    assert np.array_equal(snaps[-1][1], run.measurement.surfaces["train"])
    for _step, surface, db in snaps:
        assert surface.shape == run.target.shape and np.isfinite(db)
    # the construction converges: the last snapshot is closer to T than the first
    assert snaps[-1][2] > snaps[0][2]


def test_recordings_of_old_runs_are_dropped(window, made_run):
    window.recording.kept_runs = 1
    show_finished(window, made_run)   # two real tiny runs' ends (not trained again)
    first = window.result.run_id
    assert window.recording.recording(first) is not None
    show_finished(window, made_run)
    assert window.recording.recording(first) is None
    assert window.recording.recording(window.result.run_id) is not None
