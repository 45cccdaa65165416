"""Runs panel: every finished run while the app is open, side by side (settings and PSNR), so
two can be compared at a glance; clicking one shows it again (its settings are chosen).

Observes the state (``runs.history``, ``result``); writes it only through ``show_run``.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..captions import differences_text
from ..choice import config_differences
from ..state import AppState

COLUMNS = ("run", "pattern", "dataset", "theorem", "z", "grid", "steps", "PSNR train",
           "PSNR test", "s", "saved")


def _row(run, saved: bool) -> list[str]:
    c, m = run.config, run.metrics or {}

    def psnr(split):
        v = m.get(split, {}).get("psnr_db")
        return "—" if v is None else f"{v:.1f}"

    return [str(run.run_id), str(c.pattern).split("/")[-1], c.dataset, str(c.theorem), str(c.z),
            str(c.grid), str(c.steps), psnr("train"), psnr("test"),
            f"{run.seconds or 0:.0f}", "yes" if saved else "no"]


class HistoryPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.cellClicked.connect(lambda row, _: self._picked(row))
        self.compare = QLabel()
        self.compare.setWordWrap(True)
        self.compare.setStyleSheet("color: #444;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.compare)
        self._previous = None   # the run shown before the current one: compared with it
        self._current = None
        for event in (state.events.result, state.events.run):
            event.connect(self._show_state)
        self._show_state()

    def _picked(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None and not self.state.show_run(int(item.text())):
            self.state.note("a run is under way: finished runs can be shown when it ends")

    def _show_state(self) -> None:
        st = self.state
        runs = st.runs.history
        self.table.setRowCount(len(runs))
        for i, run in enumerate(runs):
            for j, text in enumerate(_row(run, run.run_id in st.runs.saved)):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        shown = st.result
        if shown is not None and (self._current is None or shown.run_id != self._current.run_id):
            self._previous, self._current = self._current, shown
        for i, run in enumerate(runs):
            if shown is not None and run.run_id == shown.run_id:
                self.table.selectRow(i)
        self.compare.setText(self.comparison())

    def comparison(self) -> str:
        """The shown run against the one shown before it: which settings differ."""
        a, b = self._previous, self._current
        if a is None or b is None:
            return "Finished runs stay here while the app is open; click one to show it."
        diff = config_differences(a.config, b.config)
        what = differences_text(diff) if diff else "no setting"
        return f"run {b.run_id} (shown) vs run {a.run_id}: {what} differ(s)."
