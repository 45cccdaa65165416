"""Metrics panel: the measured figures of a finished run, each with where it comes from."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


class MetricsPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["quantity", "value", "measured on"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        head = self.tree.header()
        head.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        head.setStretchLastSection(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tree)
        self.clear()

    def clear(self, text: str = "no finished run yet") -> None:
        self.tree.clear()
        QTreeWidgetItem(self.tree, ["—", "", text])
        self.rows: dict[str, str] = {}

    def show_metrics(self, metrics: dict, provenance: dict) -> None:
        """``provenance``: dataset, n_train, n_test, grid, z, seed, theorem, directions."""
        self.tree.clear()
        self.rows = {}
        p = provenance
        where = {s: f"{p['dataset']} {s} split ({p['n_' + s]} samples), {p['grid']}^{p['z']} "
                    f"grid over α, directions {p['directions']}, seed {p['seed']}"
                 for s in ("train", "test")}
        for split in ("train", "test"):
            f = metrics.get(split)
            if not f:
                continue
            self._row(f"PSNR {split}", f"{f['psnr_db']:.2f} dB", where[split] + "; vs target T")
            self._row(f"NRMSE {split}", f"{f['nrmse']:.4f}", "RMS(L − T) / (high − low), "
                      + where[split])
            self._row(f"max error {split}", f"{f['max_error']:.4f}",
                      "max |L − T| / (high − low), " + where[split])
        t = metrics.get("transfer")
        if t:
            self._row("transfer gap", f"{t['max_abs_gap']:.4f} nats",
                      f"max |test − train| over the grid; predicted from label marginals "
                      f"{t['max_abs_predicted_gap']:.4f} ({t['note']})")
        pp = metrics.get("pattern_points")
        if pp:
            self._row("accuracy at argmin", f"{pp['accuracy_at_argmin']:.3f}",
                      f"train split at the pattern's minimum; majority-class share "
                      f"{pp['majority_class_share']:.3f}")
        lr = metrics.get("loss_range")
        if lr:
            self._row("loss range", f"[{lr[0]:g}, {lr[1]:g}] nats",
                      f"floor H(π) = {metrics.get('loss_floor', float('nan')):.4f} "
                      f"({p['dataset']} train labels)")
        tm = metrics.get("timings", {})
        if "regression_s" in tm:
            self._row("time", f"{tm['regression_s']:.1f} s",
                      f"{tm.get('steps', '?')} regression steps, Theorem {p['theorem']}")

    def _row(self, name: str, value: str, where: str) -> None:
        item = QTreeWidgetItem(self.tree, [name, value, where])
        item.setToolTip(2, where)
        self.rows[name] = value
