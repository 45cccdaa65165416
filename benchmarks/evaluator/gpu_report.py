"""``python -m benchmarks.evaluator.gpu_report``: write ``benchmarks/gpu.md`` for
``scripts/gpu-check.sh`` from what the check produced (nothing in it is typed by hand).

Inputs: the benchmark's JSON (machine facts, figures), the device tests' pytest log and exit
status, the command lines the script ran, and ``nvidia-smi``'s description of the GPU when the
tool exists.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

from .report import machine_lines, notes_lines, table_lines


def nvidia_smi() -> str | None:
    """GPU name, driver and memory as nvidia-smi reports them, or None."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def test_summary(log: str) -> dict:
    """Counts from a ``pytest -v`` log: per outcome, and the CUDA-parametrised tests."""
    outcomes = re.findall(r"^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)", log, re.M)
    cuda = [(t, o) for t, o in outcomes if re.search(r"\[[^\]]*cuda[^\]]*\]", t)]
    count = lambda rows, o: sum(1 for _, x in rows if x == o)  # noqa: E731
    last = [ln for ln in log.strip().splitlines() if ln.startswith("=")]
    return {"passed": count(outcomes, "PASSED"), "failed": count(outcomes, "FAILED")
            + count(outcomes, "ERROR"), "skipped": count(outcomes, "SKIPPED"),
            "cuda_passed": count(cuda, "PASSED"), "cuda_total": len(cuda),
            "failures": [t for t, o in outcomes if o in ("FAILED", "ERROR")],
            "summary": last[-1].strip("= ") if last else "no summary line (did pytest run?)"}


def gpu_markdown(res: dict | None, tests: dict, tests_rc: int, bench_rc: int,
                 commands: list[str], smi: str | None, device: str) -> str:
    """The whole gpu.md."""
    lines = ["# GPU check", ""]
    if device != "cuda":
        lines += ["**Not a GPU run**: GPU_CHECK_ALLOW_CPU=1 ran this check's plumbing on the "
                  "CPU. None of the figures below say anything about a GPU.", ""]
    lines += [f"nvidia-smi: {smi or 'not available'}.", ""]
    if res is not None:
        m = res["machine"]
        lines += [f"GPU: {m.get('gpu') or 'none'}; torch {m['torch']}, CUDA "
                  f"{m.get('cuda') or 'none'}, cuDNN {m.get('cudnn') or 'n/a'}.", ""]
    lines += ["## Device tests", "",
              f"Exit status {tests_rc}: {tests['summary']}. CUDA-parametrised tests: "
              f"{tests['cuda_passed']} passed of {tests['cuda_total']} collected.", ""]
    lines += [f"- failed: `{t}`" for t in tests["failures"]]
    lines += ["", "## Evaluator benchmark", ""]
    if res is None:
        lines += [f"The benchmark wrote no result (exit status {bench_rc}).", ""]
    else:
        lines += [f"Exit status {bench_rc}.", "", *machine_lines(res), "", *table_lines(res), "",
                  *notes_lines(res)]
    lines += ["## Commands", "", "```", *commands, "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.evaluator.gpu_report")
    p.add_argument("--bench-json", required=True)
    p.add_argument("--bench-rc", type=int, required=True)
    p.add_argument("--tests-log", required=True)
    p.add_argument("--tests-rc", type=int, required=True)
    p.add_argument("--commands", required=True, help="file: one command line per line")
    p.add_argument("--device", required=True)
    p.add_argument("--out", default="benchmarks/gpu.md")
    a = p.parse_args(argv)
    bj = Path(a.bench_json)
    res = json.loads(bj.read_text()) if bj.is_file() and a.bench_rc == 0 else None
    log = Path(a.tests_log).read_text() if Path(a.tests_log).is_file() else ""
    tests = test_summary(log)
    cmds = Path(a.commands).read_text().splitlines()
    text = gpu_markdown(res, tests, a.tests_rc, a.bench_rc, cmds, nvidia_smi(), a.device)
    Path(a.out).write_text(text)
    print(f"wrote {a.out}: tests rc {a.tests_rc} ({tests['summary']}), CUDA tests "
          f"{tests['cuda_passed']}/{tests['cuda_total']}, benchmark rc {a.bench_rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
