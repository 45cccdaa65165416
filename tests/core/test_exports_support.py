"""Support for the export tests (this module holds no tests): non-symmetric surfaces with
known values, an independent VTK XML reader (xml.etree + base64 + numpy, from the VTK
file-format specification) and a tiny real bundle."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from losspattern_core.exports import SurfaceSet


def f2(x, y):
    """A surface with no symmetry: swapping or flipping axes changes it."""
    return 2.5 + 0.7 * x + 0.2 * y**2 + 0.1 * x * y**3


def f3(x, y, z):
    return 1.0 + x + 10.0 * y + 100.0 * z**2


def surface_2d(nx: int = 9, ny: int = 6, **kw) -> SurfaceSet:
    x, y = np.linspace(-1.0, 1.0, nx), np.linspace(0.0, 3.0, ny)
    xx, yy = np.meshgrid(x, y, indexing="ij")           # our order: axis 0 = direction 1
    train = f2(xx, yy)
    return SurfaceSet({"train": train, "test": train + 0.25, "target": train - 0.1}, (x, y),
                      **kw)


def volume(nx: int = 5, ny: int = 4, nz: int = 3) -> SurfaceSet:
    x, y, z = np.linspace(0, 1, nx), np.linspace(-2, 2, ny), np.linspace(1, 3, nz)
    vol = f3(*np.meshgrid(x, y, z, indexing="ij"))
    return SurfaceSet({"train": vol, "test": vol * 2}, (x, y, z))


# --- VTK XML, read independently ---------------------------------------------------------------

NUMPY = {"Float32": "<f4", "Float64": "<f8", "Int32": "<i4", "Int64": "<i8", "UInt8": "u1",
         "UInt32": "<u4", "UInt64": "<u8"}


def decode_binary(text: str, dtype: str, header: str) -> np.ndarray:
    """An inline binary DataArray: base64(byte count) + base64(data), encoded separately or
    as one stream (both occur; VTK reads both)."""
    text = "".join(text.split())
    hsize = np.dtype(NUMPY[header]).itemsize
    raw = base64.b64decode(text)
    nbytes = int(np.frombuffer(raw[:hsize], NUMPY[header])[0])
    if len(raw) == hsize + nbytes:
        body = raw[hsize:]
    else:                                    # header encoded on its own (padded)
        hlen = 4 * ((hsize + 2) // 3)
        body = base64.b64decode(text[hlen:])
    assert len(body) == nbytes, "byte count in the header does not match the data"
    return np.frombuffer(body, NUMPY[dtype])


def read_arrays(element, header: str) -> dict[str, np.ndarray]:
    out = {}
    for da in element.findall("DataArray"):
        if da.get("format") == "ascii":
            arr = np.array(da.text.split(), dtype=NUMPY[da.get("type")])
        else:
            assert da.get("format") == "binary"
            arr = decode_binary(da.text, da.get("type"), header)
        comps = int(da.get("NumberOfComponents", "1"))
        out[da.get("Name")] = arr.reshape(-1, comps) if comps > 1 else arr
    return out


def read_vtp(path: Path) -> dict:
    root = ET.parse(path).getroot()
    assert root.tag == "VTKFile" and root.get("type") == "PolyData"
    assert root.get("byte_order") == "LittleEndian"
    header = root.get("header_type", "UInt32")
    piece = root.find("PolyData/Piece")
    pd = piece.find("PointData")
    polys = read_arrays(piece.find("Polys"), header)
    offsets, conn = polys["offsets"], polys["connectivity"]
    starts = np.r_[0, offsets[:-1]]
    cells = [conn[s:e] for s, e in zip(starts, offsets, strict=True)]
    points = next(iter(read_arrays(piece.find("Points"), header).values()))
    return {"points": points, "cells": cells, "point_data": read_arrays(pd, header),
            "active": pd.get("Scalars"), "n_points": int(piece.get("NumberOfPoints")),
            "n_polys": int(piece.get("NumberOfPolys"))}


def read_vti(path: Path) -> dict:
    root = ET.parse(path).getroot()
    assert root.tag == "VTKFile" and root.get("type") == "ImageData"
    image = root.find("ImageData")
    ext = [int(v) for v in image.get("WholeExtent").split()]
    dims = tuple(ext[2 * k + 1] - ext[2 * k] + 1 for k in range(3))
    origin = np.array([float(v) for v in image.get("Origin").split()])
    spacing = np.array([float(v) for v in image.get("Spacing").split()])
    pd = image.find("Piece/PointData")
    arrays = read_arrays(pd, root.get("header_type", "UInt32"))
    # VTK point order: x fastest, then y, then z
    volumes = {k: a.reshape(dims[::-1]).transpose(2, 1, 0) for k, a in arrays.items()}
    return {"dims": dims, "origin": origin, "spacing": spacing, "volumes": volumes,
            "active": pd.get("Scalars")}


# --- a real bundle -----------------------------------------------------------------------------

def make_bundle(out: Path, **kw) -> Path:
    """A tiny real construction, written by the project's own save_bundle."""
    import losspattern_core as lp

    cfg = lp.ConstructionConfig(**{"pattern": "smiley", "dataset": "digits", "steps": 20,
                                   "grid": 12, "width": 32, "snapshot_every": 0, **kw})
    resolved = lp.validate(cfg)
    con = lp.drive(lp.construct(resolved))
    m = lp.measure_surfaces(con)
    lp.save_bundle(out, con, m, lp.construction_metrics(con, m, checks=False), overwrite=True)
    make_bundle.last_run = (con, m)      # for comparing the unsaved run with its bundle
    return out
