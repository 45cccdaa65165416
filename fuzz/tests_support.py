"""Entry points the harness's own tests call in a child (to prove hangs are caught)."""

from __future__ import annotations


def read_all(path: str) -> None:
    """Open and read a file the plain way (a FIFO without a writer blocks here forever)."""
    with open(path, "rb") as fh:
        fh.read()
