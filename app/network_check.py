"""The chosen network checked and summarised for the network panel (Qt-free).

``NetworkCheck.of(choice, dataset)`` gives the core's ``NetworkSummary`` of what the next run
would build (family, layers, parameter count, the zeroed layer marked), or the core's own
message why it cannot be built for this data (too many pooling stages for the image size,
z larger than the first layer's channels, ...). The answer is cached per network setting.
"""

from __future__ import annotations

import losspattern_core as lp

from .choice import Choice

NETWORK_KEYS = ("theorem", "z", "rgb", "arch", "depth", "width", "channels", "batchnorm",
                "maxpool", "blocks", "resnet_width", "activation")


PANEL_WORDS = (("--no-maxpool", "MaxPool off"), ("--channels ", "channels "),
               ("--arch mlp", "the MLP family"), ("--width", "width"), ("--depth", "depth"))


def in_panel_words(message: str) -> str:
    """The core's message with its command-line option names as the panel's fields."""
    for option, field in PANEL_WORDS:
        message = message.replace(option, field)
    return message


class NetworkCheck:
    """A cache of the last answer (the panel asks on every change of the choice)."""

    def __init__(self) -> None:
        self._key = None
        self._value: lp.NetworkSummary | str = ""

    def of(self, choice: Choice, dataset) -> lp.NetworkSummary | str:
        """The summary, or why the network cannot be built ("" while no dataset is loaded)."""
        if dataset is None:
            return ""
        cfg = choice.config()
        key = (tuple(getattr(cfg, k) for k in NETWORK_KEYS), id(dataset))
        if key != self._key:
            self._key, self._value = key, self._compute(cfg, dataset, choice.is_mpo)
        return self._value

    @staticmethod
    def _compute(cfg, dataset, mpo: bool) -> lp.NetworkSummary | str:
        if mpo:
            cfg = cfg.construction_equivalent()
        try:
            return lp.layer_summary(cfg, dataset, zeroed=not mpo)
        except lp.LossPatternError as exc:
            return in_panel_words(str(exc))

    def problem(self, choice: Choice, dataset) -> str | None:
        """Why the chosen network cannot run on ``dataset`` (None: it can, or no data yet)."""
        value = self.of(choice, dataset)
        return value if isinstance(value, str) and value else None
