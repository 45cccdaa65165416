"""Run one case in a forked child with a timeout and a memory cap, and classify the result.

The parent imports torch and the CLI once; each case forks, so a case costs milliseconds of
start-up instead of a new interpreter's second. The child writes its stdout/stderr to files,
caps its address space (RLIMIT_AS) and calls ``main(argv)``; anything escaping ``main`` is
printed as a traceback and ends the child with exit 99.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

OUTCOMES = ("refused", "accepted", "traceback", "hang", "crash", "wrongly accepted",
            "unclear message", "out of memory")
PASSING = ("refused", "accepted")


@dataclass(frozen=True)
class Special:
    """A file-system entry that is not a plain file: fifo, dir, symlink (to ``target``),
    sparse (a file of ``size`` bytes that holds no data)."""

    kind: str
    target: str = ""
    size: int = 0


@dataclass
class Case:
    """One input: files to lay out in a fresh folder, the command line, and what is expected.

    ``expect``: "refuse" (the input is malformed: accepting it is wrong) or "any" (accepting
    is fine if ``oracle`` confirms the output). ``argv`` may use ``{dir}`` for the folder.
    """

    family: str
    name: str
    argv: list[str]
    files: dict[str, bytes | Special] = field(default_factory=dict)
    expect: str = "refuse"
    oracle: str = ""
    env: dict[str, str] = field(default_factory=dict)
    call: str = ""   # instead of the CLI: a function "module:name" called with argv[0]


@dataclass
class Result:
    case: Case
    outcome: str
    rc: int | None
    seconds: float
    detail: str = ""


def lay_out(case: Case, folder: Path) -> None:
    """Create the case's files (parents first); bytes may be huge only as Special sparse."""
    for rel, content in case.files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Special):
            if content.kind == "fifo":
                os.mkfifo(path)
            elif content.kind == "dir":
                path.mkdir(exist_ok=True)
            elif content.kind == "symlink":
                os.symlink(content.target.format(dir=folder), path)
            elif content.kind == "sparse":
                with open(path, "wb") as fh:
                    fh.truncate(content.size)
        else:
            path.write_bytes(content)


def _child(case: Case, folder: Path, mem_bytes: int) -> None:
    """In the forked child: redirect output, cap memory, run, never return."""
    try:
        out = os.open(folder / ".stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(folder / ".stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        os.chdir(folder)
        os.environ.update(case.env)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if mem_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
        argv = [a.format(dir=folder) for a in case.argv]
        if case.call:
            import importlib

            module, name = case.call.split(":")
            rc = _call(getattr(importlib.import_module(module), name), argv)
        else:
            from losspattern_core.cli import main

            rc = main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(rc or 0))
    except SystemExit as exc:
        sys.stderr.flush()
        os._exit(exc.code if isinstance(exc.code, int) else 2)
    except BaseException:  # noqa: B036 - anything at all must be reported, then exit
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(99)


def _call(fn: Callable, argv: list[str]) -> int:
    """A library entry point: LossPatternError is a clean refusal (exit 2)."""
    from losspattern_core.errors import LossPatternError

    try:
        fn(*argv)
    except LossPatternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _classify(rc: int | None, err: str) -> tuple[str, str]:
    last = err.strip().splitlines()[-1] if err.strip() else ""
    if "Traceback (most recent call last)" in err or rc == 99:
        return "traceback", last
    if rc is not None and rc < 0:
        return "crash", f"signal {-rc}"
    if "out of memory" in err:
        return "out of memory", last
    if rc == 2:
        msg = [ln for ln in err.splitlines() if ln.startswith(("error:", "losspattern"))]
        text = msg[-1] if msg else last
        reason = re.sub(r"^(error:|.*error: argument [^:]*:)\s*", "", text)
        if len(reason.strip(" :")) < 8 or reason.startswith(": "):
            return "unclear message", text
        return "refused", text
    if rc == 1:
        return "refused", last       # verify's reported mismatch
    if rc == 0:
        return "accepted", ""
    return "crash", f"exit {rc}: {last}"


def run_case(case: Case, timeout: float = 60.0, mem_bytes: int = 0,
             oracles: dict[str, Callable] | None = None, keep: bool = False) -> Result:
    """Lay out, fork, wait (kill at ``timeout``), classify, check acceptances."""
    folder = Path(tempfile.mkdtemp(prefix="lp-fuzz-"))
    t0 = time.perf_counter()
    try:
        lay_out(case, folder)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(case, folder, mem_bytes)
        rc = _wait(pid, timeout)
        seconds = time.perf_counter() - t0
        if rc is None:
            return Result(case, "hang", None, seconds, f"killed after {timeout:g} s")
        err = _read(folder / ".stderr")
        outcome, detail = _classify(rc, err)
        if outcome == "accepted":
            if case.expect == "refuse":
                outcome, detail = "wrongly accepted", "a malformed input was accepted"
            elif case.oracle and oracles:
                problem = oracles[case.oracle](case, folder, _read(folder / ".stdout"))
                if problem:
                    outcome, detail = "wrongly accepted", problem
        return Result(case, outcome, rc, seconds, detail)
    finally:
        if not keep:
            _remove(folder)


def _wait(pid: int, timeout: float) -> int | None:
    """Exit code (negative: killed by that signal), or None after killing a hung child."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _remove(folder: Path) -> None:
    for p in folder.rglob("*"):  # FIFOs and links are removed like files
        if p.is_symlink() or p.is_fifo():
            p.unlink()
    shutil.rmtree(folder, ignore_errors=True)
