"""PCA reconstruction drift sees joint changes that no single marginal shows."""

import json

import numpy as np

from monitoring.engine.stats.multivariate import (
    encode,
    fit_reconstruction,
    reconstruction_error,
    spec_from_reference,
    threshold_from_chunks,
)

RNG = np.random.default_rng(9)
COV = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])


def _sample(n: int, cov: np.ndarray = COV) -> np.ndarray:
    return RNG.multivariate_normal(np.zeros(3), cov, size=n)


def test_correlation_change_detected_and_unchanged_sample_within_band():
    ref = _sample(10_000)
    model = json.loads(json.dumps(fit_reconstruction(ref)))  # survives JSON storage
    assert model["n_components"] < 3
    lower, upper = threshold_from_chunks(model, ref, chunk_size=1_000, n_chunks=50, rng=RNG)
    same = reconstruction_error(model, _sample(1_000))
    assert lower <= same <= upper
    decorrelated = _sample(1_000, np.eye(3))
    # Each marginal is still N(0, 1) ...
    assert np.all(np.abs(decorrelated.std(axis=0) - 1) < 0.1)
    # ... but the joint structure broke.
    assert reconstruction_error(model, decorrelated) > upper


def test_missing_values_imputed_and_constant_columns_tolerated():
    ref = _sample(2_000)
    ref = np.hstack([ref, np.ones((2_000, 1))])
    ref[::10, 0] = np.nan
    model = fit_reconstruction(ref, variance=0.9)
    cur = ref[:500].copy()
    cur[:, 1] = np.nan
    assert np.isfinite(reconstruction_error(model, cur))


def test_encode_mixes_numeric_and_one_hot_categories():
    spec = spec_from_reference(
        {"age": np.array([30.0, 40.0])},
        {"city": np.array(["a", "b", "a", "c", None, "a", "b"], dtype=object)},
        top=2,
    )
    assert spec == {"numeric": ["age"], "categorical": {"city": ["a", "b"]}}
    X = encode(
        {"age": np.array([1.0, np.nan, 3.0]), "city": np.array(["b", "zz", None], dtype=object)},
        spec,
    )
    assert X.shape == (3, 4)
    assert X[0].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert X[1, 1:].tolist() == [0.0, 0.0, 1.0] and np.isnan(X[1, 0])
    assert np.isnan(X[2, 1:]).all()


def test_category_mix_change_is_detected():
    n = 4_000
    age = RNG.normal(40, 10, n)
    city = np.where(age > 40, "north", "south").astype(object)
    spec = spec_from_reference({"age": age}, {"city": city})
    ref = encode({"age": age, "city": city}, spec)
    model = fit_reconstruction(ref, variance=0.65)
    lower, upper = threshold_from_chunks(model, ref, chunk_size=500, n_chunks=40, rng=RNG)
    age2 = RNG.normal(40, 10, 500)
    swapped = np.where(age2 > 40, "south", "north").astype(object)
    assert reconstruction_error(model, encode({"age": age2, "city": swapped}, spec)) > upper
