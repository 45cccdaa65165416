"""0-dimensional sublevel persistence on grids, basin counts, and the bottleneck distance,
against hand-worked cases, analytic patterns and a brute-force matching."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from losspattern_core.errors import ConfigError
from losspattern_core.measure.persistence import (
    basin_count,
    bottleneck_distance,
    persistence_diagram,
    prune,
)

CENTRES = [(0.2, 0.25), (0.75, 0.7), (0.25, 0.75), (0.7, 0.2), (0.5, 0.5)]


def dips(k: int, n: int = 64) -> np.ndarray:
    """1 minus k separated Gaussian dips of different depths on an n x n grid over [0, 1]^2."""
    a, b = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n), indexing="ij")
    f = np.ones((n, n))
    for i, (ca, cb) in enumerate(CENTRES[:k]):
        f -= (0.5 + 0.1 * i) * np.exp(-((a - ca) ** 2 + (b - cb) ** 2) / (2 * 0.07**2))
    return f


def test_hand_worked_1d_diagram():
    #          0  1  2  3  4  5    6
    x = [3, 1, 2, 0, 4, 2.5, 5]
    dg = persistence_diagram(x)
    # minima 0 (index 3, never dies), 1 (index 1, dies at 2 joining 0's basin), 2.5 (index 5,
    # dies at 4). The global minimum's death is reported as the maximum, 5.
    assert dg.birth.tolist() == [0, 2.5, 1] and dg.death.tolist() == [5, 4, 2]
    assert dg.persistence.tolist() == [np.inf, 1.5, 1.0]
    assert dg.minima.ravel().tolist() == [3, 5, 1]
    assert basin_count(x, 0.0) == 3 and basin_count(x, 0.25) == 2 and basin_count(x, 0.3) == 1


def test_elder_rule_and_plateaus():
    # two minima of equal depth: the one first in grid order survives; a plateau is one basin
    dg = persistence_diagram([1.0, 0.0, 2.0, 0.0, 1.0])
    assert dg.minima.ravel().tolist() == [1, 3] and dg.persistence[1] == 2.0
    flat = persistence_diagram([1.0, 0.0, 0.0, 0.0, 1.0])
    assert len(flat) == 1
    assert basin_count(np.zeros((4, 4)), 0.05) == 1


def test_2d_neighbours_are_axis_aligned_only():
    # the two zeros touch only diagonally: with 4 neighbours they are two basins
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    dg = persistence_diagram(x)
    assert len(dg) == 2 and dg.persistence[1] == 1.0


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_k_gaussian_dips_give_k_basins(k):
    assert basin_count(dips(k), 0.05) == k


def test_noise_adds_only_basins_below_the_threshold():
    clean = dips(3)
    noisy = clean + 0.004 * np.random.default_rng(0).normal(size=clean.shape)
    dg = persistence_diagram(noisy)
    assert len(dg) > 20                                        # many spurious minima ...
    assert basin_count(noisy, 0.05) == 3                       # ... all below 5 % of the range
    assert basin_count(noisy, 0.0) == len(dg)


@pytest.mark.parametrize("n", [1, 3, 6])
def test_sine_with_n_minima(n):
    t = np.linspace(0, 1, 400)
    assert basin_count(np.sin(2 * np.pi * n * t + np.pi / 2 + 0.1), 0.05) == n


def test_a_3d_case():
    g = np.linspace(0, 1, 20)
    a, b, c = np.meshgrid(g, g, g, indexing="ij")
    f = np.ones_like(a)
    for i, ctr in enumerate([(0.2, 0.2, 0.2), (0.8, 0.3, 0.7), (0.3, 0.8, 0.5)]):
        r2 = (a - ctr[0]) ** 2 + (b - ctr[1]) ** 2 + (c - ctr[2]) ** 2
        f -= (0.6 + 0.1 * i) * np.exp(-r2 / (2 * 0.08**2))
    dg = persistence_diagram(f)
    assert basin_count(dg, 0.05) == 3 and dg.minima.shape[1] == 3
    # the essential pair is the deepest dip, at (0.3, 0.8, 0.5) (0.5 * 19 = 9.5: index 9 or 10)
    assert tuple(dg.minima[0]) == np.unravel_index(np.argmin(f), f.shape)
    assert dg.minima[0].tolist()[:2] == [6, 15] and dg.minima[0, 2] in (9, 10)


def test_bad_grids_are_refused():
    with pytest.raises(ConfigError, match="finite"):
        persistence_diagram([0.0, np.nan])
    with pytest.raises(ConfigError, match="non-empty"):
        persistence_diagram([])


def brute_bottleneck(A: np.ndarray, B: np.ndarray) -> float:
    """Every partial matching of A into B; the rest go to the diagonal."""
    best = np.inf
    half = lambda p: (p[1] - p[0]) / 2
    for r in range(min(len(A), len(B)) + 1):
        for ia in itertools.combinations(range(len(A)), r):
            for ib in itertools.permutations(range(len(B)), r):
                cost = [np.abs(A[i] - B[j]).max() for i, j in zip(ia, ib, strict=True)]
                cost += [half(A[i]) for i in range(len(A)) if i not in ia]
                cost += [half(B[j]) for j in range(len(B)) if j not in ib]
                best = min(best, max(cost, default=0.0))
    return best


def test_bottleneck_hand_worked_pairs():
    assert bottleneck_distance([[0, 1]], [[0, 0.8]]) == pytest.approx(0.2)
    # (0, 3) vs (2, 3): matching costs 2, both to the diagonal cost max(1.5, 0.5) = 1.5
    assert bottleneck_distance([[0, 3]], [[2, 3]]) == pytest.approx(1.5)
    # (0, 4) -> (0.5, 4.5) costs 0.5; (1, 2) to the diagonal 0.5
    assert bottleneck_distance([[0, 4], [1, 2]], [[0.5, 4.5]]) == pytest.approx(0.5)
    # essential points are matched by birth: |0 - 0.3| = 0.3 beats the finite part's 0.1
    assert bottleneck_distance([[0, np.inf], [1, 1.2]], [[0.3, np.inf]]) == pytest.approx(0.3)
    assert bottleneck_distance([[0, np.inf]], [[0, 1]]) == np.inf
    assert bottleneck_distance([], []) == 0.0


def test_bottleneck_equals_brute_force_on_random_small_diagrams():
    rng = np.random.default_rng(0)
    for _ in range(40):
        A, B = (np.sort(rng.uniform(0, 1, size=(rng.integers(0, 5), 2)), axis=1)
                for _ in range(2))
        assert bottleneck_distance(A, B) == pytest.approx(brute_bottleneck(A, B), abs=1e-12)


def test_bottleneck_of_identical_diagrams_is_zero_and_of_a_noisy_copy_within_stability():
    clean = dips(4)
    assert bottleneck_distance(persistence_diagram(clean), persistence_diagram(clean)) == 0.0
    noise = 0.01 * np.random.default_rng(1).normal(size=clean.shape)
    d = bottleneck_distance(persistence_diagram(clean), persistence_diagram(clean + noise))
    assert 0 < d <= np.abs(noise).max() + 1e-12        # stability: d_B <= ||f - g||_inf


def test_pruning_moves_the_distance_by_at_most_half_the_threshold():
    rng = np.random.default_rng(2)
    a = persistence_diagram(dips(3) + 0.01 * rng.normal(size=(64, 64)))
    b = persistence_diagram(dips(2) + 0.01 * rng.normal(size=(64, 64)))
    exact = bottleneck_distance(a, b)
    t = 0.02
    d = bottleneck_distance(prune(a, t), prune(b, t))
    assert d - t / 2 <= exact + 1e-12 and exact <= max(d, t / 2) + 1e-12
    with pytest.raises(ConfigError, match="prune"):
        bottleneck_distance(a, b, max_points=10)


def test_a_non_contiguous_view_gives_the_diagram_of_its_values():
    """A head sliced out of a (G, G, heads) array, or a transposed grid, is a strided view:
    the diagram must be that of its values (it once indexed past the end)."""
    rng = np.random.default_rng(3)
    stack = rng.random((5, 7, 3))
    for view in (stack[..., 1], stack[..., 2].T, stack[::2, ::3, 0]):
        assert not view.flags.c_contiguous
        got, want = persistence_diagram(view), persistence_diagram(view.copy())
        assert np.array_equal(got.birth, want.birth)
        assert np.array_equal(got.death, want.death)
        assert np.array_equal(got.minima, want.minima)
