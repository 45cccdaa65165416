"""Surfaces to the formats other tools read, and loss-landscape's h5 back in.

    from losspattern_core.exports import FORMATS, export_surface, open_surfaces

    data = open_surfaces("runs/smiley")            # a bundle folder, or a loss-landscape .h5
    [f.name for f in formats_for(data)]            # what this surface can be exported as
    export_surface(data, "vtp", "smiley.vtp")
    export_surface(data, "mp4", "turn.mp4", animation="turntable", fps=24, size=(800, 600),
                   progress=on_progress, cancel=should_stop)

Every exporter takes a :class:`SurfaceSet` (plain numpy arrays, coordinates, labels), writes
through a temporary file renamed into place (nothing half-written, the user's umask applied)
and raises :class:`ExportError` (a ``LossPatternError``) with the file and the problem.
Modules load on first use: importing this package imports no writer library.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from losspattern_core.errors import ConfigError
from losspattern_core.exports.atomic import ExportCancelled, ExportError, checkpoint
from losspattern_core.exports.sources import open_surfaces, surfaces_from_bundle, surfaces_from_run
from losspattern_core.exports.surfaces import SurfaceSet

_PLANE = ("source", "head", "slice_at")
_ANIM = ("animation", "snapshots", "total_steps", "fps", "size", "frames", "cmap",
         "elevation", "value_range") + _PLANE


@dataclass(frozen=True)
class ExportFormat:
    """One entry of the Export menu."""

    name: str                    # "vtp": the --format value and the file suffix
    label: str                   # what a menu shows
    kind: str                    # "data", "mesh", "animation" or "figure"
    min_z: int                   # surfaces of z in [min_z, max_z] can be written
    max_z: int
    target: str                  # "module:function" that writes it
    options: tuple[str, ...]     # the keyword options it takes
    hint: str = ""               # what to use instead for a z it does not take

    @property
    def suffix(self) -> str:
        return "." + self.name

    def accepts(self, data: SurfaceSet) -> bool:
        return self.min_z <= data.z <= self.max_z

    def writer(self) -> Callable:
        module, func = self.target.split(":")
        return getattr(importlib.import_module(f"losspattern_core.exports.{module}"), func)


CURVE = "a z = 1 curve: export it as h5, svg, pdf, mp4 or gif"


def _fmt(name, label, kind, min_z, max_z, target, options, hint=CURVE) -> ExportFormat:
    return ExportFormat(name, label, kind, min_z, max_z, target, tuple(options), hint)


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    _fmt("h5", "loss-landscape surface (.h5)", "data", 1, 2, "h5:export_h5", ["head"],
         "export a volume as .vti, or a plane of it as .vtp"),
    _fmt("vtp", "ParaView surface (.vtp)", "data", 2, 99, "vtk:export_vtp",
         _PLANE + ("exaggeration",)),
    _fmt("vti", "ParaView volume (.vti)", "data", 3, 99, "vtk:export_vti",
         ("head", "slice_at"), "a surface: export it as .vtp"),
    _fmt("ply", "coloured mesh (.ply)", "mesh", 2, 99, "meshes:export_ply",
         _PLANE + ("exaggeration", "cmap", "value_range")),
    _fmt("obj", "coloured mesh (.obj)", "mesh", 2, 99, "meshes:export_obj",
         _PLANE + ("exaggeration", "cmap", "value_range")),
    _fmt("glb", "glTF binary mesh (.glb)", "mesh", 2, 99, "meshes:export_glb",
         _PLANE + ("exaggeration", "cmap", "value_range")),
    _fmt("stl", "3-D print solid (.stl)", "mesh", 2, 99, "meshes:export_stl",
         _PLANE + ("exaggeration", "size", "base")),
    _fmt("mp4", "video (.mp4)", "animation", 1, 99, "animation:export_animation", _ANIM),
    _fmt("gif", "animated GIF (.gif)", "animation", 1, 99, "animation:export_animation", _ANIM),
    _fmt("svg", "figure (.svg)", "figure", 1, 99, "vector:export_figure", ("head", "dpi")),
    _fmt("pdf", "figure (.pdf)", "figure", 1, 99, "vector:export_figure", ("head", "dpi")),
)}


def formats_for(data: SurfaceSet) -> list[ExportFormat]:
    """The formats this surface can be written as (by its dimension z)."""
    return [f for f in FORMATS.values() if f.accepts(data)]


def export_surface(data: SurfaceSet, fmt: str, out: str | os.PathLike, *,
                   progress: Callable[[int, int], None] | None = None,
                   cancel: Callable[[], bool] | None = None, overwrite: bool = False,
                   **options) -> Path:
    """Write ``data`` as ``fmt`` (a key of ``FORMATS``) to ``out``; returns the path.

    ``options`` are the format's (``FORMATS[fmt].options``); ``progress(done, total)`` and
    ``cancel()`` (True: stop, leave nothing) are honoured per frame by animations and before
    and after the write by the others."""
    spec = FORMATS.get(str(fmt).lower().lstrip("."))
    if spec is None:
        raise ConfigError(f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    if not spec.accepts(data):
        raise ExportError(f"cannot write {out}: {spec.label} takes z = {spec.min_z}"
                          + (f"..{spec.max_z}" if spec.max_z < 99 else " or more")
                          + f"; this surface has z = {data.z} ({spec.hint})")
    unknown = sorted(k for k, v in options.items() if v is not None and k not in spec.options)
    if unknown:
        raise ConfigError(f"option {', '.join(unknown)} does not apply to {spec.label} "
                          f"(it takes: {', '.join(spec.options)})")
    options = {k: v for k, v in options.items() if v is not None}
    if Path(out).suffix.lower() != spec.suffix:
        raise ExportError(f"cannot write {out}: a {spec.label} file must end in {spec.suffix}")
    if spec.kind == "animation":
        return spec.writer()(data, out, progress=progress, cancel=cancel, overwrite=overwrite,
                             **options)
    checkpoint(cancel, progress, 0, 1)
    path = spec.writer()(data, out, overwrite=overwrite, **options)
    if progress is not None:
        progress(1, 1)
    return path


def export_bundle(bundle: str | os.PathLike, fmt: str, out: str | os.PathLike,
                  **options) -> Path:
    """``export_surface`` of a bundle folder or an ``.h5`` file (``open_surfaces``)."""
    return export_surface(open_surfaces(bundle), fmt, out, **options)


def import_loss_landscape_h5(path: str | os.PathLike) -> SurfaceSet:
    """A loss-landscape ``.h5`` as a ``SurfaceSet`` in our orientation (see ``h5``)."""
    from losspattern_core.exports.h5 import import_loss_landscape_h5 as read

    return read(path)


__all__ = ["FORMATS", "ExportCancelled", "ExportError", "ExportFormat", "SurfaceSet",
           "export_bundle", "export_surface", "formats_for", "import_loss_landscape_h5",
           "open_surfaces", "surfaces_from_bundle", "surfaces_from_run"]
