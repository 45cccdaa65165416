"""Exports read back by independent readers: values, shape and orientation.

h5 with h5py in loss-landscape's own conventions (np.meshgrid(x, y) order), .vtp/.vti with an
xml.etree + base64 reader written from the VTK specification, meshes with trimesh, figures with
xml.etree (SVG) and the PDF's structure. Every surface is non-symmetric, so a transposed or
flipped axis fails.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import h5py
import matplotlib
import numpy as np
import pytest
import trimesh
from test_exports_support import f2, f3, read_vti, read_vtp, surface_2d, volume

from losspattern_core.errors import ConfigError
from losspattern_core.exports import (
    FORMATS,
    ExportError,
    SurfaceSet,
    export_surface,
    formats_for,
    import_loss_landscape_h5,
)

# --- loss-landscape h5 -------------------------------------------------------------------------


@pytest.mark.parametrize("nx, ny", [(7, 7), (9, 6)])
def test_h5_is_in_loss_landscape_meshgrid_order(tmp_path, nx, ny):
    data = surface_2d(nx, ny)
    export_surface(data, "h5", tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5", "r") as f:
        x, y = f["xcoordinates"][:], f["ycoordinates"][:]
        X, Y = np.meshgrid(x, y)                         # as their plot_2D.py does
        Z = f["train_loss"][:]
        assert Z.shape == X.shape == (ny, nx)
        np.testing.assert_allclose(Z, f2(X, Y), rtol=0, atol=1e-12)
        np.testing.assert_allclose(f["test_loss"][:], f2(X, Y) + 0.25, atol=1e-12)
        np.testing.assert_allclose(f["target_loss"][:], f2(X, Y) - 0.1, atol=1e-12)
        assert "train_acc" not in f                      # none given: none written
        i, j = ny - 1, 1                                 # train_loss[i, j] at (x[j], y[i])
        assert Z[i, j] == pytest.approx(f2(x[j], y[i]))


def test_h5_round_trip_restores_our_orientation_and_accuracy(tmp_path):
    base = surface_2d(8, 5)
    acc = {"train": np.linspace(0, 1, 40).reshape(8, 5)}
    data = SurfaceSet(base.surfaces, base.coordinates, accuracy=acc, info={"title": "t"})
    export_surface(data, "h5", tmp_path / "s.h5")
    with h5py.File(tmp_path / "s.h5", "r") as f:
        assert f["train_acc"][:].max() == pytest.approx(100.0)        # percent, as theirs
    back = import_loss_landscape_h5(tmp_path / "s.h5")
    for name in ("train", "test", "target"):
        np.testing.assert_array_equal(back.surfaces[name], data.surfaces[name])
    np.testing.assert_allclose(back.accuracy["train"], acc["train"], atol=1e-12)
    for a, b in zip(back.coordinates, data.coordinates, strict=True):
        np.testing.assert_array_equal(a, b)
    assert back.info["title"] == "t" and back.info["source"] == str(tmp_path / "s.h5")


def test_h5_written_the_way_loss_landscape_crunch_fills_it_imports_correctly(tmp_path):
    """Their crunch(): an (nx, ny) array filled through .ravel()[ind] at meshgrid(x, y)
    coordinates, accuracies in percent."""
    x, y = np.linspace(-1, 1, 9), np.linspace(0, 3, 6)
    losses, accs = -np.ones((len(x), len(y))), -np.ones((len(x), len(y)))
    xm, ym = np.meshgrid(x, y)
    for ind in range(losses.size):
        losses.ravel()[ind] = f2(xm.ravel()[ind], ym.ravel()[ind])
        accs.ravel()[ind] = 50.0
    with h5py.File(tmp_path / "theirs.h5", "w") as f:
        f["dir_file"] = "model.h5_weights_xignore=biasbn.h5"
        f["xcoordinates"], f["ycoordinates"] = x, y
        f["train_loss"], f["train_acc"] = losses, accs
    back = import_loss_landscape_h5(tmp_path / "theirs.h5")
    assert back.shape == (9, 6)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    np.testing.assert_allclose(back.surfaces["train"], f2(xx, yy), atol=1e-12)
    np.testing.assert_allclose(back.accuracy["train"], 0.5)


def test_h5_one_dimensional(tmp_path):
    x = np.linspace(-2, 3, 11)
    data = SurfaceSet({"train": np.exp(x), "test": x**2 + 1}, (x,))
    export_surface(data, "h5", tmp_path / "c.h5")
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert set(f) == {"xcoordinates", "train_loss", "test_loss"}
        np.testing.assert_allclose(f["train_loss"][:], np.exp(x))
    back = import_loss_landscape_h5(tmp_path / "c.h5")
    assert back.z == 1
    np.testing.assert_array_equal(back.surfaces["test"], x**2 + 1)


def test_h5_of_a_volume_is_refused_with_the_alternative(tmp_path):
    with pytest.raises(ExportError, match=r"z = 3 \(export a volume as \.vti"):
        export_surface(volume(), "h5", tmp_path / "v.h5")
    assert list(tmp_path.iterdir()) == []


def test_h5_of_a_multi_head_surface_writes_the_chosen_head(tmp_path):
    base = surface_2d(5, 4)
    three = np.stack([base.surfaces["train"] + k for k in range(3)])
    data = SurfaceSet({"train": three}, base.coordinates, heads=3)
    export_surface(data, "h5", tmp_path / "h.h5", head=2)
    np.testing.assert_array_equal(import_loss_landscape_h5(tmp_path / "h.h5").surfaces["train"],
                                  three[2])


# --- ParaView ----------------------------------------------------------------------------------

def test_vtp_height_field_points_scalars_and_triangles(tmp_path):
    data = surface_2d(9, 6)
    export_surface(data, "vtp", tmp_path / "s.vtp", exaggeration=2.0)
    vtp = read_vtp(tmp_path / "s.vtp")
    px, py, pz = vtp["points"].T
    assert vtp["n_points"] == 54 and len(px) == 54
    assert vtp["active"] == "train_loss"
    assert set(vtp["point_data"]) == {"target_loss", "train_loss", "test_loss"}
    np.testing.assert_allclose(vtp["point_data"]["train_loss"], f2(px, py), atol=1e-12)
    np.testing.assert_allclose(vtp["point_data"]["test_loss"], f2(px, py) + 0.25, atol=1e-12)
    np.testing.assert_allclose(pz, 2.0 * f2(px, py), atol=1e-12)
    assert vtp["n_polys"] == len(vtp["cells"]) == 2 * 8 * 5
    assert all(len(c) == 3 for c in vtp["cells"])
    tri = vtp["points"][np.array(vtp["cells"])]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (normals[:, 2] > 0).all()                     # wound anticlockwise from above
    area = 0.5 * normals[:, 2]                           # projected on the (α1, α2) plane
    assert area.sum() == pytest.approx(2.0 * 3.0)        # the whole α rectangle, once


def test_vti_volume_in_vtk_point_order(tmp_path):
    data = volume(5, 4, 3)
    export_surface(data, "vti", tmp_path / "v.vti")
    vti = read_vti(tmp_path / "v.vti")
    assert vti["dims"] == (5, 4, 3) and vti["active"] == "train_loss"
    np.testing.assert_allclose(vti["origin"], [0, -2, 1])
    np.testing.assert_allclose(vti["spacing"], [0.25, 4 / 3, 1.0])
    idx = np.meshgrid(*(np.arange(n) for n in vti["dims"]), indexing="ij")
    xyz = [vti["origin"][k] + vti["spacing"][k] * idx[k] for k in range(3)]
    np.testing.assert_allclose(vti["volumes"]["train_loss"], f3(*xyz), atol=1e-9)
    np.testing.assert_allclose(vti["volumes"]["test_loss"], 2 * f3(*xyz), atol=1e-9)


def test_vtk_formats_refuse_the_wrong_dimension(tmp_path):
    with pytest.raises(ExportError, match=r"takes z = 3 or more; this surface has z = 2 \(a surf"):
        export_surface(surface_2d(), "vti", tmp_path / "s.vti")
    x = np.linspace(0, 1, 5)
    with pytest.raises(ExportError, match="z = 2 or more.*export it as h5"):
        export_surface(SurfaceSet({"train": x}, (x,)), "vtp", tmp_path / "c.vtp")
    assert list(tmp_path.iterdir()) == []


def test_vtp_of_a_volume_is_the_plane_asked_for(tmp_path):
    data = volume(5, 4, 3)
    export_surface(data, "vtp", tmp_path / "p.vtp", slice_at=(2,))
    vtp = read_vtp(tmp_path / "p.vtp")
    px, py, _ = vtp["points"].T
    np.testing.assert_allclose(vtp["point_data"]["train_loss"], f3(px, py, 3.0), atol=1e-9)


# --- meshes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["ply", "obj", "glb"])
def test_coloured_mesh_vertices_and_colours(tmp_path, fmt):
    data = surface_2d(9, 6)
    lo, hi = 2.0, 4.0
    export_surface(data, fmt, tmp_path / f"m.{fmt}", cmap="magma", value_range=(lo, hi),
                   exaggeration=0.5)
    mesh = trimesh.load(tmp_path / f"m.{fmt}", force="mesh", process=False)
    assert len(mesh.vertices) == 54 and len(mesh.faces) == 80
    x, y, z = mesh.vertices.T
    value = f2(x, y)
    np.testing.assert_allclose(z, 0.5 * value, atol=1e-5)           # glb stores float32
    want = matplotlib.colormaps["magma"](np.clip((value - lo) / (hi - lo), 0, 1), bytes=True)
    got = np.asarray(mesh.visual.vertex_colors)
    assert np.abs(got[:, :3].astype(int) - want[:, :3].astype(int)).max() <= 1


@pytest.mark.parametrize("exaggeration", [0.5, 3.0])
def test_stl_is_a_watertight_solid_of_the_right_volume(tmp_path, exaggeration):
    data = surface_2d(9, 6)
    export_surface(data, "stl", tmp_path / "p.stl", exaggeration=exaggeration, size=80.0,
                   base=4.0)
    mesh = trimesh.load(tmp_path / "p.stl")
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    x, y = data.coordinates
    scale = 80.0 / max(np.ptp(x), np.ptp(y))
    values = data.values("train")
    np.testing.assert_allclose(mesh.bounds, [[0, 0, 0], [np.ptp(x) * scale, np.ptp(y) * scale,
                               4.0 + exaggeration * scale * np.ptp(values)]], atol=1e-4)
    # independent volume: prism under each triangle of the height field
    h = 4.0 + exaggeration * scale * (values - values.min())
    cell = (x[1] - x[0]) * scale * (y[1] - y[0]) * scale / 2
    tri_a = (h[:-1, :-1] + h[1:, :-1] + h[1:, 1:]) / 3
    tri_b = (h[:-1, :-1] + h[1:, 1:] + h[:-1, 1:]) / 3
    assert mesh.volume == pytest.approx(cell * (tri_a.sum() + tri_b.sum()), rel=1e-4)


def test_stl_options_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="must be positive"):
        export_surface(surface_2d(), "stl", tmp_path / "p.stl", exaggeration=0.0)
    with pytest.raises(ConfigError, match="does not apply"):
        export_surface(surface_2d(), "stl", tmp_path / "p.stl", cmap="viridis")
    assert list(tmp_path.iterdir()) == []


# --- figures -----------------------------------------------------------------------------------

@pytest.mark.parametrize("with_target", [True, False])
def test_svg_and_pdf_figures(tmp_path, with_target):
    base = surface_2d(9, 6)
    surfaces = dict(base.surfaces) if with_target else {"train": base.surfaces["train"]}
    data = SurfaceSet(surfaces, base.coordinates, info={"title": "Unique Title 42"})
    svg = export_surface(data, "svg", tmp_path / "f.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and float(root.get("width").rstrip("pt")) > 100
    assert len(root.findall(".//{http://www.w3.org/2000/svg}image")) >= (3 if with_target else 1)
    pdf = export_surface(data, "pdf", tmp_path / "f.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 1


def test_figures_of_a_curve_and_a_volume(tmp_path):
    x = np.linspace(0, 1, 20)
    curve = SurfaceSet({"train": np.sin(x) + 2, "target": np.sin(x) + 2.1}, (x,))
    assert export_surface(curve, "svg", tmp_path / "c.svg").stat().st_size > 1000
    assert export_surface(volume(), "pdf", tmp_path / "v.pdf").stat().st_size > 1000


# --- registry ----------------------------------------------------------------------------------

def test_registry_offers_formats_by_dimension():
    assert set(FORMATS) == {"h5", "vtp", "vti", "ply", "obj", "glb", "stl", "mp4", "gif", "svg",
                            "pdf"}
    x = np.linspace(0, 1, 4)
    curve = SurfaceSet({"train": x}, (x,))
    assert {f.name for f in formats_for(curve)} == {"h5", "mp4", "gif", "svg", "pdf"}
    assert "vti" not in {f.name for f in formats_for(surface_2d())}
    assert "h5" not in {f.name for f in formats_for(volume())}


def test_wrong_suffix_and_unknown_format_are_refused(tmp_path):
    with pytest.raises(ExportError, match=r"must end in \.vtp"):
        export_surface(surface_2d(), "vtp", tmp_path / "s.vtk")
    with pytest.raises(ConfigError, match="unknown export format"):
        export_surface(surface_2d(), "x3d", tmp_path / "s.x3d")


def test_surface_set_checks_its_arrays():
    x = np.linspace(0, 1, 4)
    with pytest.raises(ConfigError, match="shape"):
        SurfaceSet({"train": np.zeros((4, 3))}, (x, x))
    with pytest.raises(ConfigError, match="non-finite"):
        SurfaceSet({"train": np.full((4, 4), np.nan)}, (x, x))
    with pytest.raises(ConfigError, match="head 4 does not exist"):
        SurfaceSet({"train": np.zeros((3, 4, 4))}, (x, x), heads=3).values("train", 3)
