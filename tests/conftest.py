import gc
import os
import subprocess

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def pytest_configure(config):
    """Under pytest-xdist with ``LOSSPATTERN_XVFB_PER_WORKER=<screen>`` (scripts/test.sh sets
    it for the GUI part, e.g. ``1280x1024x24``), each worker starts a virtual X server of its
    own before any Qt application exists: two workers' windows on one display would take the
    keyboard focus from each other."""
    screen = os.environ.get("LOSSPATTERN_XVFB_PER_WORKER")
    if not screen or not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    server = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", screen,
                               "-nolisten", "tcp"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    display = server.stdout.readline().decode().strip()   # Xvfb picks a free number
    if not display.isdigit():
        server.kill()
        raise pytest.UsageError(f"Xvfb did not start for worker "
                                f"{os.environ['PYTEST_XDIST_WORKER']}")
    os.environ["DISPLAY"] = f":{display}"
    os.environ.pop("XAUTHORITY", None)   # the shared server's; this one has no cookie

    def stop_server():
        server.terminate()
        server.wait(10)

    config.add_cleanup(stop_server)


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
