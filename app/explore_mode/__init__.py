"""Explore mode: an ordinary network's loss landscape (train, then measure coarse to fine),
and the paper's warning (a Theorem 2 network beside an ordinary one)."""
