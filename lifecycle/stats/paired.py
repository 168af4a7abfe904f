"""Paired comparison of two versions on the same requests (shadow traffic).

Every function takes aligned arrays: element i of ``a`` and ``b`` is the same request.
"""

from dataclasses import dataclass

import numpy as np
from scipy import stats


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa of two raters' decisions: (p_o - p_e) / (1 - p_e); None when undefined.

    Same value as scikit-learn's ``cohen_kappa_score`` (unweighted).
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.size == 0:
        return None
    classes, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    k = classes.size
    ca, cb = codes[: a.size], codes[a.size :]
    table = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k).astype(np.float64)
    n = table.sum()
    p_o = np.trace(table) / n
    p_e = float((table.sum(axis=1) / n) @ (table.sum(axis=0) / n))
    if p_e >= 1.0:
        return None
    return float((p_o - p_e) / (1 - p_e))


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation of two score arrays (ties get mid-ranks); None if undefined."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size < 2:
        return None
    ra = stats.rankdata(a)
    rb = stats.rankdata(b)
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


def _midranks(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, method="average")


def delong_paired(labels: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, *, level: float = 0.95) -> DeLong | None:
    """DeLong's test of the difference of two correlated ROC AUCs (same rows, same labels).

    Fast form of Sun & Xu (2014): the structural components of each AUC come from mid-ranks,
    their covariance over positives (1/m) and negatives (1/n) gives Var(auc_b - auc_a);
    z = difference / se, two-sided normal p-value. None without both classes.
    """
    y = np.asarray(labels).astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        return None
    aucs, v_pos, v_neg = [], [], []
    for s in (np.asarray(score_a, dtype=np.float64), np.asarray(score_b, dtype=np.float64)):
        pos, neg = s[y], s[~y]
        rank_all = _midranks(np.concatenate([pos, neg]))
        rank_pos, rank_neg = _midranks(pos), _midranks(neg)
        aucs.append((rank_all[:m].sum() - m * (m + 1) / 2) / (m * n))
        v_pos.append((rank_all[:m] - rank_pos) / n)
        v_neg.append(1.0 - (rank_all[m:] - rank_neg) / m)
    s_pos = np.cov(np.vstack(v_pos))
    s_neg = np.cov(np.vstack(v_neg))
    contrast = np.array([-1.0, 1.0])
    var = float(contrast @ (s_pos / m + s_neg / n) @ contrast)
    diff = float(aucs[1] - aucs[0])
    se = float(np.sqrt(max(var, 0.0)))
    if se == 0.0:
        p = 1.0 if diff == 0 else 0.0
    else:
        p = float(2 * stats.norm.sf(abs(diff) / se))
    z = stats.norm.ppf(1 - (1 - level) / 2)
    return DeLong(float(aucs[0]), float(aucs[1]), diff, se, p, (diff - z * se, diff + z * se))


def flipped_table(decision_a: np.ndarray, decision_b: np.ndarray) -> list[dict]:
    """Counts of each (a's decision, b's decision) pair where they differ, largest first."""
    a = np.asarray(decision_a)
    b = np.asarray(decision_b)
    differ = a != b
    if not differ.any():
        return []
    pairs, counts = np.unique(np.stack([a[differ], b[differ]], axis=1), axis=0, return_counts=True)
    rows = [{"a": _py(p[0]), "b": _py(p[1]), "count": int(c)} for p, c in zip(pairs, counts, strict=True)]
    return sorted(rows, key=lambda r: -r["count"])


def _py(value):
    return value.item() if hasattr(value, "item") else value
