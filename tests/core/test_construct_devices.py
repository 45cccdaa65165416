"""Both constructions on every device torch sees (CPU here; CUDA too on a GPU machine):
the run finishes, leaves its network on the requested device, and its measured train surface
is the exact one the reference loop gives on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import losspattern_core as lp

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("theorem", [1, 2])
def test_construction_runs_and_measures_exactly_on(device, theorem, monkeypatch):
    import losspattern_core.constructions.theorem2 as t2
    import losspattern_core.constructions.theorem2_shared as t2s

    monkeypatch.setattr(t2s, "CLASSIFIER_STEPS", 60)
    cfg = lp.ConstructionConfig(pattern="bowl", dataset="digits", theorem=theorem, steps=40,
                                width=32, grid=6, batch=128, snapshot_every=20, device=device)
    resolved = lp.validate(cfg)
    gen = lp.construct(resolved) if theorem == 1 else t2.construct(resolved, run_baseline=False)
    frames: list = []
    con = lp.drive(gen, frames.append)
    assert frames[-1].step == frames[-1].total
    assert next(con.model.parameters()).device.type == device
    m = lp.measure_surfaces(con, splits=("train",))
    X, y = resolved.dataset.split("train")
    cpu_model = __import__("copy").deepcopy(con.model).cpu()
    ref = lp.naive_surface(cpu_model, con.directions, X, y, lp.range_points(6, 2),
                           classes=resolved.dataset.classes)
    assert np.allclose(m.surfaces["train"].ravel(), ref[:, 0], rtol=1e-5, atol=1e-6)
    assert next(con.model.parameters()).device.type == device   # measuring moved nothing
