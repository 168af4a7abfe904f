"""The comparison body from arrays, checked against statsmodels and scikit-learn (no database)."""

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from lifecycle.comparison import Rules, Side, compare_paired, compare_unpaired, decisions


def _data(n=4000, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(float)
    latent = y * 1.2 + rng.normal(0, 1, n)
    sa = 1 / (1 + np.exp(-(latent + rng.normal(0, 0.9, n) - 0.5)))
    sb = 1 / (1 + np.exp(-(latent * (1 + shift) + rng.normal(0, 0.9 - shift, n) - 0.5)))
    label = np.where(rng.random(n) < 0.7, y, np.nan)
    return y, sa, sb, label


def test_paired_body_matches_references():
    y, sa, sb, label = _data(n=20000, shift=0.6)
    da = decisions(task="binary_classification", score=sa, logged=np.full(sa.size, np.nan), threshold=0.5)
    db = decisions(task="binary_classification", score=sb, logged=np.full(sb.size, np.nan), threshold=0.5)
    body = compare_paired(task="binary_classification", a=Side(sa, da), b=Side(sb, db), label=label, rules=Rules())
    m = ~np.isnan(label)
    same = int((da == db).sum())
    assert body["paired"] == sa.size and body["labelled"] == int(m.sum())
    assert body["agreement"] == pytest.approx(same / sa.size)
    assert body["agreement_ci"] == pytest.approx(list(proportion_confint(same, sa.size, method="wilson")))
    assert body["kappa"] == pytest.approx(cohen_kappa_score(da, db))
    assert body["score_correlation"] == pytest.approx(sps.spearmanr(sa, sb).statistic)
    ra, rb = da[m] == y[m], db[m] == y[m]
    ref = mcnemar([[np.sum(ra & rb), np.sum(ra & ~rb)], [np.sum(~ra & rb), np.sum(~ra & ~rb)]], exact=True)
    assert body["mcnemar"]["p_value"] == pytest.approx(ref.pvalue)
    assert body["mcnemar"]["a_only_right"] == int(np.sum(ra & ~rb))
    assert body["metrics"]["a"]["accuracy"] == pytest.approx(accuracy_score(y[m], da[m]))
    assert body["metrics"]["b"]["roc_auc"] == pytest.approx(roc_auc_score(y[m], sb[m]))
    assert body["roc_auc_difference"]["value"] == pytest.approx(roc_auc_score(y[m], sb[m]) - roc_auc_score(y[m], sa[m]))
    assert body["verdict"] == "better" and "better" in body["reason"]
    assert body["estimated"]["rows"] == int((~m).sum())
    # CBPE without a calibrator: a row predicted positive is right with probability = its score.
    expected = np.mean(np.where(db[~m] == 1, sb[~m], 1 - sb[~m]))
    assert body["estimated"]["b"]["accuracy"] == pytest.approx(expected)
    assert sum(f["count"] for f in body["flipped"]) == sa.size - same


def test_verdicts_inconclusive_and_no_difference():
    y, sa, _, label = _data(n=300)
    d = (sa >= 0.5).astype(float)
    body = compare_paired(task="binary_classification", a=Side(sa, d), b=Side(sa, d), label=label, rules=Rules())
    assert body["verdict"] == "inconclusive" and "300" in body["reason"]
    y, sa, _, label = _data(n=20000)
    d = (sa >= 0.5).astype(float)
    body = compare_paired(task="binary_classification", a=Side(sa, d), b=Side(sa, d), label=label,
                          rules=Rules(margin=0.02))
    assert body["verdict"] == "no_difference"


def test_unpaired_noninferiority():
    out = compare_unpaired(a={"labelled": 5000, "accuracy": 0.80}, b={"labelled": 5000, "accuracy": 0.805},
                           rules=Rules(margin=0.03))
    assert out["non_inferior"] is True and out["difference"]["low"] < 0 < out["difference"]["high"]
