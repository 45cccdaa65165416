"""Finding and joining a Ray cluster, with clear messages and bounded waits.

``address`` is ``"auto"`` (the cluster this process is already connected to, else the one
``ray start`` recorded on this machine or ``$RAY_ADDRESS``), ``"HOST:PORT"`` / ``"ray://HOST:PORT"``
(a cluster's head), or ``"local:N"`` (start a private local instance with N CPUs, shut down
again afterwards). Before ``ray.init`` is called the head's port is probed with a plain TCP
connection and a GCS request under a deadline, so an address where no cluster answers gives an
error within ``CONNECT_TIMEOUT_S`` seconds instead of Ray's long retries.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from losspattern_core.errors import LossPatternError

CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = 'pip install -e ".[ray]"'
LOCAL = re.compile(r"^local(?::(\d{1,4}))?$")


class RayUnavailable(LossPatternError):
    """Ray is not installed, or no Ray cluster answers at the address given."""


def import_ray():
    """The ``ray`` module, or a ``RayUnavailable`` naming the install command."""
    try:
        import ray
    except ImportError:
        raise RayUnavailable(f"--ray needs Ray, which is not installed here: run {INSTALL_HINT} "
                             "(or run without --ray to evaluate locally)") from None
    return ray


def no_answer(address: str, why: str = "", timeout: float = CONNECT_TIMEOUT_S) -> RayUnavailable:
    reason = f" ({why})" if why else ""
    return RayUnavailable(f"no Ray cluster answers at {address} within {timeout:g} s"
                          f"{reason}; run without --ray to evaluate locally")


def local_cpus(address: str, num_workers: int | None) -> int | None:
    """N for ``"local:N"`` (or ``num_workers`` with ``"local"``); None for a cluster address."""
    m = LOCAL.match(address.strip())
    if m is None:
        return None
    n = int(m.group(1)) if m.group(1) else (num_workers or os.cpu_count() or 1)
    if not 1 <= n <= 4096:
        raise LossPatternError(f"Ray address {address!r}: local:N needs 1 <= N <= 4096 CPUs")
    return n


def head_address(address: str) -> str:
    """HOST:PORT of the cluster's head for ``address`` (``auto`` resolved as Ray does)."""
    plain = address.strip()
    if plain.startswith("ray://"):
        plain = plain[len("ray://"):]
    if plain in ("", "auto"):
        try:
            from ray._private.services import canonicalize_bootstrap_address

            found = canonicalize_bootstrap_address("auto")
        except Exception as exc:  # ConnectionError when ray start ran nowhere on this machine
            raise no_answer(address, f"none was found on this machine: {exc}") from None
        if not found:
            raise no_answer(address, "none was found on this machine")
        plain = found
    if not re.match(r"^[\w.\-\[\]:]+:\d{1,5}$", plain):
        raise LossPatternError(f"Ray address {address!r} is not auto, local:N or HOST:PORT")
    return plain


def probe(address: str, host_port: str, timeout: float = CONNECT_TIMEOUT_S,
          gcs: bool = True) -> None:
    """Raise ``RayUnavailable`` unless a Ray head (its GCS) answers at HOST:PORT in time.

    First a plain TCP connection (nothing listening: an error at once, or after ``timeout``
    for an address that drops packets), then a GCS request with the rest of ``timeout`` from a
    child process (a port that accepts connections but is not a Ray head would otherwise keep
    Ray retrying for minutes). ``ray.init`` itself must run on the main thread.
    ``gcs=False`` (a ``ray://`` client server, which is not the GCS port) skips the request.
    """
    start = time.monotonic()
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise no_answer(address, exc.strerror or type(exc).__name__, timeout) from None
    if not gcs:
        return
    why = _gcs_silent(host_port, max(0.5, timeout - (time.monotonic() - start)))
    if why is not None:
        raise no_answer(address, why, timeout)


# The GCS request runs in a child process: a Ray GCS client left waiting on a port that is not
# a Ray head must not stay inside this process (a later ray.init here could crash on it).
_PROBE = ("import sys\nfrom ray._raylet import GcsClient\nprint('ready', flush=True)\n"
          "GcsClient(address=sys.argv[1], nums_reconnect_retry=0).internal_kv_get("
          "b'losspattern-probe', namespace=None, timeout=float(sys.argv[2]))\n")
IMPORT_ALLOWANCE_S = 30.0    # the child's own start (importing Ray) on a busy machine


def _gcs_silent(host_port: str, timeout: float) -> str | None:
    """None when a Ray GCS at HOST:PORT answers a request within ``timeout`` (counted once
    the child has imported Ray), else why not. The child is killed when it runs over."""
    import select

    child = subprocess.Popen([sys.executable, "-c", _PROBE, host_port, f"{timeout:g}"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if select.select([child.stdout], [], [], IMPORT_ALLOWANCE_S)[0]:
            child.stdout.readline()                     # "ready": Ray is imported
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        return "the port accepts connections but no Ray head replied"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode != 0:
        lines = [ln for ln in child.stderr.read().strip().splitlines() if ln.strip()]
        return lines[-1][:200] if lines else f"the probe exited with {child.returncode}"
    return None


def check_reachable(address: str, num_workers: int | None = None) -> None:
    """Raise now, before any other work, when ``address`` cannot be used: Ray missing, an
    address that is not auto / local:N / HOST:PORT, ``auto`` with no cluster on this machine,
    or no Ray head answering at HOST:PORT within ``CONNECT_TIMEOUT_S`` (``probe``). A head
    that answered is remembered for ``VERIFIED_FOR_S`` seconds, so the session that follows
    does not ask its GCS again."""
    ray = import_ray()
    if not isinstance(address, str):
        raise LossPatternError(f"Ray address {address!r} must be text")
    if local_cpus(address, num_workers) is not None or ray.is_initialized():
        return
    head = head_address(address)
    probe(address, head, gcs=not address.strip().startswith("ray://"))
    _VERIFIED[head] = time.monotonic()


VERIFIED_FOR_S = 300.0
_VERIFIED: dict[str, float] = {}     # HOST:PORT -> when its GCS last answered a probe


def _recently_verified(head: str) -> bool:
    return time.monotonic() - _VERIFIED.get(head, -1e9) < VERIFIED_FOR_S


@contextmanager
def ray_session(address: str = "auto", num_workers: int | None = None) -> Iterator[object]:
    """Yield the ``ray`` module connected as ``address`` says; disconnect (and stop a local
    instance) afterwards unless the connection was already there."""
    ray = import_ray()
    if not isinstance(address, str):
        raise LossPatternError(f"Ray address {address!r} must be text")
    cpus = local_cpus(address, num_workers)
    if ray.is_initialized():
        yield ray
        return
    quiet = {"log_to_driver": False, "logging_level": "ERROR"}
    try:
        if cpus is not None:
            # address="local": a new private instance even where `ray start` runs a cluster
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
        else:
            head = head_address(address)
            client = address.strip().startswith("ray://")
            probe(address, head, gcs=not client and not _recently_verified(head))
            target = address.strip() if client else head
            ray.init(address=target, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise no_answer(address, f"{type(exc).__name__}: {str(exc)[:200]}") from None
    try:
        yield ray
    finally:
        ray.shutdown()
