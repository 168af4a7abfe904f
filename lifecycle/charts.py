"""Plotly figures of the lifecycle pages (plain dicts, drawn by static/js/dashboard.js)."""

from __future__ import annotations

import numpy as np

from monitoring.charts.base import empty_figure, layout


def threshold_figure(*, curve: dict | None, current: float | None, recommended: float | None) -> dict:
    """Precision and recall against the threshold, with the current and the recommended one."""
    title = "Precision and recall by threshold"
    if not curve:
        return empty_figure(title=title, reason="No labelled predictions of this version yet.")
    data = [
        {"type": "scatter", "mode": "lines", "name": "precision", "x": curve["threshold"], "y": curve["precision"]},
        {"type": "scatter", "mode": "lines", "name": "recall", "x": curve["threshold"], "y": curve["recall"]},
    ]
    shapes, notes = [], []
    for value, name, dash in ((current, "current", "solid"), (recommended, "recommended", "dash")):
        if value is not None:
            shapes.append({"type": "line", "x0": value, "x1": value, "y0": 0, "y1": 1, "yref": "paper",
                           "line": {"dash": dash, "width": 2}})
            notes.append({"x": value, "y": 1.02, "yref": "paper", "text": f"{name} {value:.3f}", "showarrow": False})
    return {"data": data, "layout": layout(title=title, x_title="Threshold (score ≥ threshold is positive)",
                                          y_title="Share", shapes=shapes, annotations=notes)}


def score_pairs_figure(*, score_a: np.ndarray, score_b: np.ndarray, label: np.ndarray, a: str, b: str,
                       limit: int = 3000) -> dict:
    """Each paired request's two scores (a sample), coloured by its label where known. SVG, not WebGL:
    a few thousand points draw fast, and browsers without WebGL (remote desktops, VMs) still show it."""
    title = f"Scores of {a} and {b} on the same requests"
    if score_a.size == 0:
        return empty_figure(title=title, reason="No request was predicted by both versions in this range.")
    idx = np.random.default_rng(0).choice(score_a.size, size=min(limit, score_a.size), replace=False)
    data = []
    for name, mask in (("label 1", label[idx] >= 0.5), ("label 0", label[idx] < 0.5), ("no label yet", np.isnan(label[idx]))):
        if mask.any():
            data.append({"type": "scatter", "mode": "markers", "name": name, "x": score_a[idx][mask].tolist(),
                         "y": score_b[idx][mask].tolist(), "marker": {"size": 4, "opacity": 0.5}})
    return {"data": data, "layout": layout(title=title, x_title=f"score of {a}", y_title=f"score of {b}")}


def metrics_figure(*, metrics: dict, a: str, b: str) -> dict:
    names = [n for n in ("accuracy", "precision", "recall", "f1", "roc_auc", "macro_f1")
             if metrics.get("a", {}).get(n) is not None]
    title = "Metrics on the paired labelled requests"
    if not names:
        return empty_figure(title=title, reason="No paired request is labelled yet.")
    data = [{"type": "bar", "name": v, "x": names, "y": [metrics[side][n] for n in names]}
            for side, v in (("a", a), ("b", b))]
    return {"data": data, "layout": layout(title=title, x_title="", y_title="Value", barmode="group")}
