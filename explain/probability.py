"""SHAP in probability terms for people ("points"), no Django import.

Method: for a log-odds output, the probability change sigmoid(base + sum) - sigmoid(base)
is split across features in proportion to their SHAP values; for a classifier already
explained in probability space the SHAP values are the points. Points are percentage points.
"""

import math

import numpy as np


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def probability_points(*, shap: np.ndarray, link: str, base: float, classifier: bool) -> np.ndarray | None:
    """Per-feature contribution to the probability in percentage points; None for regression."""
    shap = np.asarray(shap, dtype=np.float64)
    if not classifier:
        return None
    if link != "logit":
        return shap * 100.0
    total = float(shap.sum())
    change = _sigmoid(base + total) - _sigmoid(base)
    if abs(total) < 1e-12:
        return np.zeros_like(shap)
    return shap / total * change * 100.0
