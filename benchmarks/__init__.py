"""LossPattern's benchmarks (run from the repository root; not part of the installed package).

``python -m benchmarks.evaluator``: the exact surface evaluator against per-point baselines.
"""
