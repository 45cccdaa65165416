"""The Measured panel's figures of a multi-point optimisation run (Skorokhodov & Burtsev).

Their own measure (the good − bad accuracy gap over the icon's boundary band) and ours (the
IoU of the low-loss region, loss below the midpoint of the good and bad levels, with the
icon), per split, then the transfer gap, the search's work and where it stopped.
"""

from __future__ import annotations

from ..method_words import MPO_PLANE

ROWS = (("IoU with the icon", "iou", ".3f"), ("good − bad accuracy", "acc_gap", "+.3f"),
        ("good cells' accuracy", "good_acc", ".3f"), ("bad cells' accuracy", "bad_acc", ".3f"),
        ("good level (nats)", "good_level", ".4f"), ("bad level (nats)", "bad_level", ".4f"))


def _f(value, fmt: str) -> str:
    return "—" if value is None else f"{value:{fmt}}"


def mpo_section(panel, m: dict, p: dict) -> None:
    """Add the MPO run's figures to ``panel`` (a ``MetricsPanel``: ``_h``, ``_note``,
    ``_table`` and ``rows``)."""
    panel.rows = {}
    panel._h("Icon fidelity (multi-point optimisation)")
    panel._note(f"{MPO_PLANE}. {p['dataset']}: measured on every sample of each split at each "
                f"of the {p['grid']}×{p['grid']} cells. IoU: cells whose loss is below the "
                "midpoint of the good and bad levels, against the icon's shape; accuracy gap: "
                "their own measure, over the icon's boundary band.")
    tr, te = m.get("train", {}), m.get("test", {})
    body = []
    for label, key, fmt in ROWS:
        a, b = _f(tr.get(key), fmt), _f(te.get(key), fmt)
        panel.rows[f"{label} train"], panel.rows[f"{label} test"] = a, b
        body.append([label, a, b])
    panel._table(["", f"train ({p['n_train']})", f"test ({p['n_test']})"], body)
    gap = m.get("transfer", {}).get("mean_abs_gap")
    if gap is not None:
        panel.rows["transfer gap"] = f"{gap:.4f}"
        panel._note(f"transfer: mean |test − train| loss over the plane = {gap:.4f} nats")
    t, e = m.get("timings", {}), m.get("evaluations", {})
    panel._h("Search")
    panel._note(f"{t.get('steps', '—')} steps ({t.get('epochs', 0):.3g} epochs) in "
                f"{t.get('mpo_s', 0):.1f} s, engine {t.get('engine', '—')}; "
                f"{e.get('sample_passes', 0):,} forward+backward passes (one input, one weight "
                f"vector each); stopped: {m.get('stopped', '—')}.".replace(",", " "))
    plane = m.get("plane", {})
    if plane:
        panel._note(f"plane: scale {plane.get('scale', 0):.3g}, ‖right‖ "
                    f"{plane.get('norm_right', 0):.3g}, ‖up‖ {plane.get('norm_up', 0):.3g}, "
                    f"cos(up, right) {plane.get('cos_up_right', 0):+.2e}")
