"""Label-free performance estimation (confidence-based, as NannyML's CBPE).

If the model's scores are calibrated probabilities, a row with calibrated probability p is
a true positive with probability p when predicted positive, so the expected confusion
counts of a window follow from its counts per score bin alone, before any label arrives.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

from monitoring.engine.stats.performance import roc_auc_from_counts


@dataclass(frozen=True)
class Calibrator:
    """Monotone map from raw score to calibrated probability: linear between (x, y) knots."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of ``scores`` (clipped to the fitted range)."""
        return np.interp(np.asarray(scores, dtype=np.float64), self.x, self.y)

    def to_dict(self) -> dict:
        return {"x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, d: dict) -> "Calibrator":
        return cls(x=tuple(float(v) for v in d["x"]), y=tuple(float(v) for v in d["y"]))


def fit_calibrator(scores: np.ndarray, labels: np.ndarray) -> Calibrator:
    """Isotonic regression of the 0/1 ``labels`` on ``scores`` (reference data with labels)."""
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.float64))
    return Calibrator(x=tuple(iso.X_thresholds_.tolist()), y=tuple(iso.y_thresholds_.tolist()))


def expected_calibration_error(scores: np.ndarray, labels: np.ndarray, *, n_bins: int = 10) -> float:
    """ECE over ``n_bins`` equal-count score bins: mean |positive rate - mean score|, row-weighted."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, n_bins):
        if chunk.size:
            total += abs(y[chunk].mean() - s[chunk].mean()) * chunk.size
    return total / max(s.size, 1)


def calibration_needed(
    scores: np.ndarray, labels: np.ndarray, *, threshold: float = 0.5, bound: float = 0.02, n_bins: int = 10
) -> bool:
    """True when the scores are visibly miscalibrated on this labelled sample.

    Either test says so: ECE above ``bound`` plus its sampling noise (even perfect probabilities
    show an ECE of about sqrt(2 / pi) * mean(sqrt(p (1 - p) / rows per bin)), so that is allowed
    on top); or CBPE's own estimate of the sample's accuracy at ``threshold`` misses the realised
    accuracy by more than 2.5 standard errors. The second is the one CBPE depends on: an
    overconfident model (a boosted tree's scores) can pass the ECE test on a thousand rows and
    still overstate accuracy by four points, which then reads as concept drift in every window.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        return False
    y = np.asarray(labels, dtype=np.float64)
    p = np.clip(s, 0.0, 1.0)
    noise = np.sqrt(2 / np.pi) * np.mean(np.sqrt(p * (1 - p) / max(s.size / n_bins, 1.0)))
    if expected_calibration_error(s, y, n_bins=n_bins) > bound + 2 * noise:
        return True
    # Under calibration each row is right with probability q = max(p, 1 - p) (on the predicted
    # side of the threshold). The binomial standard error of the realised accuracy bounds that of
    # realised minus expected (sum q (1 - q) / n^2 is never more), and unlike it does not vanish
    # when a step-shaped (isotonic) calibrator puts rows at exactly 0 or 1.
    positive = s >= threshold
    expected = np.where(positive, p, 1 - p).mean()
    realised = np.mean(positive == (y == 1))
    # 2.5 of them: an isotonic calibrator fitted on another sample is itself a point or so
    # optimistic, and recalibrating scores that were fine costs little.
    se = np.sqrt(realised * (1 - realised) / s.size)
    return bool(abs(realised - expected) > 2.5 * se)


def cbpe(*, bin_counts: np.ndarray, bin_probs: np.ndarray, threshold_bin: int) -> dict:
    """Expected accuracy, precision, recall, f1 and roc_auc of a window without labels.

    ``bin_counts``: rows per score bin (ascending); ``bin_probs``: calibrated probability of
    the positive class for each bin (e.g. ``Calibrator.apply`` of the bin's mean score);
    bins ``>= threshold_bin`` are predicted positive. Expected confusion counts are
    TP = sum over positive bins of count * p, FP = count * (1 - p), and likewise FN, TN;
    the metrics are ratios of these expectations. None where undefined.
    """
    c = np.asarray(bin_counts, dtype=np.float64)
    p = np.clip(np.asarray(bin_probs, dtype=np.float64), 0.0, 1.0)
    n = c.sum()
    if n <= 0:
        return dict.fromkeys(("accuracy", "precision", "recall", "f1", "roc_auc"))
    exp_pos = c * p
    exp_neg = c * (1 - p)
    tp = exp_pos[threshold_bin:].sum()
    fp = exp_neg[threshold_bin:].sum()
    fn = exp_pos[:threshold_bin].sum()
    tn = exp_neg[:threshold_bin].sum()

    def ratio(a: float, b: float) -> float | None:
        return float(a / b) if b > 0 else None

    return {
        "accuracy": float((tp + tn) / n),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": roc_auc_from_counts(exp_pos, exp_neg),
    }
