"""A tiny evented model (plain Python, no Qt): one ``Event`` per topic of the app's state.

Observers connect a callback without arguments and read the state when called; ``emit``
calls them in the order they connected.
"""

from __future__ import annotations

from collections.abc import Callable

TOPICS = ("choice", "result", "view", "shown", "run")   # the order observers are told in


class Event:
    """Callbacks called in connection order by ``emit`` (no arguments: they read the state)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []

    def connect(self, callback: Callable[[], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[[], None]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self) -> None:
        for callback in list(self._callbacks):
            callback()


class Events:
    """One ``Event`` per topic; ``app/state.py`` says what each topic covers."""

    def __init__(self) -> None:
        for topic in TOPICS:
            setattr(self, topic, Event())
