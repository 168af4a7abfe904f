"""The decision threshold that meets a recall (or precision) target on labelled predictions."""

from dataclasses import dataclass

import numpy as np

from .intervals import clopper_pearson


@dataclass(frozen=True)
class Curve:
    """Precision and recall of ``score >= threshold`` at every distinct score (descending)."""

    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int


def pr_curve(labels: np.ndarray, scores: np.ndarray) -> Curve | None:
    """Cumulative counts over the distinct scores, highest first; None without a positive."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    positives = int(y.sum())
    if positives == 0:
        return None
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last row of each distinct score
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    return Curve(s[last], tp / (tp + fp), tp / positives, tp, fp, positives)


def best_threshold(
    labels: np.ndarray, scores: np.ndarray, *, min_recall: float | None = None, min_precision: float | None = None,
    level: float = 0.95,
) -> dict | None:
    """Best threshold under one constraint, or None when no threshold meets it.

    ``min_recall``: among thresholds with recall >= target, the highest precision (ties: the
    higher recall). ``min_precision``: among those with precision >= target, the highest recall
    (ties: the higher precision). Bounds are the lower ends of two-sided Clopper-Pearson
    intervals at ``level`` (recall over the positives, precision over the predicted positives).
    """
    if (min_recall is None) == (min_precision is None):
        raise ValueError("give exactly one of min_recall and min_precision")
    curve = pr_curve(labels, scores)
    if curve is None:
        return None
    if min_recall is not None:
        ok = np.flatnonzero(curve.recall >= min_recall - 1e-12)
        keys = (curve.recall[ok], curve.precision[ok])  # lexsort: last key is primary
    else:
        ok = np.flatnonzero(curve.precision >= min_precision - 1e-12)
        keys = (curve.precision[ok], curve.recall[ok])
    if ok.size == 0:
        return None
    i = int(ok[np.lexsort(keys)[-1]])
    tp, fp = int(curve.tp[i]), int(curve.fp[i])
    return {
        "threshold": float(curve.thresholds[i]),
        "precision": float(curve.precision[i]),
        "recall": float(curve.recall[i]),
        "recall_lower_bound": clopper_pearson(tp, curve.positives, level=level)[0],
        "precision_lower_bound": clopper_pearson(tp, tp + fp, level=level)[0],
        "labelled": int(np.asarray(labels).size),
        "positives": curve.positives,
    }


def thin_curve(curve: Curve, points: int = 400) -> dict:
    """At most ``points`` evenly spaced points of the curve, for a chart."""
    idx = np.unique(np.linspace(0, curve.thresholds.size - 1, min(points, curve.thresholds.size)).astype(int))
    return {
        "threshold": curve.thresholds[idx].tolist(),
        "precision": curve.precision[idx].tolist(),
        "recall": curve.recall[idx].tolist(),
    }
