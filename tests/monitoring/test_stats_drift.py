"""Drift statistics from counts, checked against scipy on the raw values."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from monitoring.engine.stats.binning import bin_counts, coarse_groups, numeric_grid, quantile_edges, regroup
from monitoring.engine.stats.drift import (
    chi2_pvalue,
    default_thresholds,
    drift_verdict,
    feature_drift,
    js_distance,
    ks_from_counts,
    psi,
    wasserstein_from_counts,
)

RNG = np.random.default_rng(7)
REF = RNG.normal(size=100_000)
EDGES = quantile_edges(REF)
REF_COUNTS = bin_counts(REF, EDGES)


def _drift(cur: np.ndarray) -> dict:
    return feature_drift(ref_counts=REF_COUNTS, cur_counts=bin_counts(cur, EDGES))


def test_psi_formula_and_eps_floor():
    ref = np.array([50, 30, 20, 0])
    cur = np.array([40, 30, 20, 10])
    p = np.array([0.5, 0.3, 0.2, 1e-4])
    q = np.array([0.4, 0.3, 0.2, 0.1])
    assert psi(ref, cur) == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=1e-12)
    assert psi(ref, ref) == 0.0
    with pytest.raises(ValueError):
        psi(ref, np.zeros(4))


def test_js_distance_equals_scipy_base2():
    for _ in range(5):
        a = RNG.integers(0, 50, 12)
        b = RNG.integers(0, 50, 12)
        a[3] = 0
        assert js_distance(a, b) == pytest.approx(jensenshannon(a, b, base=2), abs=1e-12)
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)


def test_ks_pvalue_is_scipys_asymptotic_one():
    ref = RNG.normal(size=3_000)
    cur = RNG.normal(0.08, 1, 2_000)
    edges = np.unique(np.concatenate([ref, cur]))  # a bin per value: the binned KS is exact
    d, p = ks_from_counts(bin_counts(ref, edges), bin_counts(cur, edges))
    exact = stats.ks_2samp(ref, cur, method="asymp")
    assert d == pytest.approx(exact.statistic, abs=1e-12)
    assert p == pytest.approx(exact.pvalue, rel=1e-9)


def test_ks_pvalue_on_large_samples_is_fast_and_close_to_scipy():
    n = m = 1_000_000  # en = 500,000: scipy's kstwo.sf is slow here for small p
    ref = np.zeros(4)
    ref[0], ref[1] = n / 2, n / 2
    for lam in (0.8, 1.0, 1.36):
        d = lam / math.sqrt(n * m / (n + m))
        cur = np.array([m / 2 - d * m, m / 2 + d * m, 0, 0])
        stat, p = ks_from_counts(ref, cur)
        assert stat == pytest.approx(d, rel=1e-9)
        assert p == pytest.approx(stats.kstwo.sf(stat, round(n * m / (n + m))), rel=2e-3)


@pytest.mark.parametrize(
    ("cur", "rel_tol"),
    [
        (RNG.normal(size=20_000), 0.10),
        (RNG.normal(0.3, 1, 20_000), 0.03),
        (RNG.normal(0, 0.5, 20_000), 0.03),
        (RNG.normal(0, 1.5, 20_000), 0.15),
        (RNG.normal(3, 1, 20_000), 0.25),
    ],
)
def test_wasserstein_close_to_scipy(cur, rel_tol):
    ref_std = float(REF.std(ddof=1))
    lo, hi = min(REF.min(), cur.min()), max(REF.max(), cur.max())
    w = wasserstein_from_counts(EDGES, REF_COUNTS, bin_counts(cur, EDGES), ref_std=ref_std, lo=lo, hi=hi)
    exact = stats.wasserstein_distance(REF, cur) / ref_std
    assert abs(w - exact) <= max(rel_tol * exact, 0.005), (w, exact)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RNG.normal(size=20_000),
        lambda: RNG.normal(3, 1, 20_000),
        lambda: RNG.normal(-3, 1, 20_000),
        lambda: RNG.normal(0, 1.5, 20_000),
        lambda: RNG.normal(0.05, 1, 20_000),
    ],
)
def test_wasserstein_with_means_places_the_tails(make):
    cur = make()
    ref_std = float(REF.std(ddof=1))
    lo, hi = min(REF.min(), cur.min()), max(REF.max(), cur.max())
    w = wasserstein_from_counts(
        EDGES,
        REF_COUNTS,
        bin_counts(cur, EDGES),
        ref_std=ref_std,
        lo=lo,
        hi=hi,
        ref_mean=float(REF.mean()),
        cur_mean=float(cur.mean()),
    )
    exact = stats.wasserstein_distance(REF, cur) / ref_std
    assert abs(w - exact) <= max(0.1 * exact, 0.003), (w, exact)


def test_wasserstein_with_means_on_skewed_feature():
    ref = RNG.lognormal(0, 1, 50_000)
    edges = quantile_edges(ref)
    std = float(ref.std(ddof=1))
    for cur in (RNG.lognormal(0, 1.5, 20_000), RNG.lognormal(3, 1, 20_000), RNG.lognormal(0.3, 1, 20_000)):
        w = wasserstein_from_counts(
            edges,
            bin_counts(ref, edges),
            bin_counts(cur, edges),
            ref_std=std,
            lo=min(ref.min(), cur.min()),
            hi=max(ref.max(), cur.max()),
            ref_mean=float(ref.mean()),
            cur_mean=float(cur.mean()),
        )
        exact = stats.wasserstein_distance(ref, cur) / std
        assert w == pytest.approx(exact, rel=0.03)


def test_wasserstein_point_masses_exact_on_discrete_feature():
    ref = RNG.poisson(3, 20_000).astype(float)
    cur = RNG.poisson(3.4, 5_000).astype(float)
    edges, discrete = numeric_grid(ref)
    assert discrete
    std = float(ref.std(ddof=1))
    w = wasserstein_from_counts(
        edges,
        bin_counts(ref, edges),
        bin_counts(cur, edges),
        ref_std=std,
        lo=min(ref.min(), cur.min()),
        hi=max(ref.max(), cur.max()),
        point_masses=True,
    )
    assert w == pytest.approx(stats.wasserstein_distance(ref, cur) / std, rel=1e-9)


def test_chi2_pvalue_equals_scipy_after_dropping_empty_columns():
    ref = np.array([500, 300, 0, 200, 0])
    cur = np.array([40, 35, 0, 20, 5])
    expected = stats.chi2_contingency(np.array([[500, 300, 200, 0], [40, 35, 20, 5]])).pvalue
    assert chi2_pvalue(ref, cur) == pytest.approx(expected, rel=1e-12)
    two = stats.chi2_contingency(np.array([[90, 10], [70, 30]])).pvalue  # Yates at 1 dof
    assert chi2_pvalue([90, 10, 0], [70, 30, 0]) == pytest.approx(two, rel=1e-12)
    assert chi2_pvalue([10, 0], [5, 0]) == 1.0
    assert chi2_pvalue([10, 5], [0, 0]) == 1.0


def test_unshifted_1000_row_windows_are_rarely_flagged():
    flagged = sum(_drift(RNG.normal(size=1_000))["drifted"] for _ in range(200))
    assert flagged / 200 < 0.05


def test_small_reference_and_small_window_not_flagged_by_noise():
    ref = RNG.normal(size=1_000)
    edges = quantile_edges(ref)
    rc = bin_counts(ref, edges)
    flagged = sum(
        feature_drift(ref_counts=rc, cur_counts=bin_counts(RNG.normal(size=300), edges))["drifted"]
        for _ in range(100)
    )
    assert flagged / 100 < 0.05


@pytest.mark.parametrize("n", [1_000, 100_000])
@pytest.mark.parametrize("shift", ["spread 1.5x", "mean 0.3 sd"])
def test_meaningful_shifts_are_flagged(n, shift):
    cur = RNG.normal(0, 1.5, n) if shift == "spread 1.5x" else RNG.normal(0.3, 1, n)
    assert _drift(cur)["drifted"]


def test_trivial_shift_on_a_million_rows_is_not_flagged_though_ks_pvalue_is_tiny():
    ref = RNG.normal(size=1_000_000)
    edges = quantile_edges(ref[:100_000])  # profiles take edges from a sample of the reference
    result = feature_drift(
        ref_counts=bin_counts(ref, edges), cur_counts=bin_counts(RNG.normal(0.02, 1, 1_000_000), edges)
    )
    assert result["ks_pvalue"] < 1e-6
    assert not result["drifted"]


def test_thresholds_scale_with_sample_size():
    small = default_thresholds(1_000, 200)
    large = default_thresholds(1_000_000, 1_000_000)
    assert small.psi > small.psi_min  # the noise floor dominates on small samples
    assert large.psi == large.psi_min  # the minimum effect dominates on large ones
    assert small.js > large.js
    strict = default_thresholds(1_000_000, 1_000_000, psi_min=0.2)
    assert strict.psi == 0.2 and strict.js == pytest.approx(math.sqrt(0.2 / (8 * math.log(2))))
    assert drift_verdict(psi=0.01, js=0.2, thresholds=large)
    assert not drift_verdict(psi=0.01, js=0.01, thresholds=large)


def test_feature_drift_shapes():
    numeric = feature_drift(
        ref_counts=REF_COUNTS,
        cur_counts=bin_counts(RNG.normal(0.5, 1, 2_000), EDGES),
        edges=EDGES,
        ref_std=1.0,
        lo=-6.0,
        hi=6.0,
    )
    assert set(numeric) == {"psi", "js", "wasserstein", "ks_statistic", "ks_pvalue", "drifted"}
    assert numeric["drifted"] and numeric["wasserstein"] > 0.3
    groups = coarse_groups(REF_COUNTS)
    cur = bin_counts(RNG.normal(0.5, 1, 2_000), EDGES)
    assert feature_drift(ref_counts=REF_COUNTS, cur_counts=cur)["psi"] == pytest.approx(
        psi(regroup(REF_COUNTS, groups), regroup(cur, groups))
    )
    categorical = feature_drift(
        ref_counts=[500, 400, 100, 0], cur_counts=[50, 20, 10, 20], kind="categorical"
    )
    assert set(categorical) == {"psi", "js", "chi2_pvalue", "drifted"}
    assert categorical["drifted"] and categorical["chi2_pvalue"] < 1e-6
    empty = feature_drift(ref_counts=REF_COUNTS, cur_counts=np.zeros_like(REF_COUNTS))
    assert empty["drifted"] is False and empty["psi"] is None


def test_degenerate_features_do_not_raise():
    constant = np.full(1_000, 3.0)
    edges = quantile_edges(constant)
    ref = bin_counts(constant, edges)
    same = feature_drift(
        ref_counts=ref,
        cur_counts=bin_counts(np.full(500, 3.0), edges),
        edges=edges,
        ref_std=0.0,
        lo=3.0,
        hi=3.0,
    )
    assert same["psi"] == 0.0 and not same["drifted"] and same["wasserstein"] is None
    moved = feature_drift(ref_counts=ref, cur_counts=bin_counts(RNG.normal(size=500), edges))
    assert moved["drifted"]
    all_null = np.full(100, np.nan)
    edges = quantile_edges(all_null)
    assert edges.size == 0
    empty = feature_drift(
        ref_counts=bin_counts(all_null, edges), cur_counts=bin_counts(RNG.normal(size=5), edges)
    )
    assert empty["psi"] is None and empty["drifted"] is False
