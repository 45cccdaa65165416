"""The multi-point optimisation's icon masks and plane: hand-worked ternary masks, the layout
between their cells and our grid, and the up_orthogonal parametrisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from losspattern_core.constructions.mpo_mask import (
    binary_icon,
    check_mask,
    grid_to_image,
    image_to_grid,
    ternary_mask,
)
from losspattern_core.constructions.mpo_plane import (
    Plane,
    alpha_range,
    cell_of_grid_point,
    orthogonalize,
)
from losspattern_core.data.pattern_core import Pattern
from losspattern_core.errors import PatternError
from losspattern_core.grid import range_points
from losspattern_core.networks import NetworkSpec
from losspattern_core.surface import params_at


def _m(text: str) -> np.ndarray:
    return np.array([[int(v) for v in row.split()] for row in text.strip().splitlines()])


def test_a_filled_square_keeps_its_rim_and_loses_its_centre():
    icon = _m("""
        0 0 0 0 0
        0 1 1 1 0
        0 1 1 1 0
        0 1 1 1 0
        0 0 0 0 0""")
    assert np.array_equal(ternary_mask(icon), _m("""
        -1 -1 -1 -1 -1
        -1  1  1  1 -1
        -1  1  0  1 -1
        -1  1  1  1 -1
        -1 -1 -1 -1 -1"""))


def test_a_single_pixel_in_a_corner_keeps_only_its_neighbours():
    icon = np.zeros((5, 5), int)
    icon[0, 0] = 1
    want = np.zeros((5, 5), int)
    want[0, 0] = 1
    want[0, 1] = want[1, 0] = want[1, 1] = -1
    assert np.array_equal(ternary_mask(icon), want)


def test_cells_at_the_corner_and_edge_count_only_neighbours_inside_the_icon():
    icon = _m("""
        1 1 0 0 0
        1 1 0 0 0
        0 0 0 0 0
        0 0 0 0 0
        0 0 0 0 0""")
    assert np.array_equal(ternary_mask(icon), _m("""
         0  1 -1  0  0
         1  1 -1  0  0
        -1 -1 -1  0  0
         0  0  0  0  0
         0  0  0  0  0"""))


def _reference(icon: np.ndarray) -> np.ndarray:
    """The rule cell by cell: ignore a 0 with no 1 around it and a 1 with only 1s around it."""
    h, w = icon.shape
    out = np.where(icon == 1, 1, -1)
    for i in range(h):
        for j in range(w):
            around = [icon[a, b] for a in range(i - 1, i + 2) for b in range(j - 1, j + 2)
                      if 0 <= a < h and 0 <= b < w]
            if (icon[i, j] == 0 and 1 not in around) or (icon[i, j] == 1 and 0 not in around):
                out[i, j] = 0
    return out


@pytest.mark.parametrize("seed", range(5))
def test_the_vectorised_mask_equals_the_cell_by_cell_rule(seed):
    icon = (np.random.default_rng(seed).random((7, 9)) < 0.3).astype(int)
    assert np.array_equal(ternary_mask(icon), _reference(icon))


def test_icons_without_an_edge_are_refused_saying_why():
    with pytest.raises(PatternError, match="needs a shape with an edge"):
        check_mask(ternary_mask(np.ones((6, 6), int)), "black")
    with pytest.raises(PatternError, match="0 and 1"):
        ternary_mask(np.full((3, 3), 2))


def test_the_icon_is_read_upright_and_dark_is_the_shape():
    right_bright = Pattern("r", 2, lambda a: (a[:, 0] > 0.5).astype(float))
    top_bright = Pattern("t", 2, lambda a: (a[:, 1] > 0.5).astype(float))
    icon = binary_icon(right_bright, 6)            # image rows from the top
    assert icon[:, :3].all() and not icon[:, 3:].any()
    icon = binary_icon(top_bright, 6)
    assert icon[3:].all() and not icon[:3].any()   # dark = bottom half = the shape
    assert not binary_icon(top_bright, 6, good="bright")[3:].any()
    g = np.arange(12).reshape(3, 4)
    assert np.array_equal(image_to_grid(grid_to_image(g)), g)


def _tiny_spec() -> NetworkSpec:
    return NetworkSpec(64, 10, family="cnn", activation="relu", input_shape=(1, 8, 8),
                       channels=(4, 8), hidden=16)


def test_up_is_orthogonal_to_right_with_the_same_norm():
    plane = Plane(_tiny_spec(), seed=3)
    with torch.no_grad():
        r, u = plane.right.double(), plane.up.double()
    assert abs(float(torch.dot(r, u))) / float(r.norm() * u.norm()) < 1e-6
    assert float(u.norm()) == pytest.approx(float(r.norm()), rel=1e-6)
    a, b = torch.randn(50), torch.randn(50)
    assert float(torch.dot(orthogonalize(a, b).double(), a.double())) == pytest.approx(0,
                                                                                      abs=1e-5)


def test_the_three_vectors_are_independent_default_initialisations():
    plane = Plane(_tiny_spec(), seed=0)
    assert not torch.equal(plane.origin, plane.right_param)
    assert not torch.equal(plane.right_param, plane.up_param)
    assert float(plane.scale.detach()) == pytest.approx(0.1)
    assert torch.equal(Plane(_tiny_spec(), seed=0).origin, plane.origin)


def test_every_grid_point_is_exactly_a_cell_of_the_plane():
    from losspattern_core.networks import build_network

    g = 5
    plane = Plane(_tiny_spec(), seed=1, scale=0.3)
    model = build_network(_tiny_spec())
    model.load_state_dict({k: v.cpu() for k, v in plane.origin_state().items()})
    dirs = plane.directions()
    pts = range_points(g, 2, alpha_range(g, g))
    assert np.allclose(pts, np.round(pts))                      # integer cells
    for a, b in [(0, 0), (4, 1), (2, 3)]:
        i, j = cell_of_grid_point(a, b, g)
        want = plane.cell_vectors(torch.tensor([[i - g // 2, j - g // 2]]))[0].detach()
        got = params_at(model, dirs, pts[a * g + b])
        flat = torch.cat([got[k].reshape(-1) for k in plane.names])
        assert torch.allclose(flat, want, atol=1e-6)
