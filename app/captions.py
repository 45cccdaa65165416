"""Provenance text computed from the state: titles, captions, the header line, status lines.

Pure functions (no Qt): every text says what a view shows (target, train or test), which run
it comes from and with which settings, so that nothing is shown without its origin.
"""

from __future__ import annotations

import html

from .method_words import (  # noqa: F401  (BATCHNORM_NOTE, MPO_NOTE: the panels' notes)
    BATCHNORM_NOTE,
    FAMILY_NAMES,
    MPO_NOTE,
    MPO_PLANE,
    batchnorm_sentence,
    is_mpo,
    method_words,
    mpo_directions_text,
    network_words,
)
from .records import Progress, Run
from .run_plan import position
from .shown import Shown, Stale
from .views.arrays import RGB_SQUASH

DIFF_WORDS = {"smooth": "smoothing", "loss_range": "loss range", "rgb": "RGB",
              "lr": "learning rate"}
THEOREM2_STRUCTURE = ("Theorem 2's network is block-diagonal: an α block (the pattern units) "
                      "and an x block meet only at the output, so logits = c(x) + g(α)")
T1_NOTE = ("Theorem 1: any pattern for any dataset; directions α1… are one-hot first-layer "
           "biases, and the surface depends only on the label marginal.")
T2_NOTE = ("Theorem 2: the directions are one-hot first-layer biases, as in Theorem 1. "
           + THEOREM2_STRUCTURE + ". The x block is trained as a classifier, then T is "
           "shifted so that its minimum equals the training loss it reaches.")


def directions_text(z: int) -> str:
    """Both theorems move single first-layer biases: direction i adds α_i to unit i's bias."""
    alphas = ", ".join(f"α{i + 1}" for i in range(z))
    units = ", ".join(str(i + 1) for i in range(z))
    many = z > 1
    return f"{alphas} = bias{'es' if many else ''} of first-layer unit{'s' if many else ''} " \
           f"{units}"


def differences_text(names) -> str:
    return ", ".join(DIFF_WORDS.get(n, n) for n in names)


def stale_note(stale: Stale | None) -> str:
    """The sentence that says a finished run is hidden because the settings changed."""
    if stale is None:
        return ""
    return (f"Run {stale.run_id} was measured with other settings "
            f"({differences_text(stale.differences)}): its views were cleared; they return "
            f"if you choose its settings again.")


def _names(shown: Shown) -> tuple[str, str, dict]:
    r = shown.resolved
    n = {"train": len(r.dataset.train_idx), "test": len(r.dataset.test_idx)}
    return r.pattern.name, shown.config.dataset, n


def _run_tag(shown: Shown) -> str:
    return f" · run {shown.run_id}" if shown.run_id is not None else ""


def _target_title(shown: Shown) -> str:
    if shown.resolved is None:
        return "target T<br>none yet (see above)"
    name = shown.resolved.pattern.name + (" (RGB)" if shown.heads > 1 else "")
    if is_mpo(shown.config):
        where = "chosen" if shown.origin == "preview" else _run_tag(shown).strip(" ·")
        return (f"target: binary icon '{name}' ({where})<br>τ·(1 − icon) on a "
                f"{shown.target_grid}-point grid")
    if shown.origin == "preview":
        if shown.config.theorem == 2:
            return f"target T: {name}, unshifted<br>Theorem 2 shifts it in the run"
        return f"target T: {name} (chosen)<br>{shown.target_grid}-point preview"
    if not shown.target_final:
        return f"target T: {name}, unshifted{_run_tag(shown)}<br>shifted when the run ends"
    shifted = " shifted" if shown.config.theorem == 2 else ""
    again = " (re-measure)" if shown.origin == "remeasure" else ""
    return f"target T: {name}{shifted}{_run_tag(shown)}<br>{shown.target_grid}-point grid{again}"


def _measured_title(shown: Shown, split: str) -> str:
    head = f"measured {split} loss"
    layer = shown.measured.get(split)
    if shown.run_id is None:
        return f"{head}<br>no run with these settings yet"
    if layer is None:
        when = ("re-measuring" if shown.origin == "remeasure"
                else "measured when the regression ends")
        return f"{head}{_run_tag(shown)}<br>{when}"
    _, ds, n = _names(shown)
    where = f"{ds} {split}, {n[split]} samples, {FAMILY_NAMES.get(shown.config.arch, '')}"
    if layer.step is not None:
        where += f", step {layer.step}"
    if layer.is_level:
        where += f", level {layer.size} of {layer.grid}"
    elif shown.origin == "remeasure":
        where += f", grid {layer.grid}"
    return f"{head}{_run_tag(shown)}<br>{where}"


def _error_title(shown: Shown) -> str:
    head = "error: train − target"
    rgb = "<br>mean of the 3 heads" if shown.heads > 1 else ""
    if shown.error is not None:
        layer = shown.measured["train"]
        level = f"<br>at the {layer.size}-point level's points" if layer.is_level else ""
        return f"{head}{_run_tag(shown)}{level}{rgb}"
    if shown.run_id is None:
        return f"{head}<br>no run with these settings yet"
    if not shown.target_final:
        return f"{head}<br>when the run ends (T is shifted then)"
    return f"{head}{_run_tag(shown)}<br>waits for the train surface"


def panel_titles(shown: Shown) -> dict[str, str]:
    """Titles of the target, train, test and error heatmaps."""
    return {"target": _target_title(shown), "train": _measured_title(shown, "train"),
            "test": _measured_title(shown, "test"), "error": _error_title(shown)}


def _range_text(shown: Shown) -> str:
    name = shown.resolved.pattern.name
    low, high = shown.loss_range
    cfg = shown.config
    if is_mpo(cfg):
        return (f"target = binary icon of '{name}' (the pattern thresholded at 0.5): low loss "
                f"wanted on the shape, at least τ = {high:.3g} nats off it (the objective's "
                f"clamp); the method fits only the icon's boundary band")
    if cfg.theorem == 2 and shown.target_final:
        chosen = cfg.loss_range
        was = f" (chosen [{chosen[0]:.3g}, {chosen[1]:.3g}])" if chosen else ""
        shift = f" by {low - chosen[0]:+.3g} nats" if chosen else ""
        return (f"target T = '{name}' shifted{shift} to [{low:.3g}, {high:.3g}] nats{was}, so "
                f"that its minimum equals the best training loss the run reached")
    text = f"target T = '{name}' in [{low:.3g}, {high:.3g}] nats"
    if cfg.theorem == 2:
        text += (" as chosen; the run shifts it so that its minimum equals the best training "
                 "loss it reaches (the shifted T and the error appear when it ends)")
    return text


def _mode_note(shown: Shown) -> str:
    if shown.heads > 1:
        return f" RGB: three heads, one per channel; {RGB_SQUASH}."
    if shown.z >= 3:
        return (" z = 3: each panel is a slice of the volume; move it with the slice bar "
                "(the 3-D volume tab shows all three planes).")
    return ""


def heatmap_caption(shown: Shown) -> str:
    """The line above the heatmaps: theorem, directions, target and its range, what was
    measured on which data, and a note when a finished run is hidden."""
    stale = stale_note(shown.stale)
    if shown.resolved is None:
        return " ".join(filter(None, [shown.problem, stale]))
    _, ds, n = _names(shown)
    cfg = shown.config
    if shown.run_id is None:
        where = (f"no run with these settings yet: Start measures every sample of the {ds} "
                 f"train ({n['train']}) and test ({n['test']}) splits.")
    else:
        where = (f"run {shown.run_id} measured on {ds}: every sample of the train split "
                 f"({n['train']}) and of the test split ({n['test']}); one colour scale for "
                 f"target, train and test.")
    t2 = f" {THEOREM2_STRUCTURE}." if cfg.theorem == 2 else ""
    if is_mpo(cfg):
        method = f"{MPO_PLANE} · directions: {mpo_directions_text()}"
    else:
        method = f"Theorem {cfg.theorem} · directions: {directions_text(cfg.z)}"
    text = (f"{method} · {network_words(cfg)} · {_range_text(shown)} · {where}{t2}"
            f"{batchnorm_sentence(cfg)}{_mode_note(shown)}")
    return f"{text} {stale}" if stale else text


def curves_title(shown: Shown) -> str:
    if shown.resolved is None:
        return "loss along direction 1: target vs measured train vs measured test"
    name, ds, _ = _names(shown)
    run = f"run {shown.run_id}" if shown.run_id is not None else "no run with these settings yet"
    return (f"z = 1 · Theorem {shown.config.theorem} · {network_words(shown.config)} · {ds} · "
            f"{run}: loss along direction 1"
            f"<br>target T '{name}' vs measured train vs measured test"
            f"{batchnorm_sentence(shown.config)}")


def curve_labels(shown: Shown) -> dict[str, str]:
    """Legend texts of the z = 1 curves."""
    target = "target T" + ("" if shown.target_final else
                           " (chosen)" if shown.origin == "preview" else " (unshifted)")
    out = {"target": target}
    for split in ("train", "test"):
        if shown.resolved is None or split not in shown.measured:
            out[split] = f"measured {split} (none yet)"
        else:
            _, ds, n = _names(shown)
            out[split] = f"measured {split} ({ds} {split}, {n[split]})"
    return out


def view3d_provenance(shown: Shown) -> str:
    """What the 3-D views append to their caption."""
    if shown.resolved is None:
        return ""
    cfg = shown.config
    run = f"run {shown.run_id}" if shown.run_id is not None else "chosen settings, no run yet"
    dirs = mpo_directions_text() if is_mpo(cfg) else directions_text(cfg.z)
    return (f"; {run}, {method_words(cfg)}, {network_words(cfg)}, {cfg.dataset}, directions "
            f"{dirs}.{batchnorm_sentence(cfg)}")


def header(choice, pattern_name: str, dataset, shown: Shown) -> str:
    """The bold line above the views: the chosen settings, then what the views show."""
    c = choice
    ds = (f"{dataset.name} ({len(dataset.train_idx)} train / {len(dataset.test_idx)} test)"
          if dataset is not None else "loading the dataset")
    rgb = " · RGB (3 heads)" if c.rgb else ""
    cfg = c.config()
    bn = f" · {BATCHNORM_NOTE}" if batchnorm_sentence(cfg) else ""
    line = (f"{method_words(cfg)} · pattern '{pattern_name}' · {network_words(cfg)} · {ds} · "
            f"z = {cfg.z}{rgb} · grid {cfg.grid} · seed {c.seed}{bn}")
    return f"{line} — {showing(shown)}{own_network(shown, cfg)}"


def own_network(shown: Shown, chosen) -> str:
    """The shown run's own method and network when they differ from the chosen ones (an opened
    bundle keeps its CNN while the panels still say MLP)."""
    if shown.origin not in ("result", "remeasure") or shown.config is None:
        return ""
    own = f"{method_words(shown.config)}, {network_words(shown.config)}"
    return "" if own == f"{method_words(chosen)}, {network_words(chosen)}" else f" ({own})"


def showing(shown: Shown) -> str:
    if shown.origin == "live":
        return f"run {shown.run_id}, live"
    if shown.origin == "result":
        return f"showing run {shown.run_id}"
    if shown.origin == "remeasure":
        return f"showing run {shown.run_id} re-measured at grid {shown.target_grid}"
    if shown.stale is not None:
        return (f"run {shown.stale.run_id} had other settings "
                f"({differences_text(shown.stale.differences)}): measured views cleared")
    return "no run yet"


def metrics_heading(run: Run, stale: Stale | None) -> str:
    """The first line of the Measured panel."""
    cfg = run.config
    what = (f"Run {run.run_id}: {method_words(cfg)}, '{run.resolved.pattern.name}' on "
            f"{html.escape(cfg.dataset)}, {network_words(cfg)}, grid {cfg.grid}, "
            f"seed {cfg.seed}.{batchnorm_sentence(cfg)}".rstrip("."))
    if stale is None:
        return what + "."
    return (f"{what}. Not the settings chosen now ({differences_text(stale.differences)}): "
            f"its views were cleared; these are its own figures, and exports still write it.")


def floor_text(floor: float, provenance: str) -> str:
    """What the loss-range editor says about H(π)."""
    return (f"floor H(π) = {floor:.4f} nats of {provenance}: the lowest loss of a prediction "
            f"that ignores x (Theorem 1's surfaces); the range must stay above it. Theorem 2 "
            f"shifts T down to the loss its classifier reaches.")


def dataset_info(ds) -> str:
    return (f"{len(ds.train_idx)} train / {len(ds.test_idx)} test samples, {ds.n_features} "
            f"features, {ds.classes} classes\nH(π) = {ds.entropy('train'):.4f} nats, the "
            f"entropy of the train labels: the lowest cross-entropy of a constant prediction "
            f"(Theorem 1's floor); a network that uses x, as Theorem 2's does, goes lower.")


def frame_status(frame) -> str:
    if frame.phase == "mpo":
        return f"MPO step {frame.step} of {frame.total}: {frame.message or frame.reg_loss}"
    if frame.phase == "measure":
        return f"measuring the searched plane: {frame.message}"
    if frame.phase == "regression":
        text = f"regression step {frame.step} of {frame.total}, fit loss {frame.reg_loss:.2e}"
    else:
        what = {"baseline": "training the ordinary network for comparison",
                "classifier": "fitting the data at α* (classifier block)"}.get(
                    frame.phase, frame.phase)
        text = f"{what}: step {frame.step} of {frame.total}, loss {frame.reg_loss:.3g}"
    return text + (f" — {frame.message}" if frame.message else "")


PHASES = {"baseline": "ordinary net", "classifier": "classifier", "regression": "regression",
          "mpo": "MPO", "measure": "measuring"}


def frame_bar(frame) -> str:
    rate = frame.step / max(frame.elapsed, 1e-9)
    eta = (frame.total - frame.step) / max(rate, 1e-9)
    what = "" if frame.phase == "regression" else f"{PHASES.get(frame.phase, frame.phase)} "
    return f"{what}{frame.step}/{frame.total} · ETA {eta:.0f} s"


def level_status(level: tuple[str, int, int]) -> str:
    split, size, grid = level
    return f"{split} surface: {size}-point level of {grid} (exact at every level)"


def _psnr(fid: dict) -> str:
    return ", ".join(f"{s} PSNR {f['psnr_db']:.1f} dB" for s, f in fid.items())


def outcome_texts(progress: Progress, result: Run | None) -> tuple[str, str]:
    """(progress-bar text, status line) once an activity has ended."""
    o = progress.outcome
    if o == "finished" and result is not None and result.metrics is not None \
            and is_mpo(result.config):
        m, s = result.metrics, result.seconds or 0.0
        return f"done in {s:.1f} s", (
            f"run {result.run_id} (MPO) done in {s:.1f} s: test IoU {m['test']['iou']:.3f}, "
            f"good − bad accuracy {m['test']['acc_gap']:+.3f}; {m.get('stopped', '')}. Export "
            f"it with Ctrl+E.")
    if o == "finished" and result is not None and result.metrics is not None:
        m, s = result.metrics, result.seconds or 0.0
        text = (f"run {result.run_id} done in {s:.1f} s: "
                f"{_psnr({k: m[k] for k in ('train', 'test')})}")
        t2 = m.get("theorem2", {}).get("at_alpha_star")
        if t2:
            text += f", train accuracy at α* {100 * t2['train_accuracy']:.1f} %"
        return f"done in {s:.1f} s", text + ". Export it with Ctrl+E."
    if o == "remeasured" and result is not None and result.remeasure is not None:
        r = result.remeasure
        return (f"re-measured at grid {r.grid} in {r.seconds:.1f} s",
                f"run {result.run_id} re-measured at grid {r.grid}: {_psnr(r.fidelity)}. The "
                f"views show the {r.grid}-point grid (their titles say so), and so does a PNG "
                f"of a view; surface and bundle exports hold the run's own {result.grid}-point "
                f"grid.")
    texts = {"cancelled": ("cancelled", "cancelled: nothing was kept."),
             "re-measure cancelled": ("re-measure cancelled",
                                      "re-measure cancelled: showing the run's own grid."),
             "failed": ("failed", f"failed: {progress.message}"),
             "re-measure failed": ("re-measure failed", f"re-measure failed: "
                                   f"{progress.message}")}
    return texts.get(o, ("idle", progress.message or
                         "Choose a pattern and a dataset, then press Start."))


def activity_texts(progress: Progress, theorem: int | None = None
                   ) -> tuple[str, float | None, str]:
    """(progress-bar text, fraction done or None when it cannot be known, status line) while
    a construction or a re-measurement runs; with the run's ``theorem`` the bar covers the
    whole run, phase by phase (``run_plan.py``)."""
    p, frame = progress, progress.frame
    where = position(p, theorem) if theorem and p.activity == "construction" else None
    if p.activity == "remeasure":
        bar, fraction = p.phase + "…", None   # levels have no fixed count in advance
    else:
        bar = frame_bar(frame) if frame is not None else "starting…"
        fraction = frame.step / max(frame.total, 1) if frame is not None else 0.0
    if where is not None:
        k, n, name, fraction = where
        step = f" · {frame_bar(frame)} for this phase" if frame is not None \
            and frame.phase != "measure" and p.latest == "frame" else ""
        elapsed = f" · {frame.elapsed:.0f} s in" if frame is not None and step else ""
        bar = f"phase {k} of {n}: {name}{step}{elapsed} · whole run {100 * fraction:.0f} %"
    if p.latest == "frame" and frame is not None:
        status = frame_status(frame)
    elif p.latest == "level" and p.level is not None:
        status = level_status(p.level)
    else:
        status = p.phase + "…"
    return bar, fraction, status
