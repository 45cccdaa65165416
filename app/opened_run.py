"""A reopened bundle as a finished run (Qt-free): the same ``records.Run`` a construction
leaves behind, built from what the core's ``lp.reopen_bundle`` read, plus where it came from.

An opened run is shown like any finished run: its settings are chosen in the panels as far
as the panels can hold them. Settings they cannot hold (the network family, the learning
rate, a pattern whose file is gone, a dataset that is not here) are ``fixed``: they never
make the run stale, while any setting the user changes in a panel does (``chosen_config``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import losspattern_core as lp

from .choice import MPO, Choice, MpoRunConfig, is_function
from .records import SPLITS, Layer, Progress, Run

CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(lp.ConstructionConfig))
# the run settings that the panels hold (the Choice may hold more, e.g. other modes' settings)
CHOOSABLE = frozenset(f.name for f in dataclasses.fields(Choice)) & CONFIG_FIELDS
KIND_WORDS = {"construction": "construction", "explore": "explored landscape",
              "mpo": "multi-point optimisation baseline", "h5": "loss-landscape surface file"}
METHOD_WORDS = {"theorem1": "Theorem 1", "theorem2": "Theorem 2", "explore": "explored",
                "mpo": "MPO baseline", "h5": "h5 file"}


@dataclass(frozen=True)
class OpenedSource:
    """Where an opened run came from: the folder or file, what kind it is, its recorded
    provenance, what could not be rebuilt here (``notes``), and the settings the panels
    cannot choose for it (``fixed``)."""

    path: Path
    kind: str
    method: str
    created: str
    checksums: str
    notes: tuple[str, ...]
    fixed: frozenset[str]
    alpha_range: tuple[tuple[float, float], ...] = ()
    surfaces: object = None   # the core's SurfaceSet as read (the exporters take it as is)

    @property
    def label(self) -> str:
        """A short name for lists and captions: "<folder name> (Theorem 1)"."""
        return f"{self.path.name} ({METHOD_WORDS.get(self.method, self.method)})"

    def caption(self) -> str:
        """The line that says where the shown run came from."""
        made = f", made {self.created}" if self.created else ""
        return f"opened from {self.path} — {KIND_WORDS.get(self.kind, self.kind)}{made}"


def fixed_settings(opened) -> frozenset[str]:
    """Settings of ``opened.config`` that the panels cannot choose for it."""
    fixed = set(CONFIG_FIELDS - CHOOSABLE)
    r = opened.resolved
    if r.pattern.source in ("target.npy", "none") or opened.kind == "h5":
        fixed |= {"pattern", "smooth"}
    if not len(r.dataset.y):
        fixed.add("dataset")
    if opened.kind != "construction":
        fixed |= {"theorem", "steps", "rgb"}
    return frozenset(fixed)


def source_of(opened) -> OpenedSource:
    meta = opened.meta
    return OpenedSource(Path(opened.path), opened.kind, opened.method,
                        str(meta.get("created", "")), _checksums(opened), tuple(opened.notes),
                        fixed_settings(opened),
                        tuple((float(lo), float(hi)) for lo, hi in opened.surfaces.alpha_range),
                        opened.surfaces)


def _checksums(opened) -> str:
    if opened.kind == "h5":
        return "an h5 file (no checksums)"
    return "checksums match" if "checksums" in opened.meta else \
        "no checksums recorded (an older bundle)"


def run_from_opened(run_id: int, opened) -> Run:
    """The finished ``Run`` of a reopened bundle: the saved arrays as its surfaces (exactly,
    at the saved grid), its metrics.json as its metrics, its network (if rebuilt) to
    re-measure and export."""
    config = opened.config
    if config.smooth is None and not is_function(config.pattern):
        config = config.replace(smooth=1.0)   # what None means for an image (as the app says)
    if opened.kind == "mpo":   # the app's MPO runs say so in their config (choice.py)
        config = MpoRunConfig(**{**dataclasses.asdict(config), "theorem": MPO})
    grid = config.grid
    saved = opened.surfaces.surfaces
    surfaces = {s: Layer(saved[s], grid, grid) for s in SPLITS if s in saved}
    measurement = lp.Measurement({s: saved[s] for s in SPLITS if s in saved}, {},
                                 dict(opened.metrics))
    timings = opened.metrics.get("timings") or {}
    seconds = sum(v for k, v in timings.items() if k.endswith("_s")
                  and isinstance(v, (int, float))) or None
    return Run(run_id, config, opened.resolved, saved.get("target"), target_final=True,
               surfaces=surfaces, finished=True, metrics=dict(opened.metrics),
               construction=opened.construction, measurement=measurement, seconds=seconds)


def chosen_config(state) -> lp.ConstructionConfig:
    """The chosen settings as the shown run is judged by: for an opened run, its ``fixed``
    settings are taken as chosen (the panels cannot hold them)."""
    cfg = state.choice.config()
    run = state.result
    source = state.opened.get(run.run_id) if run is not None else None
    if source is None:
        return cfg
    return cfg.replace(**{f: getattr(run.config, f) for f in source.fixed})


def register(state, run: Run, source: OpenedSource) -> bool:
    """Put an opened run into the history and show it, its settings chosen; False (and a
    note) while a run is under way: it waits in the history."""
    state.opened[run.run_id] = source
    state.runs.saved.add(run.run_id)   # it is on disk already: closing loses nothing
    state.runs.history.append(run)
    if not show(state, run.run_id):
        state.runs.note(f"{source.label} is in the Runs list: it can be shown when the run "
                        "under way ends")
        return False
    return True


def show(state, run_id: int) -> bool:
    """Show a finished run again (not while a run is under way); an opened one with the
    outcome "opened" (its metrics may hold no fidelity: an h5 file, an explored landscape)
    and its choosable settings chosen."""
    source = state.opened.get(run_id)
    if source is None:
        return state.show_run(run_id)
    runs = state.runs
    found = [r for r in runs.history if r.run_id == run_id]
    if not found or runs.running or runs.live is not None:
        return False
    runs.result = found[0]
    runs.progress = Progress(outcome="opened", message=(
        f"run {run_id} opened from {source.path} ({KIND_WORDS.get(source.kind, source.kind)})"
        f"{'; ' + '; '.join(source.notes) if source.notes else ''}."))
    state._notify("result", "shown", "run")   # as every change of the runs ends
    choose_settings_of(state, runs.result, source)
    return True


def choose_settings_of(state, run: Run, source: OpenedSource) -> None:
    """Choose the run's settings in the panels, those the panels can hold for it."""
    cfg = run.config
    fields = {f: getattr(cfg, f) for f in CHOOSABLE - source.fixed - {"dataset"}}
    if fields.get("smooth") is None:
        fields.pop("smooth", None)
    if fields.get("loss_range") is not None:
        fields["loss_range"] = tuple(fields["loss_range"])
    dataset = None if "dataset" in source.fixed else cfg.dataset
    try:
        state.choose(dataset=dataset, **fields)
    except lp.LossPatternError:   # the pattern cannot be chosen after all: it stays fixed
        fields.pop("pattern", None)
        fields.pop("smooth", None)
        state.choose(dataset=dataset, **fields)


def provenance_lines(run: Run, source: OpenedSource) -> list[str]:
    """What the shown opened run is, line by line (for captions and the compare view)."""
    cfg = run.config
    lines = [source.caption(),
             f"{METHOD_WORDS.get(source.method, source.method)}, {cfg.dataset or 'dataset ?'}, "
             f"pattern {run.resolved.pattern.name}, z = {cfg.z}, grid {cfg.grid}, "
             f"seed {cfg.seed}, {cfg.arch} network", source.checksums]
    return lines + list(source.notes)


def opened_caption(state) -> str:
    """" — opened from DIR …" when the views show an opened run, else ""."""
    source = state.opened.get(state.shown.run_id)
    if source is None or state.shown.origin not in ("result", "remeasure"):
        return ""
    return " — " + source.caption()
