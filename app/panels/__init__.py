"""Side panels: pattern, dataset, network, run and metrics (each a small QWidget)."""
