"""Grid chunks as Ray tasks: one local Ray instance (2 CPUs) per module; the values equal the
local exact evaluator's bit for bit, progress streams, a chunk that fails or whose worker dies
is evaluated again, and addresses where no cluster answers fail fast with a clear message."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from losspattern_core.data.datasets import load_dataset
from losspattern_core.distributed import RayUnavailable, ray_surfaces
from losspattern_core.distributed.chunk import FAIL_ONCE_ENV, evaluate_chunk
from losspattern_core.distributed.connect import IMPORT_ALLOWANCE_S, import_ray, probe
from losspattern_core.errors import LossPatternError
from losspattern_core.grid import range_points
from losspattern_core.io.bundle import load_bundle
from losspattern_core.measure.verify import bundle_split
from losspattern_core.networks import NetworkSpec, build_network
from losspattern_core.surface import evaluate_points, point_statistics, random_direction

GRID = 16


def write_mlp_bundle(out: Path) -> Path:
    """A small ordinary MLP on digits with two dense random directions (format 2)."""
    from benchmarks.explore import write_bundle

    ds = load_dataset("digits")
    spec = NetworkSpec(64, 10, family="mlp", activation="relu", width=32, depth=2)
    net = build_network(spec, seed=0).eval()
    dirs = [random_direction(net, seed=s) for s in (1, 2)]
    return write_bundle(out, net, dirs, ds, spec, [[-1.0, 1.0], [-0.5, 1.5]], GRID)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return write_mlp_bundle(tmp_path_factory.mktemp("ray") / "mlp")


@pytest.fixture(scope="module")
def local(bundle):
    """The local evaluator's loss and accuracy on the 16x16 grid, per split."""
    b, ds = load_bundle(bundle), load_dataset("digits")
    pts = range_points(GRID, 2, b.alpha_range)
    out = {}
    for s in ("train", "test"):
        X, y = bundle_split(b, ds, s)
        out[s] = {"loss": evaluate_points(b.model, b.directions, X, y, pts, classes=10)[0],
                  "acc": point_statistics(b.model, b.directions, X, y, pts, classes=10).acc}
    return pts, out


@pytest.fixture(scope="module")
def ray_local(tmp_path_factory):
    """One local Ray instance with 2 CPUs for the module; the fail-once hook is armed by
    creating its flag file (workers inherit the variables set before ray.init)."""
    try:
        ray = import_ray()
    except RayUnavailable as exc:
        print(f"SKIPPED: {exc}", file=sys.stderr)
        pytest.skip(f"Ray cannot be imported: {exc}")
    flags = tmp_path_factory.mktemp("flags")
    mp = pytest.MonkeyPatch()
    mp.setenv(FAIL_ONCE_ENV, str(flags / "fail-once"))
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    yield ray, flags / "fail-once"
    ray.shutdown()
    mp.undo()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_an_address_where_nothing_listens_fails_fast_with_the_advice(bundle, monkeypatch):
    pytest.importorskip("ray")
    import ray

    if ray.is_initialized():        # another module's instance: this needs a fresh connect
        pytest.skip("a Ray connection is open in this process")
    t0 = time.monotonic()
    with pytest.raises(RayUnavailable, match="no Ray cluster answers at 127.0.0.1:.*run "
                                             "without --ray"):
        ray_surfaces(bundle, np.zeros((2, 2)), address=f"127.0.0.1:{_closed_port()}")
    assert time.monotonic() - t0 < 30


def test_check_reachable_refuses_a_closed_port_and_passes_local_without_starting_ray():
    pytest.importorskip("ray")
    import ray

    from losspattern_core.distributed.connect import check_reachable

    if ray.is_initialized():        # runs before the module's instance starts (file order)
        pytest.skip("a Ray connection is open in this process")

    with pytest.raises(RayUnavailable, match="no Ray cluster answers at 127.0.0.1:"):
        check_reachable(f"127.0.0.1:{_closed_port()}")
    started = ray.is_initialized()
    check_reachable("local:2")              # a private instance is started later, not here
    assert ray.is_initialized() == started


def test_a_port_that_accepts_but_is_not_ray_fails_within_the_bound():
    pytest.importorskip("ray")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    host_port = f"127.0.0.1:{srv.getsockname()[1]}"
    try:        # the same probe ray_surfaces runs, with a 2 s bound instead of 10 s
        t0 = time.monotonic()
        with pytest.raises(RayUnavailable, match=f"no Ray cluster answers at {host_port}"):
            probe(host_port, host_port, timeout=2.0)
        assert time.monotonic() - t0 < 2.0 + IMPORT_ALLOWANCE_S + 5   # 2 s once Ray loaded
    finally:
        srv.close()


def test_ray_missing_names_the_install_command(monkeypatch, bundle):
    monkeypatch.setitem(sys.modules, "ray", None)      # import ray raises ImportError
    with pytest.raises(RayUnavailable, match=r"pip install -e \"\.\[ray\]\""):
        ray_surfaces(bundle, np.zeros((2, 2)))


def test_ray_values_equal_the_local_evaluator_and_progress_streams(ray_local, bundle, local):
    pts, want = local
    seen = []
    got = ray_surfaces(bundle, pts, chunk=40, on_progress=lambda d, t: seen.append((d, t)))
    for s in ("train", "test"):
        assert np.array_equal(got[s]["loss"], want[s]["loss"])
        assert np.array_equal(got[s]["acc"], want[s]["acc"])
    assert len(seen) > 4 and seen[-1] == (2 * len(pts), 2 * len(pts))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_chunk_that_raises_once_is_submitted_again(ray_local, bundle, local):
    _, flag = ray_local
    pts, want = local
    flag.write_text("raise")
    got = ray_surfaces(bundle, pts[:64], splits=("test",), chunk=16, accuracy=False)
    assert not flag.exists()                      # the hook fired in a worker
    assert np.array_equal(got["test"]["loss"], want["test"]["loss"][:64])
    assert set(got["test"]) == {"loss"}


def test_no_retries_left_is_a_clear_error(ray_local, bundle, local):
    _, flag = ray_local
    flag.write_text("raise")
    with pytest.raises(LossPatternError, match="failed on Ray 1 times"):
        ray_surfaces(bundle, local[0][:8], splits=("test",), chunk=8, retries=0)


def test_a_worker_that_dies_is_retried(ray_local, bundle, local):
    _, flag = ray_local
    pts, want = local
    flag.write_text("exit")                       # the worker that takes it exits at once
    got = ray_surfaces(bundle, pts[:32], splits=("train",), chunk=16, accuracy=False)
    assert not flag.exists()
    assert np.array_equal(got["train"]["loss"], want["train"]["loss"][:32])


def test_a_bad_bundle_is_reported_from_the_worker_without_retrying(ray_local, tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "construction.json").write_text("{}")
    with pytest.raises(LossPatternError, match="on a Ray worker"):
        ray_surfaces(folder, np.zeros((4, 2)))


def test_measure_ray_writes_the_local_evaluators_surface(ray_local, bundle, tmp_path, capsys):
    from losspattern_core.cli import build_parser

    out = tmp_path / "s.npy"
    args = build_parser().parse_args(["measure", str(bundle), "--grid", "6", "--split", "test",
                                      "--ray", "--out", str(out)])
    assert args.func(args) == 0
    b, ds = load_bundle(bundle), load_dataset("digits")
    X, y = bundle_split(b, ds, "test")
    want = evaluate_points(b.model, b.directions, X, y, range_points(6, 2, b.alpha_range),
                           classes=10)[0]
    assert np.array_equal(np.load(out), want.reshape(6, 6).astype(np.float32))
    assert "36/36 points" in capsys.readouterr().out


@pytest.mark.parametrize("kw, words", [
    (dict(points=np.zeros((0, 2))), "points"), (dict(points=np.full((2, 2), np.nan)), "points"),
    (dict(splits=("val",)), "splits"), (dict(chunk=0), "chunk"), (dict(retries=-1), "retries"),
    (dict(num_workers=0), "num_workers"), (dict(address="local:0"), "local:N"),
])
def test_bad_arguments_are_refused_before_any_work(bundle, kw, words):
    args = {"points": np.zeros((2, 2)), **kw}
    with pytest.raises(LossPatternError, match=words):
        ray_surfaces(bundle, **{k: v for k, v in args.items() if k != "points"},
                     points=args["points"])


def test_the_worker_function_alone_equals_the_evaluator(bundle, local):
    pts, want = local
    torch.set_num_threads(1)
    got = evaluate_chunk(str(bundle), pts[:23], ("test",))
    assert np.array_equal(got["test"]["loss"], want["test"]["loss"][:23])
    assert np.array_equal(got["test"]["acc"], want["test"]["acc"][:23])

