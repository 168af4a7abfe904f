"""Thresholds vs scikit-learn, ranking overlap, and confidence sequences by simulation (no database)."""

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve

from lifecycle.stats import ranking, sequential, thresholds


def _reference(y, s, *, min_recall=None, min_precision=None):
    precision, recall, cut = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]
    if min_recall is not None:
        ok = np.flatnonzero(recall >= min_recall)
        best = max(ok, key=lambda i: (precision[i], recall[i]))
    else:
        ok = np.flatnonzero(precision >= min_precision)
        best = max(ok, key=lambda i: (recall[i], precision[i]))
    return cut[best], precision[best], recall[best]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("target", [{"min_recall": 0.95}, {"min_recall": 0.6}, {"min_precision": 0.8}])
def test_best_threshold_matches_sklearn_curve(seed, target):
    rng = np.random.default_rng(seed)
    y = rng.random(2000) < 0.3
    s = np.round(1 / (1 + np.exp(-(y * 1.5 + rng.normal(0, 1, 2000)))), 3)  # ties included
    got = thresholds.best_threshold(y, s, **target)
    cut, precision, recall = _reference(y, s, **target)
    assert got["threshold"] == pytest.approx(cut)
    assert got["precision"] == pytest.approx(precision) and got["recall"] == pytest.approx(recall)
    assert got["recall_lower_bound"] < got["recall"]
    predicted = s >= got["threshold"]
    assert got["recall"] == pytest.approx((predicted & y).sum() / y.sum())


def test_best_threshold_impossible_and_bad_arguments():
    y = np.array([0, 0, 1])
    assert thresholds.best_threshold(y, np.array([0.9, 0.8, 0.1]), min_precision=0.99) is None
    assert thresholds.best_threshold(y, np.array([0.1, 0.2, 0.9]), min_precision=0.99)["threshold"] == 0.9
    assert thresholds.best_threshold(np.zeros(3), np.array([0.1, 0.2, 0.3]), min_recall=0.5) is None
    with pytest.raises(ValueError):
        thresholds.best_threshold(y, y, min_recall=0.5, min_precision=0.5)


def test_ranking_overlap_and_displacement_by_hand():
    groups = np.array(["u1"] * 4 + ["u2"] * 3)
    a = np.array([0.9, 0.8, 0.7, 0.1, 0.5, 0.4, 0.3])
    b = np.array([0.8, 0.9, 0.1, 0.7, 0.3, 0.4, 0.5])
    # u1 top-2: {0,1} vs {1,0} -> 1.0; u2 top-2: {4,5} vs {6,5} -> 1/3.
    assert ranking.jaccard_at_k(groups, a, b, k=2) == pytest.approx((1 + 1 / 3) / 2)
    # u1 ranks a: 0,1,2,3 b: 1,0,3,2 -> 4 moves of 1; u2 a: 0,1,2 b: 2,1,0 -> 2+0+2.
    assert ranking.mean_rank_displacement(groups, a, b) == pytest.approx((4 + 4) / 7)
    watched = np.array([False, False, False, False, True, False, False])
    assert ranking.mean_rank_shift(groups, a, b, watched) == pytest.approx(2.0)


def test_confidence_sequence_keeps_false_positives_near_alpha_under_daily_peeking():
    """30 days of canary traffic, checked daily, with no true difference: the naive z-test
    finds a difference in roughly a quarter of the runs; the confidence sequence in <= alpha."""
    rng = np.random.default_rng(7)
    sims, days, per_day, p = 2000, 30, 200, 0.7
    succ_a = np.cumsum(rng.binomial(per_day, p, (sims, days)), axis=1)
    succ_b = np.cumsum(rng.binomial(per_day, p, (sims, days)), axis=1)
    naive = np.zeros(sims, dtype=bool)
    cs = np.zeros(sims, dtype=bool)
    for day in range(days):
        n = per_day * (day + 1)
        for i in range(sims):
            seq = sequential.difference_sequence(int(succ_a[i, day]), n, int(succ_b[i, day]), n)
            cs[i] |= seq.excludes(0.0)
        pa, pb = succ_a[:, day] / n, succ_b[:, day] / n
        se = np.sqrt(pa * (1 - pa) / n + pb * (1 - pb) / n)
        naive |= np.abs(pb - pa) / se > 1.96
    assert naive.mean() > 0.2
    assert cs.mean() <= 0.06


def test_confidence_sequence_finds_a_real_difference_and_noninferiority():
    seq = sequential.difference_sequence(7000, 10000, 7400, 10000)
    assert seq.low > 0 and seq.estimate == pytest.approx(0.04)
    worse = sequential.difference_sequence(7000, 10000, 6950, 10000)
    assert sequential.non_inferior(worse, 0.05) and not sequential.non_inferior(worse, 0.0)
    mean = sequential.mean_sequence(0.02, 0.1, 50_000)
    assert mean.low > 0
