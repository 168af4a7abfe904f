"""Paired statistics against statsmodels, scipy, scikit-learn and a bootstrap (no database)."""

import numpy as np
import pytest
from scipy import stats as sps
from sklearn.metrics import cohen_kappa_score, roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

from lifecycle.stats import intervals, paired


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (512, 1000), (7, 9)])
def test_wilson_matches_statsmodels(k, n):
    low, high = intervals.wilson_interval(k, n)
    ref = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref[0], abs=1e-12) and high == pytest.approx(ref[1], abs=1e-12)
    assert intervals.wilson_interval(0, 0) is None


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (950, 1000)])
def test_clopper_pearson_matches_statsmodels(k, n):
    low, high = intervals.clopper_pearson(k, n)
    ref = proportion_confint(k, n, alpha=0.05, method="beta")
    assert low == pytest.approx(ref[0], abs=1e-10) and high == pytest.approx(ref[1], abs=1e-10)


def test_kappa_matches_sklearn():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, 500)
    b = np.where(rng.random(500) < 0.7, a, rng.integers(0, 3, 500))
    assert paired.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    assert paired.cohen_kappa(a == 1, b == 1) == pytest.approx(cohen_kappa_score(a == 1, b == 1), abs=1e-12)


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(2)
    a = np.round(rng.random(2000), 2)
    b = np.round(a + rng.normal(0, 0.2, 2000), 1)
    assert paired.spearman(a, b) == pytest.approx(sps.spearmanr(a, b).statistic, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mcnemar_matches_statsmodels_exact(seed):
    rng = np.random.default_rng(seed)
    a_right = rng.random(300) < 0.8
    b_right = np.where(rng.random(300) < 0.9, a_right, ~a_right) | (rng.random(300) < 0.05 * seed)
    got = paired.mcnemar_exact(a_right, b_right)
    table = [[np.sum(a_right & b_right), np.sum(a_right & ~b_right)], [np.sum(~a_right & b_right), np.sum(~a_right & ~b_right)]]
    ref = mcnemar(table, exact=True)
    assert got.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    assert (got.a_only_right, got.b_only_right) == (table[0][1], table[1][0])


def test_delong_aucs_match_sklearn_and_se_matches_bootstrap():
    rng = np.random.default_rng(3)
    n = 3000
    y = rng.random(n) < 0.3
    latent = y * 1.0 + rng.normal(0, 1, n)
    a = latent + rng.normal(0, 0.8, n)
    b = latent + rng.normal(0, 0.5, n)
    got = paired.delong_paired(y, a, b)
    assert got.auc_a == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert got.auc_b == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    diffs = []
    for _ in range(400):
        idx = rng.integers(0, n, n)
        diffs.append(roc_auc_score(y[idx], b[idx]) - roc_auc_score(y[idx], a[idx]))
    boot_se = float(np.std(diffs, ddof=1))
    assert got.std_error == pytest.approx(boot_se, rel=0.15)
    # The bootstrap's normal p-value agrees with DeLong's to the bootstrap's precision.
    boot_p = 2 * sps.norm.sf(abs(got.difference) / boot_se)
    assert np.log10(max(got.p_value, 1e-300)) == pytest.approx(np.log10(max(boot_p, 1e-300)), rel=0.35)


def test_delong_under_the_null_is_calibrated():
    rng = np.random.default_rng(4)
    rejections = 0
    for _ in range(300):
        y = rng.random(400) < 0.4
        latent = y * 1.0 + rng.normal(0, 1, 400)
        a = latent + rng.normal(0, 0.7, 400)
        b = latent + rng.normal(0, 0.7, 400)
        rejections += paired.delong_paired(y, a, b).p_value < 0.05
    assert 0.02 <= rejections / 300 <= 0.09
    assert paired.delong_paired(np.ones(5), np.arange(5), np.arange(5)) is None


def test_flipped_table():
    rows = paired.flipped_table(np.array([0, 0, 1, 1, 1]), np.array([1, 0, 0, 0, 1]))
    assert rows == [{"a": 1, "b": 0, "count": 2}, {"a": 0, "b": 1, "count": 1}]


def test_auc_margin_test_is_one_sided_at_alpha_on_the_boundary():
    """Exchangeable versions (true difference 0) tested at margin 0: each one-sided error ~ alpha."""
    rng = np.random.default_rng(5)
    passed = failed = 0
    for _ in range(400):
        y = rng.random(400) < 0.4
        latent = y * 1.0 + rng.normal(0, 1, 400)
        d = paired.delong_paired(y, latent + rng.normal(0, 0.7, 400), latent + rng.normal(0, 0.7, 400))
        t = paired.auc_margin_test(d, margin=0.0)
        passed += t.outcome == "pass"
        failed += t.outcome == "fail"
        assert (t.p_non_inferior < 0.05) == (t.outcome == "pass") and (t.p_worse < 0.05) == (t.outcome == "fail")
    assert 0.02 <= passed / 400 <= 0.09 and 0.02 <= failed / 400 <= 0.09


def test_auc_margin_test_passes_fails_and_waits():
    rng = np.random.default_rng(6)
    n = 4000
    y = rng.random(n) < 0.35
    latent = y * 1.5 + rng.normal(0, 1, n)
    a = latent + rng.normal(0, 0.5, n)
    same = paired.auc_margin_test(paired.delong_paired(y, a, a), margin=0.01)
    assert same.outcome == "pass" and same.lower == pytest.approx(0.0)
    worse = paired.delong_paired(y, a, latent + rng.normal(0, 2.0, n))
    t = paired.auc_margin_test(worse, margin=0.01)
    assert t.outcome == "fail" and t.upper < -0.01
    assert t.upper == pytest.approx(worse.difference + sps.norm.ppf(0.95) * worse.std_error)
    # A slightly noisier b on few rows: the bounds straddle -margin.
    few = slice(0, 300)
    close = paired.delong_paired(y[few], a[few], a[few] + rng.normal(0, 0.4, 300))
    t = paired.auc_margin_test(close, margin=0.01)
    assert t.outcome == "inconclusive" and t.lower < -0.01 < t.upper
