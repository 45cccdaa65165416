"""Help → About: the version, the paper, what each theorem does, the keyboard shortcuts."""

from __future__ import annotations

import html

from . import __version__, messages
from .captions import T1_NOTE, T2_NOTE

PAPER = ("Czarnecki, Osindero, Pascanu, Jaderberg (2019): <i>Deep neural network loss surfaces "
         "contain every low-dimensional pattern</i>, arXiv "
         "<a href='https://arxiv.org/abs/1912.07559'>1912.07559</a>")


def about_html(actions: dict) -> str:
    """The About text (rich text), with every action that has a shortcut."""
    keys = "".join(f"<tr><td><b>{html.escape(a.shortcut().toString())}</b></td>"
                   f"<td>{html.escape(a.text().replace('&', ''))}</td></tr>"
                   for a in actions.values() if not a.shortcut().isEmpty())
    return (f"<h3>LossPattern {__version__}</h3>"
            f"<p>Draws a pattern into a real network's loss surface and measures it: every "
            f"surface shown is the network's mean loss over a whole data split.</p>"
            f"<p>{PAPER}</p>"
            f"<p>{html.escape(T1_NOTE)}</p><p>{html.escape(T2_NOTE)}</p>"
            f"<p>Panels are dock widgets: drag a title bar to move, tabify or float one; the "
            f"View menu shows a closed one again. Number fields change with the mouse wheel "
            f"only after a click in them.</p>"
            f"<table>{keys}</table>")


def show_about(window) -> None:
    from PySide6.QtGui import QAction

    # every action of the window with a shortcut: the menus', and those other parts add
    # (Open bundle, Export…, the Explore dock's toggle)
    found = {id(a): a for a in window.findChildren(QAction)}
    messages.info(window, "About LossPattern", about_html({**window.actions, **found}))
