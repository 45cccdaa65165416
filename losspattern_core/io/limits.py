"""Size limits for everything read or allocated, checked before the allocation happens.

A tiny input (a 64-byte ``.npy`` header, a spec ``n=10000000,dim=100000``, a grid of 8000)
can ask for terabytes. Every reader and the run-option gate estimate the bytes first and
refuse with the figure and the limit. The memory limit follows the machine: half of the memory
available now (``MemAvailable``), and never more than the address space a resource limit
(``RLIMIT_AS``) leaves this process. ``LOSSPATTERN_MAX_MEMORY`` (bytes, or with a K/M/G suffix)
lowers or raises it.
"""

from __future__ import annotations

import os

from losspattern_core.errors import LossPatternError

ENV = "LOSSPATTERN_MAX_MEMORY"
FRACTION = 0.5                  # of the available memory one request may take
MAX_JSON_BYTES = 16 * 2**20     # construction.json / metrics.json
MAX_JSON_DEPTH = 64             # nesting of JSON arrays/objects
MAX_INT_DIGITS = 30             # integers in JSON documents and option strings
MAX_ZIP_MEMBERS = 64            # .npz archives
MAX_TEXT_BYTES = 64 * 2**20     # a .csv/.txt of values


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _address_space_left() -> int | None:
    """What RLIMIT_AS still allows this process to map (None: no limit)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    used = 0
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return max(0, soft - used)


def parse_bytes(text: str) -> int:
    """'512M', '2G', '1000000' -> bytes (ValueError for anything else)."""
    text = text.strip().upper().removesuffix("B")
    mult = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}.get(text[-1:], 1)
    digits = text[:-1] if mult > 1 else text
    if not digits.isdigit() or len(digits) > 15:
        raise ValueError(f"not a byte count: {text!r}")
    return int(digits) * mult


def memory_limit() -> int:
    """Bytes one request (an array, a dataset, a grid of losses) may take, now."""
    env = os.environ.get(ENV, "").strip()
    if env:
        try:
            return parse_bytes(env)
        except ValueError as exc:
            raise LossPatternError(f"${ENV}={env!r} is not a byte count like 2G or 512M") from exc
    avail = _meminfo_available()
    limit = int(avail * FRACTION) if avail else 4 * 2**30
    left = _address_space_left()
    if left is not None:
        limit = min(limit, int(left * FRACTION))
    return max(limit, 64 * 2**20)


def human(nbytes: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(nbytes) < 1024 or unit == "PiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} EiB"  # pragma: no cover


def check_memory(nbytes: float, what: str, error: type[LossPatternError] = LossPatternError,
                 hint: str = "") -> None:
    """Refuse ``what`` if it needs more than the memory limit (``nbytes`` is an estimate)."""
    limit = memory_limit()
    if nbytes > limit:
        raise error(f"{what} needs about {human(nbytes)} of memory; the limit here is "
                    f"{human(limit)} (half of the available memory, or ${ENV})"
                    + (f". {hint}" if hint else ""))


def check_file_size(size: int, limit: int, what: str,
                    error: type[LossPatternError] = LossPatternError) -> None:
    """Refuse a file larger than ``limit`` bytes (or than the memory limit) before reading it."""
    limit = min(limit, memory_limit())
    if size > limit:
        raise error(f"{what} is {human(size)}; the limit is {human(limit)}")
