"""What the run controller and the explore controller share about their worker threads: each
keeps ``{run id: (QThread, worker, cancel Event)}``; these count and join them."""

from __future__ import annotations


def running_count(threads: dict) -> int:
    """How many of the registered threads still run."""
    return sum(1 for thread, _, _ in threads.values() if thread.isRunning())


def stop_and_join(threads: dict, timeout_ms: int) -> bool:
    """Set every job's cancel Event, end its thread's event loop and wait for it (the window
    closes). True if every thread stopped within ``timeout_ms``."""
    ok = True
    for thread, _, event in list(threads.values()):
        event.set()
        thread.quit()
        ok = thread.wait(timeout_ms) and ok
    return ok
