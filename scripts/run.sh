#!/usr/bin/env bash
# Set up (scripts/setup.sh), then open the LossPattern window on a built-in pattern and dataset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f app/main.py ]; then
  exec .venv/bin/python -m app "$@"
fi
# Before the desktop app exists: the headless construction with a PNG result.
.venv/bin/losspattern construct --pattern mountains --dataset digits --out losspattern-out/demo --overwrite "$@"
echo "open losspattern-out/demo/figure.png"
