"""What the views are set to (Qt-free): the ``ViewState`` record and the state's methods that
change it (part of ``AppState``, see ``state.py``; split out to keep that class short).

A change ends by emitting the ``view`` topic through the state's ``_notify``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .shown import minimum_fracs

VIEW_SAVED = {"source3d": str, "colormap": str, "tab": int}   # what settings keep


@dataclass(frozen=True)
class ViewState:
    """What the views are set to, independent of the data."""

    source3d: str = "train"                            # what the 3-D view shows
    colormap: str = "viridis"
    slice_axis: int = 2                                # z = 3: the direction the slices hold
    slices: tuple[float, float, float] = (0.5, 0.5, 0.5)   # where each direction is held
    slices_follow_minimum: bool = True                 # until the user moves them
    tab: int = 0


class ViewControls:
    """The view-setting methods of ``AppState`` (which provides ``view``, ``shown`` and
    ``_notify``)."""

    def set_view(self, **fields) -> None:
        new = dataclasses.replace(self.view, **fields)
        if new != self.view:
            self.view = new
            self._notify("view")

    def set_slice(self, axis: int | None = None, frac: float | None = None) -> None:
        """The user holds direction ``axis`` at ``frac``: slices stop following the minimum."""
        axis = self.view.slice_axis if axis is None else int(axis)
        slices = list(self.view.slices)
        if frac is not None:
            slices[axis] = float(np.clip(frac, 0.0, 1.0))
        self.set_view(slice_axis=axis, slices=tuple(slices), slices_follow_minimum=False)

    def set_slices(self, fracs) -> None:
        """The user moved the three planes (3-D volume view)."""
        slices = tuple(float(np.clip(f, 0.0, 1.0)) for f in fracs)
        self.set_view(slices=slices, slices_follow_minimum=False)

    def slice_through_minimum(self) -> None:
        """Slices through the shown target's minimum, and follow it from now on."""
        fracs = minimum_fracs(self.shown.target, self.shown.heads)
        if fracs is not None:
            self.set_view(slices=tuple(fracs), slices_follow_minimum=True)

    def saved_view(self) -> dict:
        return {k: getattr(self.view, k) for k in VIEW_SAVED}

    def restore_view(self, view: dict) -> None:
        """Apply a saved view; unreadable values are skipped."""
        ok = {}
        for key, kind in VIEW_SAVED.items():
            try:
                if key in view:
                    ok[key] = kind(view[key])
            except (TypeError, ValueError):
                pass
        self.set_view(**ok)

    def _follow_minimum(self) -> bool:
        """z = 3: slices go through the shown target's minimum until the user moves them."""
        if not self.view.slices_follow_minimum or self.shown.z < 3:
            return False
        fracs = minimum_fracs(self.shown.target, self.shown.heads)
        if fracs is None or tuple(fracs) == self.view.slices:
            return False
        self.view = dataclasses.replace(self.view, slices=tuple(fracs))
        return True
