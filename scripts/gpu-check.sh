#!/usr/bin/env bash
# The GPU check: one prepared run (at most ~8 minutes) on a machine with a CUDA GPU.
#   1. a virtual environment that sees the machine's CUDA torch (created like scripts/setup.sh's,
#      but with the system site-packages, so the installed CUDA torch is used, never the CPU wheel);
#   2. the device-parametrised core tests with CUDA visible (each must run its cuda variants);
#   3. the evaluator benchmark, reduced but meaningful, with --device cuda;
#   4. benchmarks/gpu.md: the GPU, torch/CUDA versions, the test counts, the figures, the commands.
# Exits non-zero, with a message, when no CUDA GPU is visible or a step fails.
#
# Environment:
#   GPU_CHECK_VENV=DIR      the venv to use or create (default .venv)
#   GPU_CHECK_SECONDS=N     total time budget (default 470)
#   GPU_CHECK_OUT=DIR       where gpu.md, gpu-results.{json,md} and gpu-tests.log go
#                           (default benchmarks)
#   GPU_CHECK_QUICK=1       tiny benchmark settings (plumbing check)
#   GPU_CHECK_ALLOW_CPU=1   run on the CPU when no GPU is visible (plumbing check only: gpu.md
#                           then says it is not a GPU run)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${GPU_CHECK_VENV:-.venv}
BUDGET=${GPU_CHECK_SECONDS:-470}
OUT=${GPU_CHECK_OUT:-benchmarks}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"   # the tree's code, installed or not
CMDS="$WORK/commands.txt"
: >"$CMDS"

say() { echo "gpu-check: $*" >&2; }
die() { say "FAILED: $1"; exit "${2:-1}"; }
left() { echo $((BUDGET - SECONDS)); }
# cap CAP: the smaller of CAP and the time left (minus a reserve for writing the report)
cap() { local l=$(($(left) - 20)); [ "$l" -lt 5 ] && l=5; [ "$l" -lt "$1" ] && echo "$l" || echo "$1"; }
record() { printf '%s\n' "$*" >>"$CMDS"; }

# --- 1. the environment ------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV on ${PYTHON:-python3} with its site-packages (its CUDA torch)"
  "${PYTHON:-python3}" -m venv --system-site-packages "$VENV"
fi
PY="$VENV/bin/python"
if ! "$PY" -c "import torch" 2>/dev/null; then
  say "no torch in $VENV: installing the ordinary (CUDA) torch from PyPI"
  timeout "$(cap 240)" "$PY" -m pip install -q "torch>=2.2,<2.14" \
    || die "could not install torch into $VENV (no network?); use a venv whose python has torch"
fi
if ! "$PY" -c "import numpy, scipy, sklearn, PIL, safetensors, pytest, losspattern_core" 2>/dev/null; then
  say "installing the project's dependencies into $VENV"
  timeout "$(cap 180)" "$PY" -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
  "$PY" -c "import numpy, scipy, sklearn, PIL, safetensors, pytest, losspattern_core" \
    || die "the project's dependencies do not import in $VENV"
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)" >&2

DEVICE=cuda
if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  if [ "${GPU_CHECK_ALLOW_CPU:-0}" = 1 ]; then
    say "WARNING: no CUDA GPU visible; GPU_CHECK_ALLOW_CPU=1: checking the plumbing on the CPU"
    DEVICE=cpu
  else
    nvidia-smi -L >&2 2>/dev/null || say "(nvidia-smi is not available either)"
    die "torch in $VENV sees no CUDA GPU (torch.cuda.is_available() is False). Use a venv whose \
torch is a CUDA build (GPU_CHECK_VENV=.venv-gpu makes one on python3's torch), check the driver \
and CUDA_VISIBLE_DEVICES, or set GPU_CHECK_ALLOW_CPU=1 to check only the plumbing." 3
  fi
fi

# --- 2. the device tests -----------------------------------------------------------------------
TESTS=()
for f in tests/core/test_devices.py tests/core/test_construct_devices.py tests/core/test_surface.py; do
  [ -f "$f" ] && TESTS+=("$f")
done
[ "${#TESTS[@]}" -gt 0 ] || die "no device test file found under tests/core"
TEST_CMD=("$PY" -m pytest -v -p no:cacheprovider -p no:pytest-qt "${TESTS[@]}")
record "LOSSPATTERN_BLOCK_GUI=1 ${TEST_CMD[*]}"
say "device tests (${TESTS[*]}), at most $(cap 200) s"
set +e
LOSSPATTERN_BLOCK_GUI=1 timeout "$(cap 200)" "${TEST_CMD[@]}" >"$WORK/tests.log" 2>&1
TESTS_RC=$?
set -e
tail -n 3 "$WORK/tests.log" >&2

# --- 3. the benchmark --------------------------------------------------------------------------
if "$PY" -c "import losspattern_core as lp; lp.load_dataset('fashion-mnist')" 2>/dev/null; then
  BIG=fashion-mnist
else  # the same shape as Fashion-MNIST's train split (60000 x 784), generated
  BIG="synthetic:classes=10,n=75000,dim=784"
  say "fashion-mnist is not installed here: the large case uses $BIG"
fi
if [ "${GPU_CHECK_QUICK:-0}" = 1 ]; then
  BENCH_ARGS=(--quick --grid 8 --baseline-seconds 0.2 --train-steps 5 --batches 2)
else
  BENCH_ARGS=(--datasets digits "$BIG" --grid 64 --big-grid 256 --baseline-seconds 3
              --train-steps 300)
fi
BENCH_JSON="$OUT/gpu-results.json"
BENCH_CMD=("$PY" -m benchmarks.evaluator --device "$DEVICE" "${BENCH_ARGS[@]}"
           --json "$BENCH_JSON" --md "$OUT/gpu-results.md")
record "${BENCH_CMD[*]}"
say "benchmark, at most $(cap 330) s"
rm -f "$BENCH_JSON"
set +e
timeout "$(cap 330)" "${BENCH_CMD[@]}" >"$WORK/bench.log" 2>&1
BENCH_RC=$?
set -e
grep -E "^(matmul|digits|fashion|synthetic|Theorem 1|   )" "$WORK/bench.log" >&2 || tail -n 20 "$WORK/bench.log" >&2

# --- 4. the report -----------------------------------------------------------------------------
record "bash scripts/gpu-check.sh   # GPU_CHECK_QUICK=${GPU_CHECK_QUICK:-0} GPU_CHECK_ALLOW_CPU=${GPU_CHECK_ALLOW_CPU:-0}"
"$PY" -m benchmarks.evaluator.gpu_report --bench-json "$BENCH_JSON" --bench-rc "$BENCH_RC" \
  --tests-log "$WORK/tests.log" --tests-rc "$TESTS_RC" --commands "$CMDS" --device "$DEVICE" \
  --out "$OUT/gpu.md"
cp "$WORK/tests.log" "$OUT/gpu-tests.log"
[ "$BENCH_RC" = 0 ] || { tail -n 30 "$WORK/bench.log" >&2; die "the benchmark failed (exit $BENCH_RC)"; }
[ "$TESTS_RC" = 0 ] || die "the device tests failed (exit $TESTS_RC; $OUT/gpu-tests.log)"
if [ "$DEVICE" = cuda ]; then
  n=$(grep -cE "\[[^]]*cuda[^]]*\] PASSED" "$OUT/gpu-tests.log" || true)
  [ "$n" -gt 0 ] || die "no CUDA-parametrised test ran (is CUDA visible to pytest?)"
fi
say "done in ${SECONDS} s: $OUT/gpu.md"
