"""Meshes for other 3-D tools and for printing: ``.ply``, ``.obj``, ``.glb`` and ``.stl``.

``.ply``, ``.obj``, ``.glb``: the surface as a height field at (α1, α2, exaggeration · loss),
each vertex coloured by a matplotlib colormap over a loss range (default: the range of every
source shown, so files of train and test share one scale). ``.stl``: a closed, printable solid
— the surface on a flat base with walls — scaled so its longer side is ``size`` mm; at
exaggeration 1 one loss unit is as tall as one α unit is long. trimesh writes all four.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from losspattern_core.errors import ConfigError
from losspattern_core.exports.atomic import ExportError, write_export
from losspattern_core.exports.surfaces import SurfaceSet, plane
from losspattern_core.exports.vtk import height_field_mesh

MESH_TYPES = {"ply": "PLY mesh", "obj": "OBJ mesh", "glb": "glTF binary (.glb) mesh"}


def colormap_rgba(values: np.ndarray, cmap: str = "viridis",
                  value_range: tuple[float, float] | None = None) -> np.ndarray:
    """(n,) values -> (n, 4) uint8 colours of ``cmap`` over ``value_range`` (clipped)."""
    import matplotlib

    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ConfigError(f"unknown colormap {cmap!r} (matplotlib's names: viridis, magma, "
                          "coolwarm, ...)") from None
    lo, hi = value_range if value_range is not None else (float(values.min()),
                                                           float(values.max()))
    if not hi > lo:
        hi = lo + 1e-9
    return colormap(np.clip((values - lo) / (hi - lo), 0.0, 1.0), bytes=True)


def _write_encoded(tmp: Path, encoded: bytes | str) -> None:
    """trimesh encodes in memory; the file is written here (one place for disk errors)."""
    tmp.write_bytes(encoded.encode("utf-8") if isinstance(encoded, str) else encoded)


def _height_field(data: SurfaceSet, source: str | None, head: int, slice_at, path):
    if data.z < 2:
        raise ExportError(f"cannot write {path}: a z = 1 curve has no surface to mesh "
                          "(export it as h5, svg or pdf)")
    return plane(data.values(source, head), slice_at)[0]


def export_mesh(data: SurfaceSet, path: str | os.PathLike, file_type: str,
                source: str | None = None, head: int = 0, exaggeration: float = 1.0,
                cmap: str = "viridis", value_range: tuple[float, float] | None = None,
                slice_at=None, overwrite: bool = False, **_ignored) -> Path:
    """A coloured height-field mesh as ``file_type`` ("ply", "obj" or "glb")."""
    import trimesh

    values = _height_field(data, source, head, slice_at, path)
    verts, tris = height_field_mesh(data.coordinates[0], data.coordinates[1],
                                    exaggeration * values)
    if value_range is None:
        value_range = data.value_range([source or data.default_source()])
    colours = colormap_rgba(values.T.ravel(), cmap, value_range)   # vertex order: x fastest
    mesh = trimesh.Trimesh(verts, tris, vertex_colors=colours, process=False)

    def write(tmp: Path) -> None:
        _write_encoded(tmp, mesh.export(file_type=file_type))

    return write_export(path, write, MESH_TYPES[file_type], overwrite)


def solid_mesh(x: np.ndarray, y: np.ndarray, values: np.ndarray, size: float = 100.0,
               exaggeration: float = 1.0, base: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """A closed solid: the height field on top, a flat bottom at 0 and four walls.

    x, y are scaled so the longer side is ``size``; height above the base is
    ``exaggeration`` · (value − min) in the same units. Every face points outwards."""
    if not (size > 0 and exaggeration > 0 and base > 0):
        raise ConfigError(f"size ({size}), exaggeration ({exaggeration}) and base thickness "
                          f"({base}) must be positive")
    if x[-1] < x[0]:                      # keep the faces' winding outward
        x, values = x[::-1], values[::-1]
    if y[-1] < y[0]:
        y, values = y[::-1], values[:, ::-1]
    scale = size / max(float(np.ptp(x)), float(np.ptp(y)))
    xs, ys = (x - x[0]) * scale, (y - y[0]) * scale
    top = base + exaggeration * scale * (values - values.min())
    verts, tris = height_field_mesh(xs, ys, top)
    nx, ny = len(x), len(y)
    ring = np.concatenate([np.arange(nx), nx - 1 + nx * np.arange(1, ny),       # j = 0, i = nx-1
                           nx * (ny - 1) + np.arange(nx - 2, -1, -1),            # j = ny-1
                           nx * np.arange(ny - 2, 0, -1)])                       # i = 0
    n_top, n_ring = len(verts), len(ring)
    low = verts[ring].copy()
    low[:, 2] = 0.0
    centre = [[xs.mean(), ys.mean(), 0.0]]
    allv = np.concatenate([verts, low, centre])
    a, b = ring, np.roll(ring, -1)                           # top edge a -> b, anticlockwise
    a_, b_ = n_top + np.arange(n_ring), n_top + np.roll(np.arange(n_ring), -1)
    walls = np.concatenate([np.stack([a, b_, b], 1), np.stack([a, a_, b_], 1)])
    bottom = np.stack([np.full(n_ring, n_top + n_ring), b_, a_], 1)
    return allv, np.concatenate([tris, walls, bottom])


def export_stl(data: SurfaceSet, path: str | os.PathLike, source: str | None = None,
               head: int = 0, exaggeration: float = 1.0, size: float = 100.0,
               base: float | None = None, slice_at=None, overwrite: bool = False,
               **_ignored) -> Path:
    """A watertight, printable ``.stl`` (binary) of the surface on a base (units: mm)."""
    import trimesh

    values = _height_field(data, source, head, slice_at, path)
    verts, faces = solid_mesh(data.coordinates[0], data.coordinates[1], values, size,
                              exaggeration, base if base is not None else 0.05 * size)
    mesh = trimesh.Trimesh(verts, faces, process=False)

    def write(tmp: Path) -> None:
        _write_encoded(tmp, mesh.export(file_type="stl"))

    return write_export(path, write, "STL solid", overwrite)


def export_ply(data: SurfaceSet, path: str | os.PathLike, **options) -> Path:
    """Binary PLY with per-vertex RGBA colours."""
    return export_mesh(data, path, "ply", **options)


def export_obj(data: SurfaceSet, path: str | os.PathLike, **options) -> Path:
    """Wavefront OBJ, vertex colours as ``v x y z r g b`` (read by MeshLab, Blender, trimesh)."""
    return export_mesh(data, path, "obj", **options)


def export_glb(data: SurfaceSet, path: str | os.PathLike, **options) -> Path:
    """glTF 2.0 binary, vertex colours as COLOR_0 (z up as written: glTF viewers show y up)."""
    return export_mesh(data, path, "glb", **options)
