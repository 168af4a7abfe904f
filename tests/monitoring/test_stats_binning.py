"""Bin grids: the binned KS must stay within 0.005 of scipy on the raw values."""

import functools

import numpy as np
import pytest
from scipy import stats

from monitoring.engine.stats.binning import (
    _bin_index,
    bin_counts,
    category_counts,
    coarse_groups,
    numeric_grid,
    probability_edges,
    quantile_edges,
    regroup,
    threshold_bin,
)
from monitoring.engine.stats.drift import ks_from_counts

RNG = np.random.default_rng(20261122)


@functools.cache
def _cases():
    n_ref, n_cur = 20_000, 10_000
    normal = RNG.normal(size=n_ref)
    lognormal = RNG.lognormal(0.0, 1.0, size=n_ref)
    ints = RNG.poisson(4, size=n_ref).astype(float)
    wide_ints = RNG.integers(0, 5000, size=n_ref).astype(float)
    zero_inflated = np.where(RNG.random(n_ref) < 0.4, 0.0, RNG.exponential(2.0, n_ref))
    return {
        "normal same": (normal, RNG.normal(size=n_cur)),
        "normal shift 0.1": (normal, RNG.normal(0.1, 1, n_cur)),
        "normal shift 2": (normal, RNG.normal(2, 1, n_cur)),
        "normal spread 1.5": (normal, RNG.normal(0, 1.5, n_cur)),
        "normal spread 0.3": (normal, RNG.normal(0, 0.3, n_cur)),
        "lognormal scale": (lognormal, RNG.lognormal(0.2, 1.3, n_cur)),
        "poisson ties": (ints, RNG.poisson(4.4, n_cur).astype(float)),
        "many integer ties": (wide_ints, RNG.integers(0, 4500, n_cur).astype(float)),
        "zero inflated": (zero_inflated, np.where(RNG.random(n_cur) < 0.5, 0.0, RNG.exponential(2.0, n_cur))),
    }


@pytest.mark.parametrize("name", list(_cases()))
def test_binned_ks_statistic_within_0005_of_scipy(name):
    ref, cur = _cases()[name]
    edges = quantile_edges(ref)
    d, _ = ks_from_counts(bin_counts(ref, edges), bin_counts(cur, edges))
    exact = stats.ks_2samp(ref, cur).statistic
    assert abs(d - exact) < 0.005, (name, d, exact)


def test_quantile_edges_are_sorted_unique_and_bounded():
    x = RNG.normal(size=10_000)
    x[::10] = np.nan
    edges = quantile_edges(x, max_bins=100)
    assert np.all(np.diff(edges) > 0)
    assert len(edges) == 99
    counts = bin_counts(x, edges)
    assert counts.sum() == 9_000
    # Equal reference mass per bin (one bin's worth, give or take a row).
    assert counts.max() - counts.min() <= 2


def test_discrete_feature_gets_one_bin_per_value():
    x = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    edges, discrete = numeric_grid(x)
    assert discrete
    assert edges.tolist() == [1.0, 2.0, 3.0, 5.0]
    assert bin_counts(x, edges).tolist() == [0, 1, 2, 1, 1]


def test_heavy_atom_is_isolated_in_its_own_bin():
    x = np.concatenate([np.zeros(5_000), RNG.normal(size=5_000)])
    edges = quantile_edges(x, max_bins=100)
    counts = bin_counts(x, edges)
    i = int(np.searchsorted(edges, 0.0, side="right"))
    assert edges[i - 1] == 0.0 and edges[i] == np.nextafter(0.0, 1.0)
    assert counts[i] == 5_000


def test_bin_counts_matches_a_direct_count_and_ignores_nan():
    edges = np.array([0.0, 1.0, 2.0])
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 7.0, np.nan, -np.inf, np.inf])
    counts = bin_counts(x, edges)
    assert counts.dtype == np.int64
    assert counts.tolist() == [2, 2, 1, 3]


def test_bin_counts_on_empty_input():
    assert bin_counts(np.array([]), np.array([1.0, 2.0])).tolist() == [0, 0, 0]


def test_category_counts_splits_known_unseen_and_null():
    values = np.array(["a", "b", None, "a", "zz", float("nan"), 1, "1"], dtype=object)
    counts, unseen, nulls = category_counts(values, ["a", "b", "c", "1"])
    assert counts.tolist() == [2, 1, 0, 2]
    assert unseen == {"zz": 1}
    assert nulls == 2
    mixed = np.array([1, True, 1.0, "1", None], dtype=object)
    counts, unseen, nulls = category_counts(mixed, ["1"])
    assert counts.tolist() == [2] and unseen == {"True": 1, "1.0": 1} and nulls == 1


def test_coarse_groups_keep_tails_and_balance_mass():
    ref = RNG.normal(size=100_000)
    edges = quantile_edges(ref)
    counts = bin_counts(ref, edges)
    groups = coarse_groups(counts, n_groups=10)
    assert groups[0] == 0 and groups[1] == 1
    assert groups[-1] == groups.max() and groups[-2] == groups.max() - 1
    assert np.all(np.diff(groups) >= 0)
    merged = regroup(counts, groups)
    assert merged.sum() == counts.sum()
    assert len(merged) == 12
    inner = merged[1:-1] / merged[1:-1].sum()
    assert np.allclose(inner, 0.1, atol=0.01)


def test_probability_edges_contain_threshold():
    edges = probability_edges(include=(0.37,))
    assert 0.37 in edges
    assert np.all(np.diff(edges) > 0) and edges[0] > 0 and edges[-1] < 1
    tb = threshold_bin(edges, 0.37)
    scores = np.array([0.36999, 0.37, 0.9])
    idx = np.searchsorted(edges, scores, side="right")
    assert (idx >= tb).tolist() == [False, True, True]
    with pytest.raises(ValueError):
        threshold_bin(probability_edges(), 0.123456)


@pytest.mark.parametrize(
    "name",
    ["normal", "lognormal", "pareto (falls back to searchsorted)", "integers", "tiny range"],
)
def test_fast_bin_counts_equal_searchsorted(name):
    ref, cur = {
        "normal": (RNG.normal(size=20_000), RNG.normal(0.5, 2, 200_000)),
        "lognormal": (RNG.lognormal(0, 1, 20_000), RNG.lognormal(0, 1.5, 200_000)),
        "pareto (falls back to searchsorted)": (RNG.pareto(1.1, 20_000), RNG.pareto(1.0, 200_000)),
        "integers": (RNG.poisson(30, 20_000).astype(float), RNG.poisson(33, 200_000).astype(float)),
        "tiny range": (1e-300 * RNG.normal(size=20_000), 1e-300 * RNG.normal(size=200_000)),
    }[name]
    edges = quantile_edges(ref)
    cur[:6] = [np.inf, -np.inf, edges[0], edges[-1], edges[len(edges) // 2], np.nan]
    expected = np.bincount(
        np.searchsorted(edges, cur[~np.isnan(cur)], side="right"), minlength=len(edges) + 1
    )
    assert np.array_equal(bin_counts(cur, edges), expected)
    if name in ("normal", "lognormal"):
        assert _bin_index(cur[~np.isnan(cur)], edges) is not None  # the lookup path really ran


def test_extreme_thresholds():
    edges = probability_edges(include=(1.0,))
    assert edges[-1] == 1.0
    tb = threshold_bin(edges, 1.0)
    idx = np.searchsorted(edges, np.array([0.999999, 1.0]), side="right")
    assert (idx >= tb).tolist() == [False, True]
    assert threshold_bin(edges, 0.0) == 0
