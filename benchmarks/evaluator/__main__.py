"""Entry point: ``python -m benchmarks.evaluator [--quick] [options]``."""

from .main import main

raise SystemExit(main())
