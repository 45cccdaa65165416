"""The exact surface evaluator's benchmark (``python -m benchmarks.evaluator``).

Modules: ``options`` (command line), ``machine`` (facts read at run time, matmul peak),
``measure`` (peak memory, FLOP counting), ``cases`` (the networks, via the public core API),
``baselines`` (naive loop, loss-landscapes), ``run`` (one run, side by side), ``report``
(markdown from the JSON), ``main`` (writes ``benchmarks/results.{json,md}``).
"""
