"""LossPattern desktop GUI (PySide6 + pyqtgraph + vispy) over the ``losspattern_core`` API.

Importing this package loads no Qt: ``app.render`` renders bundles without a display.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
