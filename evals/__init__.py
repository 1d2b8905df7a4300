"""Offline evaluation: datasets of reference cases, their loaders and the metrics that score them."""
