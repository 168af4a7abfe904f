"""Reads: registry (models, versions, predictions) and metrics (sketches, results)."""
