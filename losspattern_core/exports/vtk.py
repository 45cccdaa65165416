"""ParaView / VTK XML files, written directly (no VTK needed): ``.vtp`` and ``.vti``.

``.vtp`` (PolyData): the surface as a triangulated height field. Point p = j * nx + i sits at
(α1 = x[i], α2 = y[j], height = exaggeration · value); every source present becomes a point
scalar named after it (``target_loss``, ``train_loss``, ``test_loss``, ``train_accuracy``...),
the height's source is the active scalar. ``.vti`` (ImageData): a z >= 3 volume on its uniform
grid, point data in VTK's order (x fastest), one array per source.

Arrays are inline ``format="binary"``: base64 of a UInt64 byte count, then base64 of the
little-endian values, as VTK's own writer lays them out. Values are Float64 (exact).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import numpy as np

from losspattern_core.exports.atomic import ExportError, write_export
from losspattern_core.exports.surfaces import SurfaceSet, plane

HEADER = '<?xml version="1.0"?>\n'
VTKFILE = ('<VTKFile type="{kind}" version="1.0" byte_order="LittleEndian" '
           'header_type="UInt64">\n')
TYPES = {np.dtype("<f8"): "Float64", np.dtype("<i8"): "Int64", np.dtype("u1"): "UInt8"}


def data_array(values: np.ndarray, name: str | None = None, components: int = 1,
               indent: str = "        ") -> str:
    """One ``<DataArray format="binary">`` element (values as little-endian bytes)."""
    arr = np.ascontiguousarray(values)
    dtype = arr.dtype.newbyteorder("<") if arr.dtype.kind in "fi" else arr.dtype
    arr = arr.astype(dtype, copy=False)
    raw = arr.tobytes()
    payload = (base64.b64encode(np.uint64(len(raw)).astype("<u8").tobytes())
               + base64.b64encode(raw)).decode("ascii")
    attrs = f'type="{TYPES[arr.dtype]}"'
    if name:
        attrs += f' Name="{name}"'
    if components > 1:
        attrs += f' NumberOfComponents="{components}"'
    return f'{indent}<DataArray {attrs} format="binary">{payload}</DataArray>\n'


def _comment(data: SurfaceSet, note: str) -> str:
    text = " | ".join(str(data.info[k]) for k in ("title", "source") if data.info.get(k))
    text = (f"LossPattern: {text} {note}").replace("--", "- -").replace("\n", " ")
    return f"<!-- {text.strip()} -->\n"


def _named_fields(data: SurfaceSet, head: int, pick) -> dict[str, np.ndarray]:
    """Every source (and accuracy) as ``{name: pick(array)}``, named like loss-landscape."""
    out = {f"{s}_loss": pick(data.values(s, head)) for s in ("target", "train", "test")
           if s in data.surfaces}
    for split in ("train", "test"):
        acc = data.accuracy_field(split, head)
        if acc is not None:
            out[f"{split}_accuracy"] = pick(acc)
    return out


def height_field_mesh(x: np.ndarray, y: np.ndarray, height: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (nx * ny, 3), point p = j * nx + i at (x[i], y[j], height[i, j]), and
    triangles (2 (nx-1)(ny-1), 3) wound counter-clockwise seen from above (normals up)."""
    nx, ny = len(x), len(y)
    xx, yy = np.meshgrid(x, y)            # (ny, nx): row j, column i
    verts = np.stack([xx.ravel(), yy.ravel(), height.T.ravel()], axis=1)
    p = np.arange(nx * ny, dtype=np.int64).reshape(ny, nx)
    p00, p10, p01, p11 = p[:-1, :-1], p[:-1, 1:], p[1:, :-1], p[1:, 1:]
    tris = np.concatenate([np.stack([p00, p10, p11], -1).reshape(-1, 3),
                           np.stack([p00, p11, p01], -1).reshape(-1, 3)])
    return verts, tris


def _planar(data: SurfaceSet, what: str, path) -> None:
    if data.z < 2:
        raise ExportError(f"cannot write {path}: a z = 1 curve has no surface for {what} "
                          "(export it as h5, svg or pdf)")


def export_vtp(data: SurfaceSet, path: str | os.PathLike, source: str | None = None,
               head: int = 0, exaggeration: float = 1.0, slice_at=None,
               overwrite: bool = False, **_ignored) -> Path:
    """The surface as a triangulated height field (z >= 2; z >= 3: a plane through the
    volume at ``slice_at``, default the middle)."""
    _planar(data, "a .vtp height field", path)
    source = source or data.default_source()
    height, note = plane(data.values(source, head), slice_at)
    fields = _named_fields(data, head, lambda a: plane(a, slice_at)[0])
    verts, tris = height_field_mesh(data.coordinates[0], data.coordinates[1],
                                    exaggeration * height)
    offsets = 3 * np.arange(1, len(tris) + 1, dtype=np.int64)
    active = f"{source}_loss"

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(HEADER + _comment(data, note) + VTKFILE.format(kind="PolyData"))
            fh.write("  <PolyData>\n")
            fh.write(f'    <Piece NumberOfPoints="{len(verts)}" NumberOfVerts="0" '
                     f'NumberOfLines="0" NumberOfStrips="0" NumberOfPolys="{len(tris)}">\n')
            fh.write(f'      <PointData Scalars="{active}">\n')
            for name, arr in fields.items():
                fh.write(data_array(arr.T.ravel(), name))   # point order: x fastest
            fh.write("      </PointData>\n      <Points>\n")
            fh.write(data_array(verts.astype(np.float64), "Points", components=3))
            fh.write("      </Points>\n      <Polys>\n")
            fh.write(data_array(tris.ravel(), "connectivity"))
            fh.write(data_array(offsets, "offsets"))
            fh.write("      </Polys>\n    </Piece>\n  </PolyData>\n</VTKFile>\n")

    return write_export(path, write, "ParaView .vtp surface", overwrite)


def _uniform_spacing(c: np.ndarray, k: int, path) -> float:
    step = (c[-1] - c[0]) / (len(c) - 1)
    if step <= 0 or not np.allclose(np.diff(c), step, rtol=1e-6, atol=1e-12 * abs(step)):
        raise ExportError(f"cannot write {path}: direction {k + 1}'s grid is not uniform and "
                          "increasing, which .vti (ImageData) needs")
    return float(step)


def export_vti(data: SurfaceSet, path: str | os.PathLike, head: int = 0,
               slice_at=None, overwrite: bool = False, **_ignored) -> Path:
    """A z >= 3 volume as ImageData (directions 4.. at ``slice_at``, default the middle)."""
    if data.z < 3:
        raise ExportError(f"cannot write {path}: .vti holds a volume (z = 3); this surface has "
                          f"z = {data.z} (use .vtp)")

    def cut(arr: np.ndarray) -> np.ndarray:
        if arr.ndim == 3:
            return arr
        rest = arr.shape[3:]
        idx = tuple(slice_at) if slice_at is not None else tuple((n - 1) // 2 for n in rest)
        return arr[(slice(None),) * 3 + idx]

    fields = _named_fields(data, head, cut)
    spacing = [_uniform_spacing(data.coordinates[k], k, path) for k in range(3)]
    origin = [float(data.coordinates[k][0]) for k in range(3)]
    n = data.shape[:3]
    extent = " ".join(f"0 {m - 1}" for m in n)
    active = f"{data.default_source()}_loss"
    note = f"directions 4..{data.z} at their middle grid points" if data.z > 3 else ""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(HEADER + _comment(data, note) + VTKFILE.format(kind="ImageData"))
            fh.write(f'  <ImageData WholeExtent="{extent}" Origin="{" ".join(map(repr, origin))}"'
                     f' Spacing="{" ".join(map(repr, spacing))}">\n')
            fh.write(f'    <Piece Extent="{extent}">\n')
            fh.write(f'      <PointData Scalars="{active}">\n')
            for name, arr in fields.items():
                fh.write(data_array(arr.ravel(order="F"), name))   # x fastest, then y, z
            fh.write("      </PointData>\n      <CellData>\n      </CellData>\n")
            fh.write("    </Piece>\n  </ImageData>\n</VTKFile>\n")

    return write_export(path, write, "ParaView .vti volume", overwrite)
