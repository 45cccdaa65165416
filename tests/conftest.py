import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_t1():
    """A small but real Theorem 1 construction on digits, measured on train and test."""
    from losspattern_core.config import ConstructionConfig, validate
    from losspattern_core.constructions import construct, drive
    from losspattern_core.measure.metrics import construction_metrics, measure_surfaces

    cfg = ConstructionConfig(pattern="bumps", dataset="digits", steps=300, width=32, grid=12,
                             batch=512, snapshot_every=100)
    frames = []
    con = drive(construct(validate(cfg)), frames.append)
    m = measure_surfaces(con)
    return con, m, construction_metrics(con, m), frames
