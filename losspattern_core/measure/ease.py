"""Observation 2 (ease): a construction's cost beside ordinary training of the same network."""

from __future__ import annotations

from collections.abc import Generator

from losspattern_core.frames import Frame, drive
from losspattern_core.training import CONVERGED_WITHIN, BaselineResult, train_ordinary


def run_baseline(resolved, **kw) -> BaselineResult:
    """Train the baseline for a resolved config to the end (no frames)."""
    cfg = resolved.config
    return drive(train_ordinary(resolved.dataset, resolved.network, seed=cfg.seed,
                                device=cfg.device, **kw))


def ease_comparison(resolved, con) -> Generator[Frame, None, dict]:
    """Observation 2 for a finished Theorem 1 construction: train the same architecture normally
    on the same split (frames, phase "baseline") and return the metrics entries
    ``{"baseline": ..., "ease": ...}`` that put the two side by side."""
    cfg = resolved.config
    base = yield from train_ordinary(resolved.dataset, resolved.network, seed=cfg.seed,
                                     device=cfg.device)
    return {"baseline": base.to_json(),
            "ease": {"construction_s": con.timings["regression_s"],
                     "construction_steps": con.timings["steps"],
                     "ordinary_training_s": base.wall_s, "ordinary_training_steps": base.steps,
                     "ordinary_steps_to_converge": base.steps_to_converge}}


def ease_lines(construction_s: float, construction_steps: int, base: dict) -> list[str]:
    """Observation 2, in words: the construction's cost beside ordinary training's."""
    within = base.get("converged_within", CONVERGED_WITHIN)
    conv = (f"converged in {base['steps_to_converge']} steps / {base['time_to_converge_s']:.1f} s: "
            f"train accuracy within {within:.0%} of its best")
    return [f"ease: construction {construction_steps} steps in {construction_s:.1f} s; ordinary "
            f"training of the same network {base['steps']} steps in {base['wall_s']:.1f} s "
            f"({conv}; train loss {base['train_loss']:.4f}, train accuracy "
            f"{base['train_accuracy']:.4f}, test accuracy {base['test_accuracy']:.4f})"]
