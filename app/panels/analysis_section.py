"""The analysis section of the Measured panel: for every finished construction, the basins of
the target and of each measured surface (0-dimensional persistence of the sublevel sets, minima
whose persistence exceeds a stated share of the loss range), the bottleneck distance between
the target's and the measured diagram, and the sharpness at θ_0 (top Hessian eigenvalue,
Hutchinson trace) on a bounded, stated subset of the training split.

Everything is computed on a worker thread (``ExploreController``): persistence first (shown as
soon as it is ready), sharpness after it. Results are kept per run id, so showing an older run
again costs nothing.
"""

from __future__ import annotations

import html

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

import losspattern_core as lp

from ..explore_mode.plan import Partial, Phase
from ..explore_mode.worker import ExploreController

MIN_SHARE = 0.05            # a basin: persistence above 5 % of the loss range
SHARPNESS_SAMPLES = 1024    # evenly spaced training samples for the Hessian (bounded cost)
SHARPNESS = dict(top_k=1, samples=16, max_iter=60, tol=1e-3)


def _sharpness_split(run):
    """(X as the network takes it, y, n of N) of evenly spaced training samples."""
    ds = run.resolved.dataset
    X, y = ds.split("train")
    rows = np.unique(np.linspace(0, len(y) - 1, min(SHARPNESS_SAMPLES, len(y))).astype(int))
    Xs = lp.as_input(torch.as_tensor(np.asarray(X[rows]), dtype=torch.float32),
                     run.resolved.network)
    return Xs, torch.as_tensor(np.asarray(y[rows]), dtype=torch.long), len(rows), len(y)


def _value_range(run):
    """The construction's loss range (what the share refers to), else None (each surface's
    own min and max, as the core's default)."""
    rng = getattr(run.resolved, "loss_range", None) if run.target is not None else None
    return None if rng is None else (float(rng.low), float(rng.high))


def surfaces_analysis(run) -> dict:
    """``lp.analyse_surface`` of each measured split (per head) against the run's target (none
    for an explored landscape); keys "train", "test" ("train/head2" ...)."""
    out, heads = {}, run.heads
    for split in ("train", "test"):
        layer = run.surfaces.get(split)
        if layer is None:
            continue
        arr = np.asarray(layer.array)
        for h in range(heads):
            m = arr if heads == 1 else arr[h]
            t = None if run.target is None else (run.target if heads == 1 else run.target[h])
            key = split if heads == 1 else f"{split}/head{h + 1}"
            out[key] = lp.analyse_surface(t, m, _value_range(run), MIN_SHARE)
    return out


def _sharpness(run) -> dict:
    model = getattr(run.construction, "model", None)
    if model is None:
        return {"skipped": "the network is not here (it was not rebuilt)"}
    if run.heads > 1:
        return {"skipped": "a colour run has three heads: no single classification loss"}
    try:
        X, y, n, of = _sharpness_split(run)
        sharp = lp.sharpness(model, X, y, getattr(run.config, "loss", "cross_entropy"),
                             **SHARPNESS)
    except (lp.LossPatternError, AttributeError, ValueError) as exc:   # e.g. over the
        return {"skipped": str(exc)}     # Hessian's memory bound, or no dataset/network here
    sharp["subset"] = {"samples": n, "of": of}
    return sharp


def analysis_job(run):
    """Persistence (a ``Partial``), then sharpness; returns {"analysis", "sharpness"}."""
    yield Phase("persistence of the target and measured surfaces")
    analysis = surfaces_analysis(run)
    yield Partial("analysis", analysis)
    yield Phase("sharpness at θ_0 (Hessian-vector products)")
    return {"analysis": analysis, "sharpness": _sharpness(run)}


class AnalysisSection(QObject):
    """Computes the analysis of the state's finished run; ``changed`` when there is more to
    show. ``html(run, rows)`` is the section's HTML (and fills ``rows`` for tests)."""

    changed = Signal()

    def __init__(self, state, parent=None, job=analysis_job):
        super().__init__(parent)
        self.state, self.job = state, job
        self.results: dict[int, dict] = {}
        self._running_for: int | None = None
        self.controller = ExploreController(self)
        self.controller.partial.connect(self._on_partial)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(lambda m: self._store({"error": m}))
        state.events.result.connect(self.update)

    def update(self) -> None:
        """Start the analysis of the state's finished run, unless it is known or under way."""
        run = self.state.result
        if (run is None or not run.finished or not run.surfaces
                or run.run_id in self.results or run.run_id == self._running_for):
            return
        self._running_for = run.run_id
        self.controller.start(lambda: self.job(run))

    def shutdown(self) -> bool:
        return self.controller.shutdown()

    def _store(self, values: dict) -> None:
        rid = self._running_for
        if rid is None:
            return
        self.results[rid] = {**self.results.get(rid, {}), **values}
        if "sharpness" in values or "error" in values:
            self._running_for = None
        self.changed.emit()

    def _on_partial(self, key: str, value) -> None:
        self._store({key: value})

    def _on_finished(self, value: dict) -> None:
        self._store(value)

    # --- the HTML -----------------------------------------------------------------------------
    def html(self, run, rows: dict) -> str:
        got = self.results.get(run.run_id, {})
        parts = ["<h4>Analysis: basins (persistence) and sharpness</h4>"]
        if "error" in got:
            return parts[0] + f"<p class='note'>not analysed: {html.escape(got['error'])}</p>"
        a = got.get("analysis")
        if a is None:
            return parts[0] + "<p class='note'>computing the persistence diagrams…</p>"
        if not a:
            return parts[0] + "<p class='note'>no measured surface to analyse</p>"
        first = next(iter(a.values()))
        lo, hi = first["value_range"]
        parts.append(f"<p class='note'>0-dimensional persistence of the sublevel sets on the "
                     f"{'×'.join(map(str, first['grid']))} grid ({first['neighbourhood']}); a "
                     f"basin is a minimum of persistence &gt; {100 * first['min_share']:.0f} % "
                     f"of the loss range [{lo:.4g}, {hi:.4g}] (&gt; {first['threshold']:.4g} "
                     f"nats); the global minimum always counts."
                     + ("" if run.target is not None else " No target: each surface's share "
                        "is of its own min–max.") + "</p>")
        body = []
        for key, item in a.items():
            m = item["measured"]["basins"]
            text = (f"measured {m}" if item["target"] is None
                    else f"target {item['target']['basins']}, measured {m}")
            b = item["bottleneck"]
            dist = "—" if b is None else f"{b['distance']:.4f}" + ("" if b["exact"] else " ≈")
            rows[f"basins {key}"], rows[f"bottleneck {key}"] = text, dist
            body.append(f"<tr><th>{html.escape(key)}</th><td class='v'>{text}</td>"
                        f"<td class='v'>{dist}</td></tr>")
        parts.append("<table><tr><th></th><th>basins</th><th>bottleneck (nats)</th></tr>"
                     + "".join(body) + "</table>")
        parts.append(self._sharpness_html(got.get("sharpness"), rows))
        return "".join(parts)

    @staticmethod
    def _sharpness_html(s, rows: dict) -> str:
        if s is None:
            return "<p class='note'>sharpness at θ<sub>0</sub>: computing…</p>"
        if "skipped" in s:
            rows["sharpness"] = "skipped"
            return (f"<p class='note'>sharpness at θ<sub>0</sub>: skipped "
                    f"({html.escape(s['skipped'])})</p>")
        rows["top Hessian eigenvalue"] = f"{s['top_eigenvalue']:.5g}"
        rows["Hutchinson trace"] = f"{s['trace']:.5g}"
        sub = s.get("subset", {})
        return (f"<table><tr><th>top Hessian eigenvalue at θ<sub>0</sub></th><td class='v'>"
                f"{s['top_eigenvalue']:.5g}</td></tr><tr><th>Hutchinson trace</th>"
                f"<td class='v'>{s['trace']:.5g} ± {s['trace_stderr']:.2g}</td></tr></table>"
                f"<p class='note'>Hessian of the mean train loss over {sub.get('samples')} "
                f"evenly spaced of {sub.get('of')} training samples; power iteration "
                f"(residual {s['eigen']['residuals'][0]:.1e}); trace from "
                f"{s['trace_samples']} Rademacher vectors ± its standard error.</p>")
