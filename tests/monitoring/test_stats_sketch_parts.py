"""Mergeable moments and reservoir samples: merging parts equals computing on the whole."""

import json

import numpy as np
import pytest
from scipy import stats

from monitoring.engine.stats.moments import Moments
from monitoring.engine.stats.sampling import reservoir_merge

RNG = np.random.default_rng(11)


def test_merged_moments_equal_numpy_on_the_whole():
    x = RNG.lognormal(3, 1, 10_001)
    x[::97] = np.nan
    merged = Moments()
    for chunk in np.array_split(x, 7):
        merged = merged.merge(Moments.from_values(chunk))
    finite = x[~np.isnan(x)]
    assert merged.count == finite.size
    assert merged.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert merged.std == pytest.approx(finite.std(ddof=1), rel=1e-10)
    assert merged.min == finite.min() and merged.max == finite.max()


def test_moments_empty_and_roundtrip():
    empty = Moments.from_values(np.array([np.nan]))
    assert empty.count == 0 and empty.std is None and empty.min is None
    one = Moments.from_values(np.array([2.0]))
    assert empty.merge(one) == one and one.merge(empty) == one and one.std is None
    m = Moments.from_values(RNG.normal(size=50))
    assert Moments.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_reservoir_merge_is_uniform_over_the_union():
    # Stream A = items 0..899 sampled down to 100, stream B = 900..999 kept whole.
    k, hits = 100, np.zeros(1_000)
    for _ in range(400):
        a = RNG.choice(900, size=100, replace=False)
        b = np.arange(900, 1_000)
        merged = reservoir_merge(a, 900, b, 100, k, RNG)
        assert merged.size == k and np.unique(merged).size == k
        hits[merged] += 1
    # Each item should be kept with probability k / 1000, whichever stream it came from.
    share_a = hits[:900].sum() / hits.sum()
    assert share_a == pytest.approx(0.9, abs=0.01)
    per_item = hits / 400
    assert abs(per_item[:900].mean() - per_item[900:].mean()) < 0.01
    assert stats.chisquare(np.add.reduceat(hits, np.arange(0, 1_000, 100))).pvalue > 0.001


def test_reservoir_merge_rows_and_small_streams():
    a = np.arange(10).reshape(5, 2)
    b = np.arange(100, 106).reshape(3, 2)
    merged = reservoir_merge(a, 5, b, 3, 20, RNG)
    assert merged.shape == (8, 2)
    assert sorted(map(tuple, merged.tolist())) == sorted(map(tuple, np.vstack([a, b]).tolist()))
    assert reservoir_merge(np.array([]), 0, b, 3, 2, RNG).shape == (2, 2)
    huge = reservoir_merge(np.arange(50), 2_000_000_000, np.arange(50, 100), 10, 50, RNG)
    assert huge.size == 50 and (huge < 50).sum() >= 49
