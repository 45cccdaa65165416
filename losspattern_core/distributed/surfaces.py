"""Grid chunks as Ray tasks: ``ray_surfaces`` evaluates a bundle's surfaces on a Ray cluster.

Each task gets only the bundle folder's path, the split names and a plain (P, z) float64 array
of points; the worker loads the bundle and the data itself (``chunk.evaluate_chunk``), so no
model is ever pickled. Results are bit-identical to ``surface.evaluate_points`` run locally on
the same points: the same exact evaluator, per point independent of which chunk it is in.

A chunk whose worker dies is retried by Ray (``max_retries``); a chunk whose task fails is
submitted again by us, up to ``retries`` times, unless the failure is a ``LossPatternError``
(bad bundle, missing dataset on that worker: a retry would fail the same way).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from losspattern_core.errors import LossPatternError

from .connect import ray_session

MAX_CHUNK = 1 << 20


def _check(points, splits, chunk: int, retries: int, num_workers) -> tuple[np.ndarray, tuple]:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or not len(pts) or not np.isfinite(pts).all():
        raise LossPatternError(f"points must be a finite (P, z) array with P >= 1, got shape "
                               f"{pts.shape}")
    splits = tuple(splits)
    if not splits or any(s not in ("train", "test") for s in splits):
        raise LossPatternError(f"splits {splits!r} must be 'train' and/or 'test'")
    if not (isinstance(chunk, int) and 1 <= chunk <= MAX_CHUNK):
        raise LossPatternError(f"chunk {chunk!r} must be an integer in 1..{MAX_CHUNK}")
    if not (isinstance(retries, int) and 0 <= retries <= 100):
        raise LossPatternError(f"retries {retries!r} must be an integer in 0..100")
    if num_workers is not None and not (isinstance(num_workers, int) and num_workers >= 1):
        raise LossPatternError(f"num_workers {num_workers!r} must be a positive integer")
    return pts, splits


def _remote(ray, retries: int):
    """The tasks, with each worker's torch threads set to its CPU share."""
    from .chunk import evaluate_chunk, split_tiles

    def threads() -> None:
        import os

        import torch

        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS") or 1)))

    def tiles(bundle_dir, splits):
        threads()
        return split_tiles(bundle_dir, splits)

    def chunk(bundle_dir, points, split, accuracy):
        threads()
        return evaluate_chunk(bundle_dir, points, (split,), accuracy)[split]

    opts = {"num_cpus": 1, "max_retries": retries}
    return ray.remote(**opts)(tiles), ray.remote(**opts)(chunk)


def _cause(ray, exc: BaseException) -> BaseException:
    """The user-facing error behind a task failure, if it was one."""
    cause = getattr(exc, "cause", None) if isinstance(exc, ray.exceptions.RayTaskError) else None
    return cause if isinstance(cause, LossPatternError) else exc


def ray_surfaces(bundle_dir, points, splits=("train", "test"), address: str = "auto",
                 chunk: int = 256, on_progress: Callable[[int, int], None] | None = None,
                 retries: int = 2, num_workers: int | None = None, *,
                 accuracy: bool = True) -> dict[str, dict[str, np.ndarray]]:
    """Exact loss (and accuracy) of a bundle's network at ``points`` (P, z), on a Ray cluster.

    Returns ``{split: {"loss": (P, heads), "acc": (P, heads)}}`` (``"acc"`` only with
    ``accuracy``), the loss equal to ``evaluate_points`` on the same points. ``address``:
    ``"auto"``, ``"HOST:PORT"``, ``"ray://HOST:PORT"`` or ``"local:N"`` (a private local
    instance with N CPUs; ``"local"`` takes N from ``num_workers``). ``num_workers`` also caps
    the chunks in flight at once. Each split's points go out in chunks of about ``chunk``
    points, rounded to whole tiles of the evaluator (that is what makes the values identical
    to one local call). ``on_progress(done, total)`` is called as each chunk finishes, with
    point evaluations done and in all (points x splits). Every worker needs the bundle
    folder at the same path and the bundle's dataset (same LossPattern install). Raises
    ``RayUnavailable`` (Ray missing, or no cluster answers within 10 s) and
    ``LossPatternError`` (bad input, a chunk that still fails after ``retries``
    re-submissions).
    """
    from pathlib import Path

    pts, splits = _check(points, splits, chunk, retries, num_workers)
    bundle_dir = str(Path(bundle_dir).resolve())
    if not (Path(bundle_dir) / "construction.json").is_file():
        raise LossPatternError(f"{bundle_dir} is not a bundle folder (no construction.json)")
    with ray_session(address, num_workers) as ray:
        tiles_task, chunk_task = _remote(ray, retries)
        tiles = _get_with_retries(ray, lambda: tiles_task.remote(bundle_dir, splits), retries,
                                  "the evaluator's tile sizes")
        jobs = []     # (split, start, stop): whole tiles, so values equal one local call's
        for s in splits:
            size = max(tiles[s], chunk // tiles[s] * tiles[s])
            jobs += [(s, a, min(a + size, len(pts))) for a in range(0, len(pts), size)]
        results = _run(ray, lambda job: chunk_task.remote(bundle_dir, pts[job[1]:job[2]],
                                                          job[0], accuracy),
                       jobs, on_progress, retries, num_workers)
    return {s: {k: np.concatenate([results[j][k] for j in jobs if j[0] == s])
                for k in results[next(j for j in jobs if j[0] == s)]} for s in splits}


def _failure(ray, exc: BaseException, what: str, tries: int, retries: int) -> None:
    """Raise the user-facing error for a failed task, or return when it may be retried."""
    cause = _cause(ray, exc)
    if isinstance(cause, LossPatternError):
        raise type(cause)(f"on a Ray worker: {cause}") from None
    if tries > retries:
        last = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ""
        raise LossPatternError(f"{what} failed on Ray {tries} times; last: "
                               f"{type(exc).__name__} {last}") from None


def _get_with_retries(ray, submit, retries: int, what: str):
    for tries in range(1, retries + 2):
        try:
            return ray.get(submit())
        except (ray.exceptions.RayError, RuntimeError) as exc:
            _failure(ray, exc, what, tries, retries)
    raise AssertionError("unreachable")


def _run(ray, submit, jobs, on_progress, retries, num_workers) -> dict:
    """Submit jobs (at most ``num_workers`` in flight), gather them as they finish; progress
    counts point evaluations (points x splits)."""
    limit = num_workers or len(jobs)
    waiting = list(reversed(jobs))
    pending: dict = {}           # object ref -> job
    tries = dict.fromkeys(jobs, 0)
    results, done, total = {}, 0, sum(b - a for _, a, b in jobs)
    while waiting or pending:
        while waiting and len(pending) < limit:
            job = waiting.pop()
            pending[submit(job)] = job
        ready, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(ready[0])
        try:
            results[job] = ray.get(ready[0])
        except (ray.exceptions.RayError, RuntimeError) as exc:
            tries[job] += 1
            _failure(ray, exc, f"{job[0]} grid points {job[1]}..{job[2] - 1}", tries[job],
                     retries)
            waiting.append(job)      # submitted again next round
            continue
        done += job[2] - job[1]
        if on_progress is not None:
            on_progress(done, total)
    return results
