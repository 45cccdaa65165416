"""How the benchmark measures: peak memory of a block, and the FLOPs a call performs.

Peak memory. On a GPU it is torch's own count: the peak of tensor memory allocated during the
block above what was allocated before it. On a CPU torch keeps no such count, so it is the rise
of the process's resident set: on Linux the kernel's high-water mark is reset before the block
(``/proc/self/clear_refs``) and read after it (``VmHWM``); elsewhere it is the rise of
``ru_maxrss``, which only shows growth beyond the process's earlier peak (a lower bound). The
method used is recorded beside every figure.

FLOPs are counted, not modelled: ``torch.utils.flop_counter.FlopCounterMode`` sees every matrix
product a call dispatches, so the evaluator's accounting needs none of its internals.
"""

from __future__ import annotations

import sys

import torch

import losspattern_core.surface as S

KIB = 1024.0


def _proc_status_kib(key: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (Linux), or None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _reset_linux_peak() -> int | None:
    """Reset the kernel's resident high-water mark; return the resident KiB now, or None where
    that is not possible (not Linux, or /proc not writable).

    glibc keeps freed heap resident, which would hide a later peak inside memory already
    counted; ``malloc_trim`` returns it to the system first (best effort: skipped on another C
    library).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return None
    return _proc_status_kib("VmRSS")


def _maxrss_kib() -> float | None:
    """The process's peak resident set in KiB (ru_maxrss: KiB on Linux, bytes on macOS)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    v = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return v / KIB if sys.platform == "darwin" else float(v)


class PeakMemory:
    """``with PeakMemory(device) as m: ...`` then ``m.mib`` (NaN if unmeasurable) and
    ``m.method``."""

    def __init__(self, device: str = "cpu"):
        self.device = str(device)
        self.mib = float("nan")
        self.method = "unavailable"
        self._before = None

    def __enter__(self) -> PeakMemory:
        if self.device.startswith("cuda"):
            cuda = torch.cuda
            cuda.synchronize()
            cuda.reset_peak_memory_stats(self.device)
            self._before = cuda.memory_allocated(self.device)
            self.method = "GPU: torch.cuda.max_memory_allocated rise (tensor memory)"
            return self
        rss = _reset_linux_peak()
        if rss is not None:
            self._before, self.method = rss, "CPU: resident-set peak rise (VmHWM after reset)"
            return self
        self._before = _maxrss_kib()
        if self._before is not None:
            self.method = "CPU: ru_maxrss rise (lower bound: growth beyond the earlier peak)"
        return self

    def __exit__(self, *exc) -> bool:
        if self._before is None:
            return False
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated(self.device)
            self.mib = (peak - self._before) / KIB**2
        elif self.method.startswith("CPU: resident"):
            hwm = _proc_status_kib("VmHWM")
            self.mib = (hwm - self._before) / KIB if hwm is not None else float("nan")
        else:
            self.mib = (_maxrss_kib() - self._before) / KIB
        return False


def count_flops(fn, *args, **kw) -> float:
    """Matrix-product FLOPs of ``fn(*args, **kw)`` as torch dispatches them."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn(*args, **kw)
    return float(counter.get_total_flops())


def evaluator_flops(model, dirs, X, y, classes: int, device: str, points) -> dict:
    """Ours: FLOPs of ``prepare`` (once) and per grid point (the difference between evaluating
    ``points[:k]`` and ``points[:2k]`` over k: per-point work is linear in the points)."""
    box = {}

    def prep():
        box["p"] = S.prepare(model, dirs, X, y, classes, device)

    once = count_flops(prep)
    k = max(1, min(4, len(points) // 2))
    f = [count_flops(S.evaluate_points, model, dirs, X, y, points[:m], classes=classes,
                     prepared=box["p"]) for m in (k, 2 * k)]
    per = max(f[1] - f[0], 0.0) / k
    return {"once": once, "per_point": per}


def naive_flops(model, dirs, X, y, classes: int, point) -> float:
    """The naive loop's FLOPs for one grid point (the whole split through the network)."""
    return count_flops(S.naive_surface, model, dirs, X, y, [point], classes=classes)
