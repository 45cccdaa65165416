"""User-facing errors: every message names the problem and what to do about it."""

from __future__ import annotations


class LossPatternError(Exception):
    """A problem the user can fix (bad input, missing data, impossible request).

    Front ends print ``str(err)`` without a traceback.
    """


class DatasetError(LossPatternError):
    """A dataset is unknown, missing or malformed."""


class PatternError(LossPatternError):
    """A pattern is unknown, unreadable, too large or of the wrong shape."""


class ConfigError(LossPatternError):
    """A run configuration is impossible (loss range below the floor, bad sizes, ...)."""


class BundleError(LossPatternError):
    """A construction bundle is missing files, inconsistent or from a newer format."""


class ConstructionError(LossPatternError):
    """The construction failed while running (for example the regression diverged)."""
