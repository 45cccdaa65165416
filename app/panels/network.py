"""Network and run panel: the method (Theorem 1, Theorem 2, multi-point optimisation), the
network family and only that family's knobs, its layer summary and parameter count, z, RGB,
steps, grid, seed, device.

Bound to the state: each widget writes its field with ``state.choose``; on every ``choice``
event the widgets show the state's values (signals blocked, so nothing echoes back). The
summary and the refusal of a network that cannot take the data are the core's
(``state.network_summary``: ``lp.layer_summary``, whose message is ``validate``'s).
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import losspattern_core as lp

from ..captions import BATCHNORM_NOTE, MPO_NOTE, T1_NOTE, T2_NOTE
from ..choice import MPO, channels_text, parse_channels
from ..mpo_run import NETWORK_NOTE, PANEL_NOTE
from ..state import AppState

SPINS = ("depth", "width", "blocks", "resnet_width", "z", "seed")
FAMILY_NAMES = {"mlp": "MLP", "cnn": "CNN", "resnet": "ResNet"}
FAMILY_ROWS = {"mlp": ("depth", "width"), "cnn": ("channels", "batchnorm", "maxpool"),
               "resnet": ("blocks", "resnet_width", "resnet_bn")}
METHODS = ((1, "Theorem 1", T1_NOTE), (2, "Theorem 2", T2_NOTE),
           (MPO, "Multi-point optimisation (Skorokhodov && Burtsev)", MPO_NOTE))


def _spin(lo: int, hi: int, step: int = 1, tip: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    return s


def _note(style: str = "color: #444;") -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label


class NetworkPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self._build_method()
        self._build_network()
        self.z = _spin(1, 3, tip="pattern dimension: 1 curve, 2 surface, 3 volume")
        self.rgb = QCheckBox("RGB (three heads)")
        self.steps = _spin(1, 1_000_000, 100, "regression steps (MPO: its optimisation steps)")
        self.grid = _spin(8, 256, 8, "grid points per direction of the measured surface")
        self.seed = _spin(0, 2**31 - 1)
        self.device = QComboBox()
        self.device.addItems(lp.available_devices())
        self._layout()
        self._show_state()
        self._connect()
        state.events.choice.connect(self._show_state)
        state.events.run.connect(lambda: self.setEnabled(not self.state.running))

    # --- widgets -------------------------------------------------------------------------------
    def _build_method(self) -> None:
        self.method = QButtonGroup(self)
        self.method_buttons = {}
        for i, (key, text, tip) in enumerate(METHODS):
            button = QRadioButton(text)   # "&&" shows one "&" (a single one is a mnemonic)
            button.setToolTip(tip)
            self.method.addButton(button, i)
            self.method_buttons[key] = button
        self.t1, self.t2, self.mpo = (self.method_buttons[k] for k, _, _ in METHODS)
        self.theorem_note = _note()

    def _build_network(self) -> None:
        self.family = QComboBox()
        for key, name in FAMILY_NAMES.items():
            self.family.addItem(name, key)
        self.family.setToolTip("network family: MLP, the small VGG-like CNN of Skorokhodov & "
                               "Burtsev, or a small ResNet")
        self.depth = _spin(2, 8, tip="hidden layers (the first carries the pattern)")
        self.width = _spin(8, 1024, 8, "units per hidden layer")
        self.channels = QLineEdit()
        self.channels.setToolTip("channels of the conv blocks, first to last, e.g. 8,32,64 "
                                 "(their Fashion-MNIST network); the first carries the pattern")
        self.batchnorm = QCheckBox("BatchNorm after each conv")
        self.maxpool = QCheckBox("MaxPool 2 after each block")
        self.blocks = _spin(1, 16, tip="residual blocks (every second one halves the image)")
        self.resnet_width = _spin(1, 1024, 4, "channels of the stem and the first blocks")
        self.resnet_bn = QLabel("BatchNorm: always on")
        self.resnet_bn.setToolTip("every residual block is conv-BN-act-conv-BN")
        self.activation = QComboBox()
        self.activation.addItems(lp.ACTIVATIONS)
        self.params = QLabel()
        self.params.setStyleSheet("font-weight: 600;")
        self.summary = _note("color: #333;")
        self.summary.setObjectName("layer-summary")
        self.problem = _note("color: #b00020; font-weight: 600;")
        self.problem.setObjectName("network-problem")

    def _layout(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        methods = QVBoxLayout()
        methods.setSpacing(1)
        for button in self.method_buttons.values():
            methods.addWidget(button)
        outer.addLayout(methods)
        outer.addWidget(self.theorem_note)
        self.form = form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        self._rows = {}
        for name, label in (("family", "network"), ("depth", "depth"), ("width", "width"),
                            ("channels", "channels"), ("batchnorm", ""), ("maxpool", ""),
                            ("blocks", "blocks"), ("resnet_width", "width"),
                            ("resnet_bn", ""), ("activation", "activation")):
            form.addRow(label, getattr(self, name))
            self._rows[name] = getattr(self, name)
        form.addRow(self.params)
        form.addRow(self.summary)
        form.addRow(self.problem)
        for label, widget in (("z", self.z), ("", self.rgb), ("steps", self.steps),
                              ("grid", self.grid), ("seed", self.seed),
                              ("device", self.device)):
            form.addRow(label, widget)
        outer.addStretch(1)

    def _connect(self) -> None:
        st = self.state
        for name in SPINS:
            getattr(self, name).valueChanged.connect(
                lambda v, name=name: st.choose(**{name: int(v)}))
        self.steps.valueChanged.connect(
            lambda v: st.choose(**{"mpo_steps" if st.choice.is_mpo else "steps": int(v)}))
        self.grid.valueChanged.connect(
            lambda v: st.choose(**{"mpo_grid" if st.choice.is_mpo else "grid": int(v)}))
        self.activation.currentTextChanged.connect(lambda t: st.choose(activation=t))
        self.device.currentTextChanged.connect(lambda t: st.choose(device=t))
        self.method.idToggled.connect(
            lambda i, on: on and st.choose(theorem=METHODS[i][0]))
        self.family.currentIndexChanged.connect(
            lambda i: st.choose(arch=self.family.itemData(i)))
        self.rgb.toggled.connect(lambda on: st.choose(rgb=bool(on)))
        self.batchnorm.toggled.connect(lambda on: st.choose(batchnorm=bool(on)))
        self.maxpool.toggled.connect(lambda on: st.choose(maxpool=bool(on)))
        self.channels.editingFinished.connect(self._channels_typed)

    def _channels_typed(self) -> None:
        try:
            channels = parse_channels(self.channels.text())
        except ValueError as exc:
            self._typed_error = str(exc)
            self._show_problem()
            return
        self._typed_error = ""
        if channels == self.state.choice.channels:
            self._show_problem()
        self.state.choose(channels=channels)

    # --- showing the state ---------------------------------------------------------------------
    def _widgets(self) -> list:
        return ([getattr(self, n) for n in SPINS] + [self.steps, self.grid, self.activation,
                self.device, self.family, self.rgb, self.batchnorm, self.maxpool, self.channels,
                self.method] + list(self.method_buttons.values()))

    def _show_state(self) -> None:
        c = self.state.choice
        widgets = self._widgets()
        for w in widgets:
            w.blockSignals(True)
        for name in SPINS:
            getattr(self, name).setValue(int(getattr(c, name)))
        self.steps.setValue(c.mpo_steps if c.is_mpo else c.steps)
        self.grid.setValue(c.mpo_grid if c.is_mpo else c.grid)
        self.activation.setCurrentText("relu" if c.is_mpo else c.activation)
        if self.device.findText(c.device) >= 0:
            self.device.setCurrentText(c.device)
        self.method_buttons.get(c.theorem, self.t1).setChecked(True)
        self.family.setCurrentIndex(self.family.findData("cnn" if c.is_mpo else c.arch))
        self.rgb.setChecked(c.rgb)
        self.batchnorm.setChecked(c.batchnorm and not c.is_mpo)
        self.maxpool.setChecked(c.maxpool or c.is_mpo)
        if not self.channels.hasFocus():
            self.channels.setText("8,32,64" if c.is_mpo else channels_text(c.channels))
        for w in widgets:
            w.blockSignals(False)
        self._show_rows(c)
        self.rgb.setEnabled(c.rgb_allowed)
        self.rgb.setToolTip("three output heads draw the red, green and blue channels (z = 2, "
                            "Theorem 1)" + ("" if c.rgb_allowed else ": not available with "
                                            "these settings"))
        note = {2: T2_NOTE, MPO: PANEL_NOTE}.get(c.theorem, "")
        self.theorem_note.setText(note)
        self.theorem_note.setToolTip(f"{MPO_NOTE} {NETWORK_NOTE}" if c.is_mpo else "")
        self.theorem_note.setVisible(bool(note))
        self._show_summary()

    def _show_rows(self, c) -> None:
        """Only the chosen family's knobs; MPO's network is fixed (their CNN), shown greyed."""
        arch = "cnn" if c.is_mpo else c.arch
        for name, widget in self._rows.items():
            own = name in ("family", "activation") or name in FAMILY_ROWS[arch]
            self.form.setRowVisible(widget, own)
            widget.setEnabled(not c.is_mpo)
        self.z.setEnabled(not c.is_mpo)
        self.steps.setToolTip("MPO optimisation steps (cap; their full run is 100 epochs)"
                              if c.is_mpo else "regression steps")
        self.grid.setToolTip("the icon's cells per side: the plane is measured at every cell, "
                             "every sample" if c.is_mpo else
                             "grid points per direction of the measured surface")

    def _show_summary(self) -> None:
        value = self.state.network_summary
        if isinstance(value, str):
            self.params.setText("")
            self.summary.setText("")
            self._network_error = value
        else:
            self._network_error = ""
            self.params.setText(f"{FAMILY_NAMES[value.family]} · {value.params:,} parameters"
                                .replace(",", " "))
            rows = html.escape(value.text())
            zeroed = rows.replace("⟵", "<b style='color:#9a3b00'>⟵").replace(" · ", "</b> · ", 1) \
                if "⟵" in rows else rows
            bn = f"<br><i>{BATCHNORM_NOTE}</i>" if value.batchnorm else ""
            self.summary.setText(f"{zeroed}{bn}")
        for label in (self.params, self.summary):   # no empty rows above a refusal
            self.form.setRowVisible(label, bool(label.text()))
        self._show_problem()

    def _show_problem(self) -> None:
        parts = [getattr(self, "_typed_error", ""), getattr(self, "_network_error", "")]
        text = " ".join(p.rstrip(".") + "." for p in parts if p)
        if parts[1]:
            text += " Start is disabled until the network fits the data."
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
