"""Observation 2 (ease): a construction's cost beside ordinary training of the same network.

MLPs: ordinary training runs its full budget (``training.STEPS``) and is measured on the whole
splits. Conv families: every step is a batch of image-sized passes, so Theorem 1's yardstick
is a bounded budget, ``CONV_EASE_STEPS`` steps measured on ``CONV_EASE_SAMPLES`` evenly spaced
samples of each split; the figures say so (``budget``)."""

from __future__ import annotations

from collections.abc import Generator

from losspattern_core.frames import Frame, drive
from losspattern_core.training import BATCH, CONVERGED_WITHIN, BaselineResult, train_ordinary

CONV_EASE_STEPS = 300       # 300 x 128 = 38 400 samples: ~0.6 epochs of Fashion-MNIST
CONV_EASE_SAMPLES = 4096


def run_baseline(resolved, **kw) -> BaselineResult:
    """Train the baseline for a resolved config to the end (no frames)."""
    cfg = resolved.config
    return drive(train_ordinary(resolved.dataset, resolved.network, seed=cfg.seed,
                                device=cfg.device, **kw))


def ease_budget(network) -> dict:
    """``train_ordinary``'s keyword arguments for Theorem 1's yardstick on ``network``."""
    if network.family == "mlp":
        return {}
    return {"steps": CONV_EASE_STEPS, "measure_samples": CONV_EASE_SAMPLES}


def ease_comparison(resolved, con) -> Generator[Frame, None, dict]:
    """Observation 2 for a finished Theorem 1 construction: train the same architecture normally
    on the same split (frames, phase "baseline") and return the metrics entries
    ``{"baseline": ..., "ease": ...}`` that put the two side by side."""
    cfg = resolved.config
    budget = ease_budget(resolved.network)
    base = yield from train_ordinary(resolved.dataset, resolved.network, seed=cfg.seed,
                                     device=cfg.device, **budget)
    out = base.to_json()
    if budget:
        out["budget"] = (f"bounded for the {resolved.network.family} family: {base.steps} steps "
                         f"of {BATCH}, figures on {budget['measure_samples']} evenly spaced "
                         "samples of each split")
    return {"baseline": out,
            "ease": {"construction_s": con.timings["regression_s"],
                     "construction_steps": con.timings["steps"],
                     "ordinary_training_s": base.wall_s, "ordinary_training_steps": base.steps,
                     "ordinary_steps_to_converge": base.steps_to_converge}}


def ease_lines(construction_s: float, construction_steps: int, base: dict) -> list[str]:
    """Observation 2, in words: the construction's cost beside ordinary training's."""
    within = base.get("converged_within", CONVERGED_WITHIN)
    conv = (f"converged in {base['steps_to_converge']} steps / {base['time_to_converge_s']:.1f} s: "
            f"train accuracy within {within:.0%} of its best")
    lines = [f"ease: construction {construction_steps} steps in {construction_s:.1f} s; ordinary "
             f"training of the same network {base['steps']} steps in {base['wall_s']:.1f} s "
             f"({conv}; train loss {base['train_loss']:.4f}, train accuracy "
             f"{base['train_accuracy']:.4f}, test accuracy {base['test_accuracy']:.4f})"]
    if base.get("budget"):
        lines.append(f"       ordinary training budget: {base['budget']}")
    return lines
