"""Fuzz harness for every file and option LossPattern reads.

Hypothesis strategies (``fuzz.strategies``) draw cases: byte-mutated and hand-made malformed
images, arrays (.npy/.npz/.csv), datasets (.npz, IDX folders, synthetic specs), bundles
(mutated files, JSON mutations, FIFOs, symlinks, huge headers) and command-line options. Each
case runs ``losspattern_core.cli.main`` in a forked child (torch imported once in the parent)
under a timeout and an address-space cap (``fuzz.runner``). A case passes only if it ends in a
clean refusal (exit 2, one ``error:`` line naming the problem, no traceback), a reported
mismatch (``verify`` exit 1), or an acceptance that an independent check confirms
(``fuzz.oracle``: files, finiteness, checksums, losses recomputed with plain torch).

    python scripts/fuzz.py --cases 2000          # the full run, prints the summary table
"""
