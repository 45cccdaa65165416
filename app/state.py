"""The application's state, Qt-free: what is chosen, each run with the settings it was measured
with, and what each view shows. Panels write it; views and panels observe it.

A tiny evented model (after napari's and glue's): ``AppState.events`` has one ``Event`` per
topic, and every change ends by emitting the topics it touched, in a fixed order:

* ``choice``: the chosen settings, the loaded pattern or dataset, the loss range's validity;
* ``result``: the finished run (or its re-measurement) changed;
* ``view``: what the views are set to (3-D source, colormap, slices, tab);
* ``shown``: the data the views draw (``AppState.shown``, see ``shown.py``);
* ``run``: the live activity (progress, phase, outcome, regression curve).

The runs (the live one, the last finished one, the activity) are kept by ``state.runs``
(``runs.py``); what the views draw from all this is derived in ``shown.py``. Observers read
the state when called; one that writes it back from a callback goes through the same public
methods (which emit again).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

import losspattern_core as lp

from .choice import FALLBACK_PATTERN, Choice, is_function, pattern_allowed
from .events import TOPICS, Events
from .mpo_run import is_mpo, resolve_choice
from .network_check import NetworkCheck
from .opened_run import chosen_config
from .opened_run import show as show_opened
from .records import Progress, Run
from .runs import Runs
from .shown import PREVIEW_GRID, Shown, shown_of
from .view_state import ViewControls, ViewState

CHOICE_FIELDS = {f.name for f in dataclasses.fields(Choice)} - {"dataset"}
LOSS = "cross_entropy"   # the app's runs use the core's default loss


def load_dataset_now(spec: str, loaded, failed) -> None:
    """The plain dataset loader (no thread): calls ``loaded(spec, ds)`` or ``failed(spec, msg)``."""
    try:
        ds = lp.load_dataset(spec)
    except lp.LossPatternError as exc:
        failed(spec, str(exc))
    else:
        loaded(spec, ds)


def not_a_dataset_file(spec: str) -> str | None:
    """Why a typed path cannot be a dataset file (only .npz files are), judged from its name
    alone; None for a spec (``digits``, ``mnist:path=...``) or an .npz path."""
    if ":" in spec.split("/")[0] or ("/" not in spec and "." not in spec):
        return None
    suffix = Path(spec).suffix.lower()
    if suffix and suffix != ".npz":
        return (f"{Path(spec).name} is not a dataset file: a dataset file is an .npz with "
                f"arrays X and y (see README), or a name such as digits")
    return None


class AppState(ViewControls):
    """See the module docstring. ``load_dataset(spec, loaded, failed)`` loads a dataset and
    reports back on the state's thread (the app passes a threaded loader). The view-setting
    methods come from ``ViewControls`` (``view_state.py``)."""

    def __init__(self, load_dataset=None) -> None:
        self.events = Events()
        self.choice = Choice()
        self.pattern: lp.Pattern | None = None
        self._pattern_key = None
        self.dataset: lp.Dataset | None = None
        self.dataset_loading: str | None = None   # the spec being loaded
        self.dataset_error = ""
        self.floor: float | None = None           # H(π) of the loaded dataset's train labels
        self.runs = Runs(self._notify)
        self.opened: dict = {}   # run id -> OpenedSource: runs reopened from disk (opened_run.py)
        self.view = ViewState()
        self._network = NetworkCheck()
        self._load_dataset = load_dataset or load_dataset_now
        self._preview: tuple = (None, "")
        self.choice, self.pattern = self._with_pattern(self.choice, asked=True)
        self._pattern_key = self.choice.pattern_key()
        self.shown = Shown("empty", problem="loading the dataset…")

    # --- what is chosen ------------------------------------------------------------------------
    def choose(self, **fields) -> None:
        """Change chosen settings (any ``Choice`` field; ``dataset`` starts loading one).

        Raises ``lp.LossPatternError`` and changes nothing when an asked-for pattern cannot be
        used; a pattern that does not exist in a new mode (an image at z != 2) falls back to
        a function pattern."""
        dataset = fields.pop("dataset", None)
        unknown = set(fields) - CHOICE_FIELDS
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        new = dataclasses.replace(self.choice, **fields).normalised()
        if new != self.choice:
            pattern = self.pattern
            if new.pattern_key() != self._pattern_key:
                new, pattern = self._with_pattern(new, asked="pattern" in fields)
            self.choice, self.pattern, self._pattern_key = new, pattern, new.pattern_key()
            self._notify("choice", "shown")
        if dataset is not None:
            self.request_dataset(str(dataset))

    def _with_pattern(self, new: Choice, asked: bool) -> tuple[Choice, lp.Pattern]:
        if not pattern_allowed(new.pattern, new.z):
            if asked:
                raise lp.PatternError(f"{new.pattern} is an image, a 2-D pattern; set z = 2 "
                                      f"first (now z = {new.z}).")
            new = dataclasses.replace(new, pattern=FALLBACK_PATTERN)
        smooth = None if is_function(new.pattern) else new.smooth
        try:
            return new, lp.load_pattern(new.pattern, z=new.z, smooth=smooth, rgb=new.rgb)
        except lp.LossPatternError:
            if asked or new.pattern == FALLBACK_PATTERN:
                raise
            new = dataclasses.replace(new, pattern=FALLBACK_PATTERN)
            return new, lp.load_pattern(FALLBACK_PATTERN, z=new.z, rgb=new.rgb)

    def request_dataset(self, spec: str) -> None:
        """Start loading ``spec``; the loaded dataset stays chosen until the new one arrives."""
        spec = spec.strip()
        if not spec or spec == self.dataset_loading:
            return
        if spec == self.choice.dataset and self.dataset is not None:
            if self.dataset_loading is not None:   # back to the current one: drop the other
                self.dataset_loading = None
                self._notify("choice")
            return
        problem = not_a_dataset_file(spec)
        if problem:
            still = f" — still using {self.choice.dataset}" if self.choice.dataset else ""
            self.dataset_loading, self.dataset_error = None, problem + still
            self._notify("choice")
            return
        self.dataset_loading, self.dataset_error = spec, ""
        self._notify("choice")
        self._load_dataset(spec, self.dataset_loaded, self.dataset_failed)

    def dataset_loaded(self, spec: str, ds: lp.Dataset) -> None:
        """A dataset arrived; a superseded request's is dropped. The loss range is kept when
        still possible for the new floor, else reset to the default."""
        if spec != self.dataset_loading:
            return
        self.dataset_loading, self.dataset = None, ds
        self.floor = float(lp.floor(ds.marginal("train"), LOSS))
        rng = self.choice.loss_range
        if rng is None or self._range_problem(rng) is not None:
            default = lp.default_loss_range(self.floor)
            rng = (default.low, default.high)
        self.choice = dataclasses.replace(self.choice, dataset=spec, loss_range=rng)
        self._notify("choice", "shown")

    def dataset_failed(self, spec: str, message: str) -> None:
        if spec != self.dataset_loading:
            return
        self.dataset_loading = None
        still = f" — still using {self.choice.dataset}" if self.choice.dataset else ""
        self.dataset_error = f"could not load {spec}: {message}{still}"
        self._notify("choice")

    def _range_problem(self, rng) -> str | None:
        if self.floor is None or rng is None:
            return None
        try:
            lp.check_loss_range(float(rng[0]), float(rng[1]), self.floor, LOSS)
        except lp.ConfigError as exc:
            return str(exc).split(", e.g.")[0] + "."
        return None

    @property
    def loss_range_problem(self) -> str | None:
        """Why the chosen loss range is impossible for the dataset (None: it is possible)."""
        return self._range_problem(self.choice.loss_range)

    @property
    def ready(self) -> bool:
        """A dataset is loaded and none is loading."""
        return self.dataset is not None and self.dataset_loading is None

    @property
    def live(self) -> Run | None:
        """The run under way (see ``runs.py``: the controller's signals go to ``runs``)."""
        return self.runs.live

    @property
    def result(self) -> Run | None:
        """The last finished run, with the settings it was measured with."""
        return self.runs.result

    @property
    def progress(self) -> Progress:
        return self.runs.progress

    @property
    def running(self) -> bool:
        return self.runs.running

    @property
    def can_remeasure(self) -> bool:
        """A finished run is what the views show (its settings are the chosen ones) and
        nothing runs: Re-measure applies to it."""
        r = self.result
        return (r is not None and r.finished and r.construction is not None and not is_mpo(r)
                and not self.running and self.shown.run_id == r.run_id)

    def show_run(self, run_id: int) -> bool:
        """Show the finished run ``run_id`` again, with its settings chosen (so that its views
        are not stale); False while a run is under way or for an unknown id."""
        if run_id in self.opened:   # a reopened bundle: its own way (opened_run.py)
            return show_opened(self, run_id)
        if not self.runs.show(run_id):
            return False
        fields = Choice.fields_of_config(self.result.config)
        try:
            self.choose(**fields)
        except lp.LossPatternError:   # its image is gone: the run is shown as stale
            pass
        return True

    def note(self, message: str) -> None:
        """A message for the run panel (e.g. why Start did nothing)."""
        self.runs.note(message)

    def start_problem(self) -> str | None:
        """Why Start cannot run now (None: it can)."""
        if self.running:
            return "a run is under way"
        if not self.ready:
            return "the dataset is still loading; start again when it is in place."
        return self.network_problem or self.loss_range_problem

    @property
    def network_summary(self) -> lp.NetworkSummary | str:
        """The network the next run builds (layers, parameters, the zeroed layer), or the
        core's message why it cannot be built for the loaded data ("" before any data)."""
        return self._network.of(self.choice, self.dataset)

    @property
    def network_problem(self) -> str | None:
        """Why the chosen network cannot take the loaded data (None: it can)."""
        return self._network.problem(self.choice, self.dataset)

    def preview(self) -> tuple[lp.Resolved, np.ndarray] | str:
        """The chosen settings validated by the core, with their target on a preview grid;
        or why there is none. Cached per settings."""
        if self.dataset is None:
            return "loading the dataset…"
        problem = self.loss_range_problem
        if problem:
            return f"the loss range is impossible: {problem}"
        cfg = self.choice.config()
        key = (cfg, id(self.pattern), id(self.dataset))
        if self._preview[0] != key:
            try:
                r = resolve_choice(cfg, self.dataset, self.pattern)
                value = (r, r.target(min(cfg.grid, PREVIEW_GRID.get(cfg.z, 12))))
            except lp.LossPatternError as exc:
                value = str(exc)
            self._preview = (key, value)
        return self._preview[1]

    def stale_differences(self) -> tuple[str, ...]:
        """Settings in which the chosen ones differ from the finished run's (empty: none)."""
        return self.shown.stale.differences if self.shown.stale is not None else ()

    # --- persistence ---------------------------------------------------------------------------
    def saved(self) -> dict:
        return {"choice": self.choice.to_json(), "view": self.saved_view()}

    def restore(self, saved: dict) -> None:
        """Apply what ``saved`` returned; unreadable or impossible parts are skipped."""
        fields = Choice.fields_from_json(saved.get("choice") or {})
        try:
            self.choose(**fields)
        except lp.LossPatternError:
            fields.pop("pattern", None)
            self.choose(**fields)
        view = saved.get("view")
        self.restore_view(view if isinstance(view, dict) else {})

    # --- notification --------------------------------------------------------------------------
    def _notify(self, *topics: str) -> None:
        todo = set(topics)
        if "shown" in todo:
            self.shown = shown_of(self.live, self.result, chosen_config(self), self.preview)
            if self._follow_minimum():
                todo.add("view")
        for topic in TOPICS:
            if topic in todo:
                getattr(self.events, topic).emit()
