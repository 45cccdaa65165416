import gc
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def pytest_collection_finish(session):
    """What is alive once the tests are collected (torch, Qt, the app, the test modules: some
    200 000 objects) lives for the whole session: it is moved out of the cyclic collector's
    reach (``gc.freeze``). Every full collection (the Qt leak guard's after each test,
    Python's own) then walks only what the tests made since, not the imports again (~1 s a
    collection on a loaded 2-core machine otherwise). Reference counting still frees them."""
    gc.collect()
    gc.freeze()


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
