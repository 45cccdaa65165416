"""Facts about the machine a benchmark ran on, all read at run time (nothing is assumed).

The CPU's name comes from the operating system where it says (``/proc/cpuinfo`` on Linux,
``sysctl`` on macOS, ``platform`` elsewhere); a fact that cannot be read is recorded as
``None`` and printed as "unknown", never guessed.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time


def cpu_name() -> str | None:
    """The processor's model name, or None where the system does not say."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo") as fh:
                for line in fh:
                    if line.startswith("model name"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"],
                                 capture_output=True, text=True, timeout=5)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or None


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages, or None where the system has none (Windows)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def usable_cpus() -> int | None:
    """CPUs this process may run on (its affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


def facts(torch, threads: int, device: str) -> dict:
    """Everything the report says about the machine, read now."""
    out = {"platform": platform.platform(), "python": platform.python_version(),
           "processor": cpu_name(), "cpus": os.cpu_count(), "usable_cpus": usable_cpus(),
           "torch": torch.__version__, "threads": threads, "device": device,
           "cuda": torch.version.cuda, "gpu": None, "gpu_memory_gib": None,
           "loadavg_start": load_average()}
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        out["gpu"] = props.name
        out["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        out["cudnn"] = torch.backends.cudnn.version()
        out["tf32_matmul"] = bool(torch.backends.cuda.matmul.allow_tf32)
    return out


def sync(torch, device: str) -> None:
    """Wait for queued GPU work, so that a clock read after it includes it."""
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def matmul_gflops(torch, device: str, seconds: float = 1.5, largest: int = 2048) -> dict:
    """Best fp32 square-matmul throughput (GFLOP/s) over sizes 512..``largest`` (larger ones
    too on a GPU), about ``seconds`` in all (each size is timed at least twice)."""
    sizes = tuple(n for n in (512, 1024, 2048) if n <= largest)
    sizes += (4096, 8192) if device.startswith("cuda") else ()
    best = {}
    for n in sizes:
        a = torch.randn(n, n, device=device)
        b = torch.randn(n, n, device=device)
        a @ b  # warm-up (kernel choice, first-touch allocation)
        sync(torch, device)
        t_end, times = time.perf_counter() + seconds / len(sizes), []
        while time.perf_counter() < t_end or len(times) < 2:
            t0 = time.perf_counter()
            a @ b
            sync(torch, device)
            times.append(time.perf_counter() - t0)
        best[n] = 2 * n**3 / min(times) / 1e9
        del a, b
    return {"best_gflops": max(best.values()),
            "by_size": {str(k): round(v, 1) for k, v in best.items()}}
