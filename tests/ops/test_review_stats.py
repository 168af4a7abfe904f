"""The review queue's statistics on plain arrays: sampler, Hajek estimator, Cohen's kappa, error patterns."""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from ops.review_stats import (
    allocate,
    assign_strata,
    cohen_kappa,
    describe_pattern,
    error_patterns,
    hajek_ratio,
    stratified_sample,
)


def population(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    flags = {
        "overridden": rng.random(n) < 0.02,
        "near_threshold": rng.random(n) < 0.1,
        "unusual_explanation": rng.random(n) < 0.03,
    }
    return assign_strata(flags, n), flags


@pytest.mark.parametrize("size", [5, 50, 200, 999, 1000, 5000])
def test_inclusion_probabilities_add_up_to_the_population_and_strata_are_respected(size):
    strata, flags = population()
    sample = stratified_sample(strata, size, np.random.default_rng(1))
    assert len(sample.index) == min(size, 1000) == len(set(sample.index.tolist()))
    # Horvitz-Thompson count of the population: each drawn decision stands for 1/pi of them.
    assert np.sum(1 / sample.probability) == pytest.approx(1000)
    for name, (big_n, n_h) in sample.allocation.items():
        drawn = sample.stratum == name
        assert int(drawn.sum()) == n_h and big_n == int((strata == name).sum())
        assert np.all(strata[sample.index[drawn]] == name)  # each item comes from its own stratum
        assert np.allclose(sample.probability[drawn], n_h / big_n)
        assert np.sum(1 / sample.probability[drawn]) == pytest.approx(big_n)
    # Priority: an overridden decision near the threshold is in "overridden".
    both = flags["overridden"] & flags["near_threshold"]
    assert both.any() and np.all(strata[both] == "overridden")


def test_every_stratum_gets_a_draw_and_special_strata_are_oversampled():
    alloc = allocate(
        {"overridden": 20, "near_threshold": 100, "unusual_explanation": 30, "uniform": 850}, 100
    )
    assert sum(alloc.values()) == 100 and all(v >= 1 for v in alloc.values())
    assert alloc["near_threshold"] / 100 > alloc["uniform"] / 850
    assert allocate({"uniform": 3, "overridden": 1}, 2) == {"overridden": 1, "uniform": 1}


def test_sampling_frequencies_match_the_stated_probabilities():
    strata = np.array(["overridden"] * 10 + ["uniform"] * 90, dtype=object)
    hits = np.zeros(100)
    rng = np.random.default_rng(3)
    for _ in range(2000):
        sample = stratified_sample(strata, 20, rng)
        hits[sample.index] += 1
        probability = dict(zip(sample.index.tolist(), sample.probability.tolist(), strict=True))
    stated = np.array([probability.get(i, np.nan) for i in range(100)])
    known = ~np.isnan(stated)
    assert np.allclose(hits[known] / 2000, stated[known], atol=0.04)


def direct_hajek(y, x, pi, strata, big_n):
    """The textbook formulas written out with loops."""
    num = sum(yi / p for yi, p in zip(y, pi, strict=True))
    den = sum(xi / p for xi, p in zip(x, pi, strict=True))
    r = num / den
    var = 0.0
    for h in set(strata):
        idx = [i for i, s in enumerate(strata) if s == h]
        u = [(y[i] - r * x[i]) / pi[i] / den for i in idx]
        mean = sum(u) / len(u)
        n_h = len(idx)
        var += (1 - n_h / big_n[h]) * n_h / (n_h - 1) * sum((v - mean) ** 2 for v in u)
    return r, var**0.5


def test_hajek_matches_a_direct_computation_and_removes_the_oversampling_bias():
    rng = np.random.default_rng(5)
    # Population: 900 easy decisions (95% right), 100 near the threshold (60% right).
    truth_correct = np.concatenate([rng.random(900) < 0.95, rng.random(100) < 0.6])
    strata = np.array(["uniform"] * 900 + ["near_threshold"] * 100, dtype=object)
    sample = stratified_sample(strata, 150, np.random.default_rng(6))
    y = truth_correct[sample.index].astype(float)
    big_n = {"uniform": 900, "near_threshold": 100}
    est = hajek_ratio(y, np.ones_like(y), sample.probability, sample.stratum, big_n)
    r, se = direct_hajek(
        y.tolist(), [1.0] * len(y), sample.probability.tolist(), sample.stratum.tolist(), big_n
    )
    assert est.value == pytest.approx(r, abs=1e-12)
    assert est.low == pytest.approx(max(0, r - 1.959963984540054 * se), abs=1e-12)
    assert est.high == pytest.approx(min(1, r + 1.959963984540054 * se), abs=1e-12)
    # The plain mean over-weights the hard stratum; the weighted one lands near the population's accuracy.
    assert abs(est.value - truth_correct.mean()) < abs(y.mean() - truth_correct.mean())
    assert est.low <= truth_correct.mean() <= est.high


def test_hajek_precision_and_recall_are_ratios_over_their_domain():
    y = np.array([1, 0, 1, 0, 1.0])  # true positives
    decided = np.array([1, 1, 1, 0, 1.0])
    pi = np.array([0.5, 0.5, 0.25, 0.25, 0.25])
    strata = np.array(["a", "a", "b", "b", "b"], dtype=object)
    est = hajek_ratio(y, decided, pi, strata, {"a": 4, "b": 12})
    assert est.value == pytest.approx((2 + 4 + 4) / (2 + 2 + 4 + 4))
    assert hajek_ratio(y, np.zeros(5), pi, strata).value is None


@pytest.mark.parametrize("seed", range(5))
def test_kappa_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, 40).tolist()
    b = [v if rng.random() < 0.7 else int(rng.integers(0, 3)) for v in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    text_a, text_b = [str(v) for v in a], [str(v) for v in b]
    assert cohen_kappa(text_a, text_b) == pytest.approx(cohen_kappa_score(text_a, text_b))


def test_kappa_edge_cases():
    assert cohen_kappa([], []) is None
    assert cohen_kappa([1, 1], [1, 1]) == 1.0
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 0])


def test_error_patterns_find_the_over_represented_condition_and_say_it_in_words():
    rows = [{"region": "south" if i < 10 else "north", "income": float(i)} for i in range(40)]
    errors = np.array([i < 8 or i == 30 for i in range(40)])
    patterns = error_patterns(rows, errors)
    top = patterns[0]
    assert (top.feature, top.condition, top.value) in {("region", "eq", "south"), ("income", "le", 19.5)}
    words = [describe_pattern(p) for p in patterns]
    assert "region is south: 8 of 9 errors (89%) but 2 of 31 correct decisions (6%)" in words
    assert error_patterns(rows, np.zeros(40, dtype=bool)) == []
