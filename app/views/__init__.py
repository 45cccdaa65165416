"""Views: pyqtgraph heatmaps and curves, vispy surface and volume (numpy in, pixels out).

Qt-free modules here (``arrays``, ``surface_scene``, ``heatmap_scene``) are shared with
``app.render``; importing this package imports nothing.
"""
