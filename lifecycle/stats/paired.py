"""Paired comparison of two versions on the same requests (shadow traffic).

Every function takes aligned arrays: element i of ``a`` and ``b`` is the same request.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats


def _small_codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(classes, codes of a, codes of b) without sorting when both hold small non-negative integers."""
    if a.dtype.kind not in "biuf" or b.dtype.kind not in "biuf" or a.size == 0:
        return None
    low = min(a.min(), b.min())
    high = max(a.max(), b.max())
    if not (np.isfinite(low) and np.isfinite(high) and low >= 0 and high < 1024):
        return None
    ca, cb = a.astype(np.int64), b.astype(np.int64)
    if not (np.array_equal(ca, a) and np.array_equal(cb, b)):
        return None
    return np.arange(int(high) + 1), ca, cb


def _codes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fast = _small_codes(a, b)
    if fast is not None:
        return fast
    classes, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    return classes, codes[: a.size], codes[a.size :]


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa of two raters' decisions: (p_o - p_e) / (1 - p_e); None when undefined.

    Same value as scikit-learn's ``cohen_kappa_score`` (unweighted).
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.size == 0:
        return None
    classes, ca, cb = _codes(a, b)
    k = classes.size
    table = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k).astype(np.float64)
    n = table.sum()
    p_o = np.trace(table) / n
    p_e = float((table.sum(axis=1) / n) @ (table.sum(axis=0) / n))
    if p_e >= 1.0:
        return None
    return float((p_o - p_e) / (1 - p_e))


def dense_ranks(x: np.ndarray) -> np.ndarray:
    """Codes 0..k-1 of the distinct values of ``x`` in ascending order (one sort)."""
    return np.unique(np.asarray(x, dtype=np.float64), return_inverse=True)[1].reshape(-1)


def _midranks(codes: np.ndarray) -> np.ndarray:
    """1-based mid-ranks (ties share their average rank) from dense codes."""
    counts = np.bincount(codes)
    below = np.cumsum(counts) - counts
    return below[codes] + (counts[codes] + 1) / 2.0


def spearman(a: np.ndarray, b: np.ndarray, *, ranks: tuple[np.ndarray, np.ndarray] | None = None) -> float | None:
    """Spearman's rank correlation of two score arrays (ties get mid-ranks); None if undefined.

    ``ranks``: the arrays' ``dense_ranks`` when already computed.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size < 2:
        return None
    codes_a, codes_b = ranks if ranks is not None else (dense_ranks(a), dense_ranks(b))
    ra = _midranks(codes_a)
    rb = _midranks(codes_b)
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra @ ra) * (rb @ rb))
    return float(ra @ rb / den) if den > 0 else None


@dataclass(frozen=True)
class McNemar:
    a_only_right: int  # n10: a right, b wrong
    b_only_right: int  # n01: b right, a wrong
    p_value: float


def mcnemar_exact(a_right: np.ndarray, b_right: np.ndarray) -> McNemar:
    """McNemar's exact test on paired correctness: two-sided binomial test of n01 vs n10 at 1/2.

    p = min(1, 2 * P(X <= min(n01, n10))), X ~ Binomial(n01 + n10, 1/2); as statsmodels'
    ``mcnemar(table, exact=True)``. 1.0 when no pair disagrees.
    """
    a_right = np.asarray(a_right, dtype=bool)
    b_right = np.asarray(b_right, dtype=bool)
    n10 = int(np.count_nonzero(a_right & ~b_right))
    n01 = int(np.count_nonzero(~a_right & b_right))
    n = n10 + n01
    p = 1.0 if n == 0 else float(min(1.0, 2 * stats.binom.cdf(min(n10, n01), n, 0.5)))
    return McNemar(a_only_right=n10, b_only_right=n01, p_value=p)


@dataclass(frozen=True)
class DeLong:
    auc_a: float
    auc_b: float
    difference: float  # auc_b - auc_a
    std_error: float
    p_value: float
    ci: tuple[float, float]


def _components(codes: np.ndarray, y: np.ndarray, m: int, n: int) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's structural components from dense score codes: for a positive, the share
    of negatives below it (ties count half); for a negative, the share of positives above it."""
    k = int(codes.max()) + 1
    of_pos, of_neg = codes[y], codes[~y]
    pos = np.bincount(of_pos, minlength=k).astype(np.float64)
    neg = np.bincount(of_neg, minlength=k).astype(np.float64)
    neg_below = np.cumsum(neg) - neg
    pos_below = np.cumsum(pos) - pos
    v_pos = (neg_below + neg / 2)[of_pos] / n
    v_neg = 1.0 - (pos_below + pos / 2)[of_neg] / m
    return float(v_pos.mean()), v_pos, v_neg


def delong_paired(
    labels: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, *, level: float = 0.95,
    ranks: tuple[np.ndarray, np.ndarray] | None = None,
) -> DeLong | None:
    """DeLong's test of the difference of two correlated ROC AUCs (same rows, same labels).

    The structural components of each AUC (DeLong et al. 1988, in the mid-rank form of Sun & Xu
    2014) from one sort per score; their covariance over positives (1/m) and negatives (1/n)
    gives Var(auc_b - auc_a); z = difference / se, two-sided normal p-value. ``ranks``: the
    scores' ``dense_ranks`` when already computed. None without two of each class.
    """
    y = np.asarray(labels).astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        return None
    codes = ranks if ranks is not None else (dense_ranks(score_a), dense_ranks(score_b))
    auc_a, pos_a, neg_a = _components(np.asarray(codes[0]), y, m, n)
    auc_b, pos_b, neg_b = _components(np.asarray(codes[1]), y, m, n)
    s_pos = np.cov(np.vstack([pos_a, pos_b]))
    s_neg = np.cov(np.vstack([neg_a, neg_b]))
    contrast = np.array([-1.0, 1.0])
    var = float(contrast @ (s_pos / m + s_neg / n) @ contrast)
    diff = float(auc_b - auc_a)
    se = float(np.sqrt(max(var, 0.0)))
    if se == 0.0:
        p = 1.0 if diff == 0 else 0.0
    else:
        p = float(2 * stats.norm.sf(abs(diff) / se))
    z = stats.norm.ppf(1 - (1 - level) / 2)
    return DeLong(auc_a, auc_b, diff, se, p, (diff - z * se, diff + z * se))


def flipped_table(decision_a: np.ndarray, decision_b: np.ndarray) -> list[dict]:
    """Counts of each (a's decision, b's decision) pair where they differ, largest first."""
    a = np.asarray(decision_a)
    b = np.asarray(decision_b)
    differ = a != b
    if not differ.any():
        return []
    classes, ca, cb = _codes(a[differ], b[differ])
    k = classes.size
    counts = np.bincount(ca * k + cb, minlength=k * k)
    rows = [{"a": _py(classes[i // k]), "b": _py(classes[i % k]), "count": int(counts[i])}
            for i in np.flatnonzero(counts)]
    return sorted(rows, key=lambda r: -r["count"])


def _py(value):
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class AucMargin:
    """One-sided DeLong tests of ``auc_b - auc_a`` against ``-margin``."""

    margin: float
    lower: float  # one-sided (1 - alpha) lower bound of the difference
    upper: float  # one-sided (1 - alpha) upper bound
    p_non_inferior: float  # H0: difference <= -margin (small: b is not worse by the margin)
    p_worse: float  # H0: difference >= -margin (small: b is worse by more than the margin)
    outcome: str  # pass (non-inferior) | fail (significantly worse) | inconclusive


def auc_margin_test(delong: DeLong, *, margin: float, alpha: float = 0.05) -> AucMargin:
    """Non-inferiority of b's ROC AUC at ``margin``, from a paired DeLong result.

    z = (difference + margin) / se. ``pass`` when the one-sided lower bound is above -margin
    (p_non_inferior < alpha), ``fail`` when the one-sided upper bound is below -margin
    (p_worse < alpha), else ``inconclusive``. A fixed-sample test: repeated looks raise its
    error rates (the gate's anytime-valid check is the accuracy sequence; this one guards the
    ranking quality next to it).
    """
    d, se = delong.difference, delong.std_error
    q = float(stats.norm.ppf(1 - alpha))
    if se > 0:
        z = (d + margin) / se
        p_ni, p_worse = float(stats.norm.sf(z)), float(stats.norm.cdf(z))
    else:  # no sampling variance (identical rankings): the difference is what it is
        p_ni = 0.0 if d > -margin else 1.0
        p_worse = 0.0 if d < -margin else 1.0
    lower, upper = d - q * se, d + q * se
    outcome = "pass" if lower > -margin else "fail" if upper < -margin else "inconclusive"
    return AucMargin(margin, lower, upper, p_ni, p_worse, outcome)
