"""Training with a trajectory, and PCA of trajectories: a planar one is explained completely
with no projection error; a real one states its error, and agrees with scikit-learn's PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from test_explore_directions import data, mlp, snapshot, unchanged

from losspattern_core.errors import ConfigError
from losspattern_core.explore import (
    ParamLayout,
    Trajectory,
    split_loss,
    train_trajectory,
    trajectory_pca,
)
from losspattern_core.frames import Frame, drive


@pytest.fixture(scope="module")
def run():
    X, y = data()
    model = mlp(0)
    before = snapshot(model)
    frames: list[Frame] = []
    result = drive(train_trajectory(model, X, y, steps=80, lr=0.02, batch=30, snapshot_every=5,
                                    seed=0), frames.append)
    return model, before, frames, result, X, y


def test_training_yields_frames_and_keeps_the_trajectory_without_touching_the_model(run):
    model, before, frames, result, X, y = run
    assert unchanged(model, before)
    assert [f.step for f in frames] == list(range(1, 81))
    assert {f.phase for f in frames} == {"training"} and frames[-1].total == 80
    traj = result.trajectory
    assert traj.steps == list(range(0, 81, 5)) and traj.points.dtype == torch.float32
    layout = ParamLayout.of(model)
    assert torch.equal(traj.points[0], layout.flatten(dict(model.named_parameters())))
    assert torch.equal(traj.points[-1], layout.flatten(result.final_params))
    assert torch.equal(traj.points[-1], layout.flatten(dict(result.model.named_parameters())))
    assert result.final_loss < 0.7 * result.initial_loss
    assert result.final_loss == pytest.approx(split_loss(model, X, y)(result.final_params))
    assert len(result.losses) == 80


def test_sgd_trains_and_bad_settings_are_refused():
    X, y = data()
    res = drive(train_trajectory(mlp(0), X, y, steps=30, optimizer="sgd", lr=0.1, batch=None))
    assert res.final_loss < res.initial_loss and res.settings["batch"] == len(y)
    with pytest.raises(ConfigError, match="optimizer"):
        drive(train_trajectory(mlp(0), X, y, optimizer="rmsprop"))
    with pytest.raises(ConfigError, match="labels"):
        drive(train_trajectory(mlp(0), X, y + 5))


def test_snapshot_memory_is_bounded_by_thinning_the_trajectory():
    X, y = data()
    size = ParamLayout.of(mlp(0)).size
    res = drive(train_trajectory(mlp(0), X, y, steps=100, snapshot_every=2,
                                 max_snapshot_bytes=6 * 4 * size))
    traj = res.trajectory
    assert len(traj) <= 6 and traj.steps[0] == 0 and traj.steps[-1] == 100
    assert res.snapshot_every > 2
    assert all(s % res.snapshot_every == 0 for s in traj.steps[:-1])
    with pytest.raises(ConfigError, match="fewer than 2 snapshots"):
        drive(train_trajectory(mlp(0), X, y, max_snapshot_bytes=4 * size))


def test_training_can_be_cancelled_between_steps():
    X, y = data()
    gen = train_trajectory(mlp(0), X, y, steps=1000)
    assert next(gen).step == 1 and next(gen).step == 2
    gen.close()


def planar_trajectory(model, T: int = 12) -> tuple[Trajectory, np.ndarray]:
    layout = ParamLayout.of(model)
    g = torch.Generator().manual_seed(0)
    final = layout.flatten(dict(model.named_parameters()))
    u, w = torch.randn(2, layout.size, generator=g) * 0.05
    t = torch.linspace(0, 1, T)
    a, b = (1 - t) * 3 + 0.3 * torch.sin(6 * t), (1 - t) ** 2 * 2
    points = final + a[:, None] * u + b[:, None] * w
    points[-1] = final
    return Trajectory(layout, list(range(T)), points), (points - final).double().numpy()


def test_a_trajectory_in_a_plane_is_explained_completely_with_no_projection_error():
    X, y = data()
    model = mlp(0)
    traj, d = planar_trajectory(model)
    loss = split_loss(model, X, y)
    pca = trajectory_pca(traj, 2, loss_fn=loss)
    assert pca.explained_share == pytest.approx(1.0, abs=1e-6)
    assert pca.plane_share == pytest.approx(1.0, abs=1e-6)
    assert pca.residual_norm.max() < 1e-4 * np.linalg.norm(d, axis=1).max()
    np.testing.assert_allclose(pca.projected_loss, pca.real_loss, rtol=0, atol=1e-5)
    # the plane's coordinates keep every distance between snapshots
    dist = np.linalg.norm(d[:, None] - d[None], axis=2)
    cdist = np.linalg.norm(pca.coords[:, None] - pca.coords[None], axis=2)
    np.testing.assert_allclose(cdist, dist, rtol=1e-4, atol=1e-6)
    assert np.allclose(pca.coords[-1], 0) and (pca.coords[0] >= 0).all()
    with pytest.raises(ConfigError, match="fewer than 3 dimensions"):
        trajectory_pca(traj, 3)


def test_a_real_trajectory_states_its_error_and_matches_sklearn(run):
    model, _, _, result, X, y = run
    traj = result.trajectory
    pca = trajectory_pca(traj, 2, loss_fn=split_loss(model, X, y))
    d = (traj.points - traj.points[-1]).double().numpy()
    ref = PCA(n_components=2).fit(d)
    np.testing.assert_allclose(pca.explained_variance_ratio, ref.explained_variance_ratio_,
                               rtol=1e-4)
    for i, direction in enumerate(pca.directions):
        u = traj.layout.flatten(direction.tensors, dtype=torch.float64).numpy()
        assert abs(abs(u @ ref.components_[i]) - 1) < 1e-4
    assert 0 < pca.explained_share < 1 and pca.residual_norm.max() > 0
    np.testing.assert_allclose((pca.coords**2).sum(1) + pca.residual_norm**2,
                               (d**2).sum(1), rtol=1e-4)
    np.testing.assert_allclose(pca.real_loss[[0, -1]],
                               [result.initial_loss, result.final_loss], rtol=1e-6)
    assert pca.projected_loss[-1] == pytest.approx(pca.real_loss[-1], rel=1e-6)
    out = pca.to_json()
    assert out["max_abs_loss_error"] == pytest.approx(np.abs(pca.loss_error).max())
