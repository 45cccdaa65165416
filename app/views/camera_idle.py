"""Whether a 3-D view's camera is being moved, and a call once it has rested.

While a person drags, scrolls or otherwise turns a 3-D view, every frame the software renderer
draws competes with new surface data arriving from a run (a mesh upload, new tick labels). The
views therefore hold new data back while the camera moves and apply the latest of it once the
camera has rested for ``IDLE_MS``: the picture that stops is always the newest data.

The camera counts as moving while a mouse button is held on the canvas and until ``IDLE_MS``
after the last change of the scene's transform (drag, wheel, keys or a program turning it).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

IDLE_MS = 150


class CameraIdle(QObject):
    """Watches one vispy view (``scene.view`` and ``scene.canvas``) and calls ``on_rest`` each
    time its camera comes to rest after moving."""

    def __init__(self, scene, on_rest: Callable[[], None], idle_ms: int = IDLE_MS,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._on_rest = on_rest
        self._pressed = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(idle_ms)
        self._timer.timeout.connect(self._rested)
        # the camera keeps one transform and changes its matrix: that is the signal of motion
        # (drag, wheel, keys, a program, a resize of the canvas)
        scene.view.camera.transform.changed.connect(self.moved)
        canvas = scene.canvas
        canvas.events.mouse_press.connect(self._press)
        canvas.events.mouse_release.connect(self._release)
        canvas.events.mouse_move.connect(self._hover)
        canvas.events.mouse_wheel.connect(self.moved)

    def set_idle_ms(self, ms: int) -> None:
        """How long the camera must be still to count as resting."""
        self._timer.setInterval(int(ms))

    @property
    def moving(self) -> bool:
        """True while a button is held on the canvas or the view changed under IDLE_MS ago."""
        return self._pressed or self._timer.isActive()

    def moved(self, event=None) -> None:
        """The camera changed: rest is IDLE_MS from now."""
        self._timer.start()

    def _press(self, event=None) -> None:
        self._pressed = True
        self._timer.stop()

    def _release(self, event=None) -> None:
        self._pressed = False
        self.moved()

    def _hover(self, event=None) -> None:
        # a release Qt never delivered (focus lost mid-drag) must not hold data back for good
        if self._pressed and event is not None and not getattr(event, "buttons", None):
            self._release()

    def _rested(self) -> None:
        if not self._pressed:
            self._on_rest()
