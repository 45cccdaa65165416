"""The evaluator benchmark (``python -m benchmarks.evaluator``) on tiny settings.

Runs the documented command through its own entry point (``benchmarks.evaluator.main.main``,
all that ``python -m benchmarks.evaluator`` calls) in this process, which has torch, the
datasets and torch's optimizer machinery imported already (a fresh Python spent most of its
~15 s importing them), and checks what it wrote: every case, ours equal to the naive loop, and
a markdown report whose machine facts are the ones in the JSON (no timing is asserted: speed
depends on the machine).
"""

import contextlib
import copy
import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = ["theorem1", "theorem2", "zero-rows", "dense"]
TOL = 1e-4


def evaluator_module(name: str):
    """benchmarks.evaluator.<name> (benchmarks/ is not installed: imported from the tree)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"benchmarks.evaluator.{name}")


def report_module():
    return evaluator_module("report")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    js, md = out / "r.json", out / "r.md"
    err = io.StringIO()   # the matmul peak: each size still timed twice at least (0.5 s else)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        rc = evaluator_module("main").main(
            ["--quick", "--grid", "8", "--baseline-seconds", "0.2", "--train-steps", "5",
             "--batches", "2", "--matmul-seconds", "0.05", "--json", str(js), "--md", str(md)])
    assert rc == 0, err.getvalue()[-4000:]
    return json.loads(js.read_text()), md.read_text()


def test_every_case_is_present_and_equals_the_naive_loop(quick):
    res, _ = quick
    rows = res["cases"]
    assert [(r["dataset"], r["case"]) for r in rows] == [("digits", c) for c in CASES]
    for r in rows:
        assert r["points"] == 64 and r["checked_points"] >= 2
        assert r["max_abs_diff_vs_naive"] <= TOL, r["case"]
        for ll in r.get("loss_landscapes", []):
            if "max_abs_diff_vs_ours" in ll:  # only when loss-landscapes is installed
                assert ll["max_abs_diff_vs_ours"] <= TOL, (r["case"], ll)
        assert r["flops_per_point"]["naive"] > 0 and r["ours"]["seconds"] > 0


def test_the_structured_cases_take_their_fast_paths(quick):
    res, _ = quick
    by = {r["case"]: r for r in res["cases"]}
    assert by["theorem1"]["ours"]["rows_after_dedup"] == 1   # W1 = 0: the split is one row
    assert "separable" in by["theorem2"]["ours"]["structure"]  # zeros kept through training
    assert "separable" not in by["zero-rows"]["ours"]["structure"]
    # the structure removes work: fewer counted FLOPs per point than the naive loop
    assert by["theorem2"]["flops_per_point"]["ratio"] > by["zero-rows"]["flops_per_point"]["ratio"]


def test_markdown_reports_the_machine_read_into_the_json(quick):
    res, md = quick
    m = res["machine"]
    assert md == report_module().markdown(res)   # the report is a function of the JSON
    for fact in (m["processor"] or "unknown", f"{m['cpus']} logical CPUs", f"torch {m['torch']}",
                 f"**{m['threads']} thread(s)**", f"device **{m['device']}**",
                 f"**{res['matmul_gflops']:.0f} GFLOP/s**"):
        assert fact in md, fact
    for case in CASES:
        assert f"| digits | {case} |" in md


def test_no_machine_fact_is_hard_coded_in_the_report(quick):
    res, md = quick
    fake = copy.deepcopy(res)
    fake["machine"].update(processor="Imaginary CPU 9000", cpus=77, usable_cpus=75,
                           torch="9.9.9", threads=5, device="cpu", platform="TestOS")
    fake["matmul_gflops"] = 12345.0
    text = report_module().markdown(fake)
    assert "Imaginary CPU 9000, 77 logical CPUs (75 usable), TestOS" in text
    assert "torch 9.9.9" in text and "**5 thread(s)**" in text and "12345 GFLOP/s" in text
    assert (res["machine"]["processor"] or "unknown") not in text
    assert f"torch {res['machine']['torch']}" not in text


def test_cuda_without_a_gpu_fails_clearly(tmp_path, capsys):
    """The command's own entry point (what ``python -m benchmarks.evaluator`` calls), run in
    this process: a refusal needs no fresh Python + torch start to be seen."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible here")
    rc = evaluator_module("main").main(["--quick", "--device", "cuda", "--json",
                                        str(tmp_path / "r.json"), "--md", str(tmp_path / "r.md")])
    out = capsys.readouterr()
    assert rc != 0
    assert "cuda" in (out.out + out.err).lower()
    assert not (tmp_path / "r.json").exists()


def test_gpu_report_counts_the_cuda_tests_and_marks_a_cpu_run(quick):
    res, _ = quick
    gr = evaluator_module("gpu_report")
    log = ("tests/core/test_devices.py::test_a[cpu-relu] PASSED [ 25%]\n"
           "tests/core/test_devices.py::test_a[cuda-relu] PASSED [ 50%]\n"
           "tests/core/test_devices.py::test_a[cuda-sin] FAILED [ 75%]\n"
           "tests/core/test_surface.py::test_b SKIPPED (no) [100%]\n"
           "=========== 1 failed, 2 passed, 1 skipped in 1.00s ===========\n")
    t = gr.test_summary(log)
    assert (t["passed"], t["failed"], t["skipped"]) == (2, 1, 1)
    assert (t["cuda_passed"], t["cuda_total"]) == (1, 2)
    assert t["failures"] == ["tests/core/test_devices.py::test_a[cuda-sin]"]
    text = gr.gpu_markdown(res, t, 1, 0, ["cmd one"], None, "cpu")
    assert "Not a GPU run" in text and "1 passed of 2 collected" in text and "cmd one" in text
    assert "| digits | theorem2 |" in text
