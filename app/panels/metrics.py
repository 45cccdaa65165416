"""Metrics panel: the measured figures of a finished run, grouped, each with where it comes from.

Rich text in a QTextBrowser: it word-wraps to any width and scrolls, so nothing is cut off.
``rows`` keeps the shown values by name (for tests and the status line).
"""

from __future__ import annotations

import html
import math

from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from ..captions import THEOREM2_STRUCTURE, directions_text, metrics_heading
from ..state import AppState
from .analysis_section import AnalysisSection
from .mpo_metrics import mpo_section

CSS = """
<style>
 h4 { margin: 6px 0 2px 0; color: #1f3b63; }
 p.note { color: #555; margin: 0 0 2px 0; }
 table { border-collapse: collapse; }
 td, th { padding: 1px 8px 1px 0; }
 th { text-align: left; color: #333; font-weight: 600; }
 td.v { text-align: right; font-family: monospace; }
 .warn { color: #9a3b00; }
</style>
"""
CHANNELS = "RGB"


def _f(v, fmt=".4f", unit="") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:{fmt}}{unit}"


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f} %"


class MetricsPanel(QWidget):
    """Observes the state: the finished run's figures with their provenance, headed by which
    run they belong to (and a warning when the chosen settings differ from that run's)."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.view = QTextBrowser()
        self.view.setOpenLinks(False)
        self.view.setMinimumWidth(260)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.view)
        self.rows: dict[str, str] = {}
        self._key = None
        self.analysis = AnalysisSection(state, self)   # basins, bottleneck, sharpness (worker)
        self.analysis.changed.connect(self._analysis_changed)
        for event in (state.events.result, state.events.shown, state.events.run):
            event.connect(self._show_state)
        self._show_state()

    # --- public API ----------------------------------------------------------------------------
    def clear(self, text: str = "no finished run yet") -> None:
        self.rows = {}
        self.view.setHtml(CSS + f"<p class='note'>{html.escape(text)}</p>")

    def text(self) -> str:
        return self.view.toPlainText()

    def _show_state(self) -> None:
        st = self.state
        run, outcome = st.result, st.progress.outcome
        stale = st.shown.stale if run is not None else None
        again = run.remeasure if run is not None and run.remeasure is not None \
            and run.remeasure.done else None
        key = (None if run is None else run.run_id, again and (again.grid, again.seconds),
               stale, st.live and st.live.run_id, outcome if run is None else "")
        if key == self._key:
            return   # re-render only when what the panel says changes
        self._key = key
        if run is not None:
            self.show_run(run, stale)
        elif st.live is not None:
            self.clear(f"run {st.live.run_id} running…")
        else:
            self.clear({"cancelled": "cancelled: nothing was kept",
                        "failed": "the run failed"}.get(outcome, "no finished run yet"))

    def _analysis_changed(self) -> None:
        self._key = None   # the analysis has more to show: render again
        self._show_state()

    def show_run(self, run, stale=None) -> None:
        """The figures of a finished ``Run`` (``stale``: it is not the chosen settings')."""
        cfg, ds = run.config, run.resolved.dataset
        p = {"dataset": cfg.dataset, "n_train": len(ds.train_idx), "n_test": len(ds.test_idx),
             "grid": cfg.grid, "z": cfg.z, "seed": cfg.seed, "theorem": cfg.theorem,
             "directions": directions_text(cfg.z), "chosen_range": cfg.loss_range}
        self._parts = [CSS, f"<p class='{'warn' if stale else 'note'}'>"
                            f"{metrics_heading(run, stale)}</p>"]
        if cfg.theorem == "mpo":   # the multi-point optimisation: its own figures
            mpo_section(self, run.metrics, p)
        else:
            self._sections(run.metrics, p)
        if run.remeasure is not None and run.remeasure.done:
            self._remeasure(run.remeasure, cfg.z)
        self._parts.append(self.analysis.html(run, self.rows))
        self.view.setHtml("".join(self._parts))

    def _sections(self, metrics: dict, p: dict) -> None:
        self.rows = {}
        theorem = int(p.get("theorem", 1))
        if theorem == 2 and "theorem2" in metrics:  # the theorem's own promise comes first
            self._theorem2(metrics)
        self._h(f"Fidelity to the target (Theorem {theorem})")
        self._note(f"{p['dataset']}: measured on every sample of each split; "
                   f"{p['grid']}<sup>{p['z']}</sup> grid over α; directions {p['directions']}; "
                   f"seed {p['seed']}. NRMSE = RMS(L − T)/(high − low), "
                   f"PSNR = −20 log<sub>10</sub> NRMSE.")
        self._fidelity(metrics, p, theorem)
        self._transfer(metrics, theorem)
        self._ease(metrics, theorem)
        self._checks(metrics, p, theorem)

    def _remeasure(self, r, z: int) -> None:
        self._h(f"Re-measured on a {r.grid}-point grid ({r.seconds:.1f} s)")
        for s, f in r.fidelity.items():
            self._note(f"{s}: PSNR {f['psnr_db']:.2f} dB, NRMSE {f['nrmse']:.4f}, max error "
                       f"{f['max_error']:.4f} (every {s} sample, {r.grid}<sup>{z}</sup> grid)")

    # --- sections ------------------------------------------------------------------------------
    def _fidelity(self, m: dict, p: dict, theorem: int) -> None:
        tr, te = m.get("train", {}), m.get("test", {})
        head = ["", f"train ({p['n_train']})", f"test ({p['n_test']})"]
        rows = [("PSNR", "psnr_db", ".2f", " dB"), ("NRMSE", "nrmse", ".4f", ""),
                ("max error", "max_error", ".4f", ""), ("min loss", "min_loss", ".4f", "")]
        body = []
        for label, key, fmt, unit in rows:
            a, b = _f(tr.get(key), fmt, unit), _f(te.get(key), fmt, unit)
            self.rows[f"{label} train"], self.rows[f"{label} test"] = a, b
            body.append([label + (" (nats)" if key == "min_loss" else ""), a, b])
        per_head = zip(tr.get("channels", []), te.get("channels", []), strict=False)
        for h, (ct, ce) in enumerate(per_head):
            name = f"PSNR {CHANNELS[h] if h < 3 else h} head"
            a, b = _f(ct["psnr_db"], ".2f", " dB"), _f(ce["psnr_db"], ".2f", " dB")
            self.rows[f"{name} train"], self.rows[f"{name} test"] = a, b
            ch = CHANNELS[h] if h < 3 else str(h)
            body.append([f"PSNR {ch}", a, b])
            body.append([f"NRMSE {ch}", _f(ct["nrmse"]), _f(ce["nrmse"])])
        self._table(head, body)
        if tr.get("channels"):
            self._note("Colour mode: each head's own classification loss draws one channel; "
                       "PSNR/NRMSE R, G, B are per head; the rows above pool the three heads.")
        if theorem == 2:
            self._note("<span class='warn'>Theorem 2 promises only the <b>train</b> surface; the "
                       "test surface is not promised to follow T — its gap is measured and "
                       "shown, not hidden.</span>")

    def _theorem2(self, m: dict) -> None:
        t2 = m["theorem2"]
        at = t2.get("at_alpha_star", {})
        base = m.get("baseline", {})
        star = ", ".join(f"{a:.2f}" for a in t2.get("alpha_star", []))
        self._h("Theorem 2: fit at α* vs an ordinary network")
        self._note(f"α* = argmin T = ({star}); the ordinary network has the same architecture, "
                   f"trained normally (Adam, minibatch cross-entropy) on the same train split.")
        head = ["", "at α*", "ordinary"]
        rows = [("train loss", at.get("train_loss"), base.get("train_loss"), _f),
                ("train accuracy", at.get("train_accuracy"), base.get("train_accuracy"), _pct),
                ("test loss", at.get("test_loss"), base.get("test_loss"), _f),
                ("test accuracy", at.get("test_accuracy"), base.get("test_accuracy"), _pct)]
        body = []
        for label, a, b, fmt in rows:
            sa, sb = fmt(a), fmt(b)
            self.rows[f"{label} at α*"], self.rows[f"{label} ordinary"] = sa, sb
            body.append([label, sa, sb])
        self._table(head, body)
        vs = t2.get("vs_baseline")
        if vs:
            self._note(f"gaps (construction − ordinary): train loss "
                       f"{vs['train_loss_gap']:+.4f} nats, train accuracy "
                       f"{100 * vs['train_accuracy_gap']:+.2f} pts, test accuracy "
                       f"{100 * vs['test_accuracy_gap']:+.2f} pts")
        self._note(THEOREM2_STRUCTURE + ".")
        if "best_loss" in t2:
            self._note(f"pattern shifted by {t2.get('shift', 0):+.4f} nats so its minimum equals "
                       f"the best training loss reached, {t2['best_loss']:.4f} nats.")

    def _transfer(self, m: dict, theorem: int) -> None:
        t = m.get("transfer")
        if not t:
            return
        gap = f"{t['max_abs_gap']:.4f} nats"
        self.rows["transfer gap"] = gap
        if theorem == 1:
            self._h("Transfer to the test split (Observation 1)")
            self._table(["", "max over the grid"], [
                ["measured |test − train|", gap],
                ["predicted Σ<sub>k</sub>(π′<sub>k</sub> − π<sub>k</sub>)·ℓ(p, k)",
                 f"{t['max_abs_predicted_gap']:.4f} nats"],
                ["|measured − predicted|", f"{t['max_abs_gap_minus_prediction']:.2e}"],
                ["PSNR train − test", f"{t['psnr_difference_db']:+.2f} dB"]])
            self._note("the prediction uses only the label marginals of the two splits and the "
                       "measured per-class losses.")
        else:
            self._h("Test surface gap (not promised by Theorem 2)")
            self.rows["test-surface gap"] = gap
            self._table(["", "value"], [
                ["max |test − train|", gap],
                ["mean |test − train|", f"{t['mean_abs_gap']:.4f} nats"],
                ["PSNR train − test", f"{t['psnr_difference_db']:+.2f} dB"]])
            self._note("<span class='warn'>Theorem 2 promises no transfer: this gap is measured, "
                       "not predicted.</span>")

    def _ease(self, m: dict, theorem: int) -> None:
        e, tm = m.get("ease"), m.get("timings", {})
        self._h("Ease (Observation 2)")
        if e:
            conv = e.get("ordinary_steps_to_converge")
            self.rows["construction time"] = f"{e['construction_s']:.1f} s"
            self.rows["ordinary training time"] = f"{e['ordinary_training_s']:.1f} s"
            self._table(["", "wall time", "steps"], [
                ["construction", f"{e['construction_s']:.1f} s", str(e["construction_steps"])],
                ["ordinary training", f"{e['ordinary_training_s']:.1f} s",
                 str(e["ordinary_training_steps"])]])
            base = m.get("baseline", {})
            within = base.get("converged_within", 0.01)
            if conv:
                t = base.get("time_to_converge_s")
                self._note(f"ordinary net converged at step {conv}"
                           + (f" ({t:.1f} s)" if t is not None else "")
                           + f": train accuracy within {within:.0%} of its best; at the "
                           f"end, train accuracy {base.get('train_accuracy', float('nan')):.1%}, "
                           f"train loss {base.get('train_loss', float('nan')):.4f}")
        elif "regression_s" in tm:
            self.rows["construction time"] = f"{tm['regression_s']:.1f} s"
            self._table(["", "wall time", "steps"], [
                ["construction (regression)", f"{tm['regression_s']:.1f} s",
                 str(tm.get("steps", "?"))]])
            self._note("no ordinary-training comparison in this run.")
        for k in ("surface_train_s", "surface_test_s"):
            if k in tm:
                self.rows[k] = f"{tm[k]:.2f} s"
        if "surface_train_s" in tm and "surface_test_s" in tm:
            self._note(f"measuring the surfaces took {tm['surface_train_s']:.2f} s (train) and "
                       f"{tm['surface_test_s']:.2f} s (test).")

    def _checks(self, m: dict, p: dict, theorem: int) -> None:
        pp, lr = m.get("pattern_points"), m.get("loss_range")
        self._h("Checks and loss range")
        body = []
        if pp:   # Theorem 1's claims at pattern points (the core checks them on its runs only)
            acc = f"{pp['accuracy_at_argmin']:.3f}"
            self.rows["accuracy at argmin"] = acc
            body.append(["accuracy at the pattern's minimum", acc])
            body.append(["majority-class share", f"{pp['majority_class_share']:.3f}"])
            body.append(["output variance across samples", f"{pp['output_variance_max']:.1e}"])
        floor = f"{m.get('loss_floor', float('nan')):.4f} nats"
        if lr and theorem == 2:
            rng, chosen = f"[{lr[0]:.4g}, {lr[1]:.4g}] nats", p.get("chosen_range")
            self.rows["target range"] = rng
            if chosen:
                body.append(["loss range chosen", f"[{chosen[0]:g}, {chosen[1]:g}] nats"])
            body.append(["target range (shifted)", rng])
            body.append(["H(π), constant-prediction floor", floor])
        elif lr:
            rng = f"[{lr[0]:g}, {lr[1]:g}] nats"
            self.rows["loss range"] = rng
            body.append(["loss range", rng])
            body.append(["floor H(π)", floor])
        self._table(["", "value"], body)
        if pp:
            self._note(f"train split at {pp['points_checked']} grid points incl. the pattern's "
                       f"argmin; floor from the {html.escape(p['dataset'])} train labels.")
        if theorem == 2:
            self._note("H(π) bounds a prediction that ignores x (Theorem 1's surfaces); "
                       "Theorem 2's x block is a classifier, so its losses go below it. "
                       "Theorem 1's checks at pattern points do not apply here.")

    # --- html helpers ----------------------------------------------------------------------------
    def _h(self, text: str) -> None:
        self._parts.append(f"<h4>{text}</h4>")

    def _note(self, text: str) -> None:
        self._parts.append(f"<p class='note'>{text}</p>")

    def _table(self, head: list[str], body: list[list[str]]) -> None:
        rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
        for r in body:
            rows.append("<tr><th>" + r[0] + "</th>" + "".join(f"<td class='v'>{c}</td>"
                                                           for c in r[1:]) + "</tr>")
        self._parts.append("<table>" + "".join(rows) + "</table>")
