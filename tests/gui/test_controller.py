"""RunController: frames arrive, runs finish, cancel stops within one step, stale frames drop."""

from __future__ import annotations

import numpy as np

from app.controller import RunController

from .conftest import endless_construction, fake_core, no_qthread_running


def test_start_frames_finished(qtbot, tiny_config):
    c = RunController()
    frames, surfaces, levels = [], [], []
    c.progress.connect(frames.append)
    c.level.connect(lambda split, size, arr: levels.append((split, size, arr.shape)))
    c.surface.connect(lambda step, arr: surfaces.append((step, arr)))
    with qtbot.waitSignal(c.finished, timeout=60_000) as blocker:
        c.start(tiny_config)
    result = blocker.args[0]
    # the construction's frames, then (Theorem 1) the ordinary-training comparison's
    reg = [f for f in frames if f.phase == "regression"]
    assert reg and reg[-1].step == reg[-1].total == 60
    assert [f.step for f in reg] == sorted(f.step for f in reg)
    assert {f.phase for f in frames} == {"regression", "baseline"}
    assert frames[-1].phase == "baseline" and result.metrics["ease"]["construction_steps"] == 60
    assert surfaces and surfaces[-1][0] == 60 and surfaces[-1][1].shape == (16, 16)
    m = result.measurement
    assert set(m.surfaces) == {"train", "test"} and m.surfaces["train"].shape == (16, 16)
    assert np.isfinite(result.metrics["train"]["psnr_db"])
    # the final measurement streams coarse-to-fine levels (coalesced), ending at the full grid
    for split in ("train", "test"):
        sizes = [size for s, size, _ in levels if s == split]
        assert sizes and sizes == sorted(sizes) and sizes[-1] == 16, (split, sizes)
    assert not c.running
    qtbot.waitUntil(lambda: c.live_threads() == 0, timeout=10_000)
    assert c.shutdown()


def test_cancel_stops_within_one_step(qtbot, tiny_config):
    """No step of the construction begins once Cancel has set the run's event (at most the
    one under way finishes), and its generator is closed."""
    steps, event = [], {}
    core = fake_core(construct=endless_construction(
        steps, lambda: "e" in event and event["e"].is_set()))
    c = RunController(core=core)
    frames, cancelled, finished = [], [], []
    c.progress.connect(frames.append)
    c.cancelled.connect(lambda: cancelled.append(1))
    c.finished.connect(finished.append)
    rid = c.start(tiny_config)
    event["e"] = c._threads[rid][2]
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=20_000)
    c.cancel()
    assert not c.running and cancelled and not finished
    qtbot.waitUntil(lambda: no_qthread_running(c), timeout=10_000)
    assert steps[-1] == "closed"
    begun_after_cancel = sum(1 for s in steps if s is True)
    assert begun_after_cancel <= 1, steps[-5:]
    n = len(frames)
    qtbot.wait(200)   # anything the worker sent after the cancel has been delivered by now
    assert len(frames) == n, "frames of a cancelled run must not arrive"
    qtbot.waitUntil(lambda: c.live_threads() == 0 and not c._threads, timeout=10_000)


def test_second_start_shows_only_new_run(qtbot, tiny_config):
    c = RunController()
    totals, losses = [], []
    c.progress.connect(lambda f: totals.append(f.total) if f.phase == "regression" else None)
    c.losses.connect(lambda s, v: losses.append(len(s)))
    c.start(tiny_config.replace(steps=1_000_000, snapshot_every=0))
    qtbot.waitUntil(lambda: len(totals) > 0, timeout=20_000)
    first = c.run_id
    c.cancel()
    totals.clear()
    losses.clear()
    with qtbot.waitSignal(c.finished, timeout=60_000) as blocker:
        second = c.start(tiny_config.replace(steps=70))
    assert second != first and blocker.args[0].run_id == second
    assert totals and set(totals) == {70}
    assert max(losses) == 70  # the loss curve holds exactly the new run's steps
    assert c.shutdown()
    assert c.live_threads() == 0


def test_failure_becomes_a_message(qtbot, tiny_config):
    c = RunController()
    with qtbot.waitSignal(c.failed, timeout=30_000) as blocker:
        c.start(tiny_config.replace(pattern="no-such-pattern"))
    assert "unknown pattern" in blocker.args[0]
    assert not c.running
    assert c.shutdown()
