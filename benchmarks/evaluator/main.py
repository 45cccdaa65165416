"""``python -m benchmarks.evaluator``: run the benchmark, write its JSON and markdown."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .options import parser, resolve


def write(res: dict, json_path: str, md_path: str) -> str:
    """Write the result and its report; return the report."""
    from .report import markdown

    text = json.dumps(res, indent=2, default=float)
    report = markdown(json.loads(text))  # the report sees exactly what the JSON holds
    for path, body in ((json_path, text + "\n"), (md_path, report)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(body)
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    s = resolve(parser().parse_args(argv))
    # before torch loads (the run imports it): OpenMP reads this once
    os.environ.setdefault("OMP_NUM_THREADS", str(s.threads))
    from losspattern_core.errors import LossPatternError

    from .run import run

    try:
        res = run(s, argv)
    except LossPatternError as exc:  # a bad option (e.g. --device cuda without a GPU)
        print(f"benchmark: {exc}", file=sys.stderr)
        return 2
    print(write(res, s.json, s.md))
    print(f"wrote {s.json} and {s.md}")
    return 0
