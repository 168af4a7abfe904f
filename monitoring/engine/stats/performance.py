"""Performance metrics from mergeable counts and sums (no raw rows needed).

Every ``*_sums``/count structure adds up across hours; metrics are computed at read time.
"""

import math

import numpy as np

_EPS = float(np.finfo(np.float64).eps)


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def binary_metrics(*, tp: int, fp: int, tn: int, fn: int) -> dict:
    """accuracy, precision, recall, f1, fpr, fnr from the confusion counts; None where undefined."""
    n = tp + fp + tn + fn
    return {
        "accuracy": _ratio(tp + tn, n),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, fn + tp),
    }


def roc_auc_from_counts(pos_counts: np.ndarray, neg_counts: np.ndarray) -> float | None:
    """ROC AUC from positives and negatives per ascending score bin; None without both classes.

    A positive beats every negative in a lower bin and half of those in its own bin (ties).
    The result is the raw AUC up to the within-bin orderings, see ``probability_edges``.
    """
    pos = np.asarray(pos_counts, dtype=np.float64)
    neg = np.asarray(neg_counts, dtype=np.float64)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos <= 0 or n_neg <= 0:
        return None
    neg_below = np.cumsum(neg) - neg
    return float(np.sum(pos * (neg_below + neg / 2)) / (n_pos * n_neg))


def binary_sums(scores: np.ndarray, labels: np.ndarray) -> dict:
    """Mergeable sums for log loss and Brier: {"n", "n_pos", "sum_log_loss", "sum_brier"}.

    Scores are probabilities of the positive class, clipped to [eps, 1 - eps] for the log
    (eps = float64 machine epsilon, as scikit-learn). Add the dicts key by key to merge.
    """
    p = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    pc = np.clip(p, _EPS, 1 - _EPS)
    ll = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))
    return {
        "n": int(y.size),
        "n_pos": int(y.sum()),
        "sum_log_loss": float(ll.sum()),
        "sum_brier": float(((p - y) ** 2).sum()),
    }


def log_loss_from_sums(sum_log_loss: float, n: int) -> float | None:
    """Mean binary cross-entropy (nats per row)."""
    return sum_log_loss / n if n else None


def brier_from_sums(sum_brier: float, n: int) -> float | None:
    """Mean squared error of the probability (Brier score)."""
    return sum_brier / n if n else None


def multiclass_metrics(confusion: np.ndarray) -> dict:
    """accuracy, macro_f1, weighted_f1 from a k x k confusion matrix (rows true, cols predicted).

    Classes absent from both truth and predictions are ignored, as scikit-learn does when it
    takes the labels from the data. None for an empty matrix.
    """
    c = np.asarray(confusion, dtype=np.float64)
    n = c.sum()
    if n <= 0:
        return {"accuracy": None, "macro_f1": None, "weighted_f1": None}
    tp = np.diag(c)
    support = c.sum(axis=1)
    predicted = c.sum(axis=0)
    present = (support + predicted) > 0
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "accuracy": float(tp.sum() / n),
        "macro_f1": float(f1[present].mean()),
        "weighted_f1": float(np.sum(f1 * support) / support.sum()),
    }


def per_class_metrics(confusion: np.ndarray, classes: list) -> dict:
    """Per class: precision, recall, f1 and support (true rows), as scikit-learn's
    ``precision_recall_fscore_support(average=None)``; plus macro precision and recall over
    the classes present. None where a ratio is undefined."""
    c = np.asarray(confusion, dtype=np.float64)
    tp, support, predicted = np.diag(c), c.sum(axis=1), c.sum(axis=0)
    out: dict = {"per_class": {}}
    for i, name in enumerate(classes):
        p = tp[i] / predicted[i] if predicted[i] else None
        r = tp[i] / support[i] if support[i] else None
        f = 2 * tp[i] / (support[i] + predicted[i]) if support[i] + predicted[i] else None
        out["per_class"][str(name)] = {"precision": p, "recall": r, "f1": f, "support": int(support[i])}
    present = [v for v in out["per_class"].values() if v["support"] or v["precision"] is not None]
    out["macro_precision"] = float(np.mean([v["precision"] or 0.0 for v in present])) if present else None
    out["macro_recall"] = float(np.mean([v["recall"] or 0.0 for v in present])) if present else None
    return out


def regression_sums(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Mergeable sums: {"n", "sum_abs", "sum_sq", "sum_ape", "n_ape", "sum_y", "sum_y2"}.

    The percentage error skips rows whose true value is 0 (undefined there; scikit-learn
    would divide by machine epsilon and report ~1e15), so ``n_ape`` counts the rows used.
    """
    y = np.asarray(y_true, dtype=np.float64)
    f = np.asarray(y_pred, dtype=np.float64)
    err = y - f
    nz = y != 0
    return {
        "n": int(y.size),
        "sum_abs": float(np.abs(err).sum()),
        "sum_sq": float((err * err).sum()),
        "sum_ape": float(np.abs(err[nz] / y[nz]).sum()),
        "n_ape": int(nz.sum()),
        "sum_y": float(y.sum()),
        "sum_y2": float((y * y).sum()),
    }


def regression_metrics(sums: dict) -> dict:
    """mae, rmse, mape (a fraction, not percent), r2 from ``regression_sums``; None if undefined.

    r2 follows scikit-learn: 1.0 for a perfect fit of a constant target, 0.0 for an
    imperfect one. It is computed from raw sums, so on a target whose mean dwarfs its spread
    (mean/std > 1e4) it loses digits; fine for ordinary targets.
    """
    n = sums["n"]
    if not n:
        return {"mae": None, "rmse": None, "mape": None, "r2": None}
    ss_tot = max(sums["sum_y2"] - sums["sum_y"] ** 2 / n, 0.0)
    ss_res = sums["sum_sq"]
    if n < 2:
        r2 = None
    elif ss_tot > 0:
        r2 = 1 - ss_res / ss_tot
    else:
        r2 = 1.0 if ss_res == 0 else 0.0
    return {
        "mae": sums["sum_abs"] / n,
        "rmse": math.sqrt(ss_res / n),
        "mape": sums["sum_ape"] / sums["n_ape"] if sums["n_ape"] else None,
        "r2": r2,
    }
