"""LossPattern's core: construct, measure and verify loss surfaces (torch + numpy, no GUI).

The public API, everything a front end needs (the app and the CLI use only these names)::

    import losspattern_core as lp

    resolved = lp.validate(lp.ConstructionConfig(pattern="smiley", dataset="digits"))
    con = lp.drive(lp.construct(resolved), on_frame)          # or iterate: each frame cancels
    m = lp.measure_surfaces(con)                               # exact train/test surfaces
    metrics = lp.construction_metrics(con, m)
    lp.save_bundle("out/smiley", con, m, metrics)
    lp.verify(lp.load_bundle("out/smiley"))

Groups: **config** (``ConstructionConfig``, ``validate`` — the one validation gate,
``available_devices``); **run** (``construct``, ``drive``, ``Frame``, ``Construction``,
``ease_comparison``); **measure** (``measure_surfaces[_progressive]``, ``progressive_surface``,
``construction_metrics``, ``fidelity_per_head``, ``summary_lines``, ``transfer``);
**evaluate** (``evaluate_points``, ``loss_surface``, ``naive_surface``, ``Direction``,
``random_direction``); **explore** (``ExploreConfig``, ``explore_run`` — a generator of
training ``Frame``s then ``SurfaceLevel``s coarse to fine, returning an ``ExploreResult``;
cancel by stopping or with its ``cancel`` Event, ``ExploreCancelled`` —, ``prepare_explore`` /
``measure_levels`` (its two halves), ``explore_metrics``, ``explore_figure``,
``save_explore_bundle``, ``load_explore_bundle``; ``bundle_analysis`` for any bundle);
**bundles** (``save_bundle``, ``load_bundle``, ``verify``); **data**
(datasets and patterns); **errors** (``LossPatternError`` and its kinds).

Names load on first use (PEP 562), so ``import losspattern_core`` stays light (no torch) for
a command line's ``--help`` or a GUI's first paint.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_NAMES: dict[str, str] = {
    # config
    "ConstructionConfig": "config", "Resolved": "config", "validate": "config",
    "available_devices": "config", "resolve_device": "config",
    # run
    "Frame": "frames", "drive": "frames",
    "construct": "constructions", "Construction": "constructions.common",
    "build_theorem2_network": "constructions.theorem2",
    "ease_comparison": "measure.ease", "ease_lines": "measure.ease",
    "train_ordinary": "training",
    # measure
    "Measurement": "measure.metrics", "measure_surfaces": "measure.metrics",
    "measure_surfaces_progressive": "measure.metrics",
    "construction_metrics": "measure.metrics", "fidelity_per_head": "measure.metrics",
    "summary_lines": "measure.metrics", "progressive_surface": "measure.progressive",
    "transfer": "measure.transfer", "transfer_lines": "measure.transfer",
    # evaluate
    "evaluate_points": "surface", "loss_surface": "surface:surface", "naive_surface": "surface",
    "Direction": "surface", "random_direction": "surface", "prepare": "surface",
    "params_at": "surface", "outputs_at": "surface",
    "first_layer_bias_directions": "constructions.common",
    # explore: ordinary networks' landscapes, and the analysis of any surface
    "filter_normalized_directions": "explore", "interpolation": "explore",
    "trajectory_pca": "explore", "hessian_directions": "explore",
    "train_trajectory": "explore", "split_loss": "explore", "model_at": "explore",
    "hutchinson_trace": "explore",
    "network_spec": "config", "build_network": "networks", "as_input": "networks",
    "analyse_surface": "measure.analysis", "sharpness": "measure.analysis",
    "persistence_diagram": "measure.persistence", "basin_count": "measure.persistence",
    "bottleneck_distance": "measure.persistence",
    # the explore run (a generator the GUI drives) and its bundle
    "ExploreConfig": "explore.config", "resolve_explore": "explore.config",
    "explore_run": "explore.run:explore", "prepare_explore": "explore.run",
    "measure_levels": "explore.run", "SurfaceLevel": "explore.run",
    "ExploreResult": "explore.run", "ExploreCancelled": "explore.run",
    "explore_metrics": "explore.report", "explore_lines": "explore.report",
    "explore_figure": "explore.figure",
    "save_explore_bundle": "io.explore_bundle", "load_explore_bundle": "io.explore_bundle",
    "ExploreBundle": "io.explore_bundle",
    "bundle_analysis": "measure.analysis", "analysis_lines": "measure.analysis",
    "construction_analysis": "measure.analysis",
    # the network a run builds, summarised; the multi-point optimisation (Skorokhodov & Burtsev)
    "layer_summary": "networks.summary", "NetworkSummary": "networks.summary",
    "LayerRow": "networks.summary",
    "MpoConfig": "constructions.mpo", "validate_mpo": "constructions.mpo",
    "construct_mpo": "constructions.mpo:construct",
    "mpo_point_surface": "constructions.mpo_surface:point_surface",
    "save_mpo_bundle": "constructions.mpo_bundle", "icon_metrics": "measure.compare_mpo",
    "icon_to_grid": "constructions.mpo_mask:image_to_grid",
    "mpo_binary_icon": "constructions.mpo_mask:binary_icon",
    # exports: the formats other tools read, and loss-landscape h5 import
    "export_surface": "exports", "formats_for": "exports", "open_surfaces": "exports",
    "surfaces_from_run": "exports", "import_loss_landscape_h5": "exports",
    # bundles
    "save_bundle": "io.bundle", "load_bundle": "io.bundle", "Bundle": "io.bundle",
    "read_bundle_arrays": "io.bundle", "BundleArrays": "io.bundle",
    "reopen_bundle": "io.reopen", "Reopened": "io.reopen",
    "check_image_size": "io.options", "check_output_file": "io.options",
    "verify": "measure.verify", "any_figure": "io.figure",
    # clusters: grid chunks as Ray tasks (optional extra [ray]; Ray is imported only when used)
    "ray_surfaces": "distributed", "RayUnavailable": "distributed",
    # data
    "Dataset": "data.datasets", "load_dataset": "data.datasets",
    "available_datasets": "data.datasets",
    "Pattern": "data.patterns", "load_pattern": "data.patterns",
    "available_patterns": "data.patterns", "builtin_images": "data.patterns",
    "PATTERN_FUNCTIONS": "data.patterns", "LossRange": "data.patterns",
    "check_loss_range": "data.patterns", "default_loss_range": "data.patterns",
    "default_grid": "data.patterns",
    "PATTERN_ASPECTS": "data.patterns:ASPECTS", "DEFAULT_ASPECT": "data.patterns",
    # the grid
    "grid_points": "grid", "range_points": "grid", "grid_array": "grid",
    "level_indices": "grid", "subgrid_indices": "grid",
    "ACTIVATIONS": "networks", "floor": "losses",
    # errors
    "LossPatternError": "errors", "ConfigError": "errors", "DatasetError": "errors",
    "PatternError": "errors", "BundleError": "errors", "ConstructionError": "errors",
    # runtime
    "configure_threads": "runtime",
}

__all__ = sorted(_NAMES)


# A facade name must never equal a subpackage's name (importing ``losspattern_core.surface``
# would replace the attribute): the packages are ``constructions`` and ``surface``, the
# functions ``construct`` and ``loss_surface``.


def __getattr__(name: str):
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'losspattern_core' has no attribute {name!r}")
    module, _, attr = module.partition(":")   # "module:attr" when the names differ
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value   # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .config import ConstructionConfig, Resolved, available_devices, resolve_device, validate  # noqa: F401
    from .constructions import construct  # noqa: F401
    from .constructions.common import Construction  # noqa: F401
    from .errors import (  # noqa: F401
        BundleError,
        ConfigError,
        ConstructionError,
        DatasetError,
        LossPatternError,
        PatternError,
    )
    from .frames import Frame, drive  # noqa: F401
