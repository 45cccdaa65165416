"""The views' tabs: heatmaps (slices for z = 3), the 3-D view (surface or volume), the
z = 1 curves, and Compare (two finished runs side by side). Observes the state: tab texts
and which tabs are on follow the shown z, the current tab is ``state.view.tab`` (and choosing
a tab writes it). The 3-D volume view is built the first time it is needed (a z = 3 surface
shown, or ``volume3d`` asked for): its canvas costs start-up time most sessions never use."""

from __future__ import annotations

from PySide6.QtWidgets import QStackedWidget, QTabWidget

from .compare import CompareView
from .curves import CurvesView
from .heatmaps import HeatmapsView
from .surface3d import SurfaceView
from .volume3d import VolumeView

TABS = {2: ("Heatmaps", "3-D surface"), 3: ("Slices (z = 3)", "3-D volume")}
TAB_CURVES = "Curves (z = 1)"
TAB_COMPARE = "Compare"


class ViewTabs(QTabWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state, self._z = state, None
        self.heatmaps, self.curves = HeatmapsView(state), CurvesView(state)
        self.surface3d, self._volume3d = SurfaceView(), None
        self.stack3d = QStackedWidget()
        self.surface3d.bind(state)
        self.stack3d.addWidget(self.surface3d)
        self.compare = CompareView(state)
        for widget, text in ((self.heatmaps, TABS[2][0]), (self.stack3d, TABS[2][1]),
                             (self.curves, TAB_CURVES), (self.compare, TAB_COMPARE)):
            self.addTab(widget, text)
        self.currentChanged.connect(lambda i: state.set_view(tab=i))
        state.events.shown.connect(self._sync)
        state.events.view.connect(self._sync)
        self._sync()

    @property
    def volume3d(self) -> VolumeView:
        """The z = 3 view, built (and bound to the state) on first use."""
        if self._volume3d is None:
            self._volume3d = VolumeView()
            self._volume3d.bind(self.state)
            self.stack3d.addWidget(self._volume3d)
        return self._volume3d

    def view3d(self):
        """The 3-D view of the current mode (surface for z = 2, volume for z = 3)."""
        return self.stack3d.currentWidget()

    def _sync(self) -> None:
        z = self.state.shown.z
        if z != self._z:
            self._z = z
            here = self.currentIndex()   # before a disabled tab moves Qt to another one
            self.stack3d.setCurrentWidget(self.volume3d if z >= 3 else self.surface3d)
            for i, text in enumerate(TABS[3 if z >= 3 else 2]):
                self.setTabText(i, text)
                self.setTabEnabled(i, z >= 2)
            self.setTabEnabled(2, z == 1)
            self.setCurrentIndex(here if here == 3 else 2 if z == 1 else here % 2)
        tab = self.state.view.tab
        if tab != self.currentIndex() and self.isTabEnabled(tab):
            self.setCurrentIndex(tab)
