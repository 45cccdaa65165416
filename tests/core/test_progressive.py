"""Progressive refinement: nested exact frames that end at the full surface."""

import numpy as np
import pytest
import torch

from losspattern_core.grid import level_indices
from losspattern_core.measure.progressive import progressive_surface
from losspattern_core.networks import NetworkSpec, build_mlp
from losspattern_core.surface import Direction, random_direction, surface


def setup(act="tanh", heads=1, z=2, dense=False):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)).astype(np.float32)
    y = rng.integers(0, 3, 80)
    m = build_mlp(NetworkSpec(6, 3, 2, 10, act, heads), seed=0)
    with torch.no_grad():
        m[0].weight[:z] = 0
    dirs = [Direction("0.bias", i) for i in range(z)]
    if dense:
        dirs[-1] = random_direction(m, 3)
    return m, dirs, X, y


@pytest.mark.parametrize("grid", [1, 2, 5, 8, 17, 33, 40])
def test_levels_are_nested_and_end_at_the_grid(grid):
    lv = level_indices(grid, start=4)
    assert np.array_equal(lv[-1], np.arange(grid))
    assert len(lv[0]) >= min(4, grid)
    for a, b in zip(lv, lv[1:], strict=False):
        assert len(a) < len(b) and np.isin(a, b).all()
        assert a[0] == 0 and a[-1] == grid - 1


@pytest.mark.parametrize("heads,z,dense", [(1, 2, False), (3, 2, False), (1, 1, True),
                                           (1, 3, False), (1, 2, True)])
def test_frames_are_exact_subgrids_and_converge(heads, z, dense):
    m, dirs, X, y = setup(heads=heads, z=z, dense=dense)
    grid = 17 if z < 3 else 9
    rng = [[-1, 1]] * z
    full = surface(m, dirs, X, y, grid, rng, classes=3, heads=heads)
    gen = progressive_surface(m, dirs, X, y, grid, rng, classes=3, heads=heads, start=3)
    frames = list(gen)
    sizes = [s for s, _ in frames]
    assert sizes == sorted(set(sizes)) and sizes[-1] == grid
    for size, arr in frames:
        idx = level_indices(grid, 3)[sizes.index(size)]
        assert arr.shape == ((heads,) if heads > 1 else ()) + (size,) * z
        sub = full[(slice(None),) * (heads > 1) + np.ix_(*([idx] * z))]
        np.testing.assert_allclose(arr, sub, rtol=1e-6, atol=1e-6)  # exact values, no blur
    np.testing.assert_allclose(frames[-1][1], full, rtol=1e-6, atol=1e-6)
    errs = [np.abs(arr - full[(slice(None),) * (heads > 1) + np.ix_(
        *([level_indices(grid, 3)[i]] * z))]).max() for i, (_, arr) in enumerate(frames)]
    assert max(errs) <= 1e-6


def test_first_frame_budget_and_early_stop():
    m, dirs, X, y = setup()
    gen = progressive_surface(m, dirs, X, y, 65, classes=3, first_frame_s=1e-9)
    size, arr = next(gen)
    assert size == 2 and arr.shape == (2, 2) and np.isfinite(arr).all()
    gen.close()  # cancelling is just stopping the generator


def test_return_value_is_the_full_surface():
    m, dirs, X, y = setup()
    gen = progressive_surface(m, dirs, X, y, 9, classes=3)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            full = stop.value
            break
    np.testing.assert_allclose(full, surface(m, dirs, X, y, 9, classes=3), rtol=1e-6)


def test_separable_theorem2_network_frames_match_the_naive_loop():
    """Theorem 2's block structure takes the c(x) + g(alpha) path; frames stay exact."""
    from types import SimpleNamespace

    from losspattern_core.constructions.theorem2 import Blocks, build_network
    from losspattern_core.surface import naive_surface, prepare, range_points

    _, _, X, y = setup()
    spec = NetworkSpec(6, 3, 3, 12, "relu")
    m = build_network(SimpleNamespace(config=SimpleNamespace(seed=0, device="cpu"),
                                      network=spec), Blocks(2, 12, 12, 8, 3))
    dirs = [Direction("0.bias", i) for i in range(2)]
    assert "separable" in prepare(m, dirs, X, y, 3).info
    frames = list(progressive_surface(m, dirs, X, y, 9, [[-1, 2]] * 2, classes=3, start=3))
    assert [s for s, _ in frames][-1] == 9
    ref = naive_surface(m, dirs, X, y, range_points(9, 2, [[-1, 2]] * 2), classes=3)
    np.testing.assert_allclose(frames[-1][1], ref[:, 0].reshape(9, 9), rtol=2e-5, atol=2e-5)


def test_measurement_coarse_to_fine_equals_the_direct_one(tiny_t1):
    from losspattern_core.measure.metrics import measure_surfaces, measure_surfaces_progressive

    con = tiny_t1[0]
    direct = measure_surfaces(con)
    seen = []
    stepwise = drive_levels(measure_surfaces_progressive(con, start=3), seen)
    for split in ("train", "test"):
        np.testing.assert_allclose(stepwise.surfaces[split], direct.surfaces[split], atol=1e-6)
        np.testing.assert_allclose(stepwise.per_class[split], direct.per_class[split], atol=1e-6)
        sizes = [size for s, size, _ in seen if s == split]
        assert sizes == sorted(sizes) and sizes[-1] == con.config.grid and len(sizes) >= 2


def drive_levels(gen, seen):
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            return stop.value
