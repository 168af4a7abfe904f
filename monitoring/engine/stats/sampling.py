"""Bounded uniform samples that merge: the raw values kept for statistics needing them."""

import numpy as np

# numpy's hypergeometric sampler refuses populations of 10**9 or more.
_HYPERGEOMETRIC_LIMIT = 10**9 - 1


def reservoir_merge(
    a: np.ndarray, n_a: int, b: np.ndarray, n_b: int, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Merge uniform samples ``a`` (of a stream of ``n_a`` items) and ``b`` (of ``n_b``).

    Returns a uniform sample without replacement of at most ``k`` items of the union: the
    number taken from ``a`` is hypergeometric (as if ``min(k, n_a + n_b)`` items were drawn
    from the union), then that many are drawn from ``a`` and the rest from ``b``. Works on
    1-D arrays and on 2-D arrays of rows (axis 0). If a sample is smaller than its share
    (it was kept with a smaller ``k``), the result is shorter than ``k`` rather than biased.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if n_a <= 0 or len(a) == 0:
        return _take(b, min(k, len(b)), rng)
    if n_b <= 0 or len(b) == 0:
        return _take(a, min(k, len(a)), rng)
    total = min(k, n_a + n_b)
    if n_a + n_b <= _HYPERGEOMETRIC_LIMIT:
        m = int(rng.hypergeometric(n_a, n_b, total))
    else:
        m = int(rng.binomial(total, n_a / (n_a + n_b)))
    from_a = min(m, len(a))
    from_b = min(total - m, len(b))
    out = np.concatenate([_take(a, from_a, rng), _take(b, from_b, rng)], axis=0)
    return out[rng.permutation(len(out))]


def _take(x: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    if m >= len(x):
        return x.copy()
    return x[rng.choice(len(x), size=m, replace=False)]
