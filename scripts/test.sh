#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the whole test suite under a virtual X server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=xcb OMP_NUM_THREADS=1
command -v xvfb-run >/dev/null || { echo "xvfb-run is missing: install xvfb (setup.sh does as root)" >&2; exit 1; }
set +e
xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then echo "no test was collected: failing" >&2; exit 1; fi
exit "$rc"
