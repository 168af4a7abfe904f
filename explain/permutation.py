"""Permutation SHAP in plain numpy (no Django, no numba).

Same algorithm as shap's PermutationExplainer: for each permutation (in antithetic pairs)
features are switched from background values to the row's values one at a time, and each
feature is credited with the change of the mean model output. The credits of one
permutation telescope from mean f(background) to f(x), so base + sum(shap) = f(x) exactly;
the split between features is an estimate that is exact for additive models. We don't call
shap's own implementation because its numba kernels take about a minute to compile on the
first call in every process, which no explanation request can wait for.
"""

from collections.abc import Callable

import numpy as np


def permutation_shap(*, model: Callable[[np.ndarray], np.ndarray], rows: np.ndarray, background: np.ndarray,
                     permutations: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values ``(n, features)`` and base values ``(n,)`` of ``model`` (matrix -> 1-D output)."""
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    background = np.atleast_2d(np.asarray(background, dtype=np.float64))
    n_features, n_background = rows.shape[1], background.shape[0]
    rng = np.random.default_rng(seed)
    forward = [rng.permutation(n_features) for _ in range(max(1, permutations // 2))]
    orders = forward + [p[::-1] for p in forward]
    shap = np.zeros(rows.shape)
    base = np.zeros(len(rows))
    for r, x in enumerate(rows):
        # One model call per row: every (permutation, step) masked copy of the background.
        stacked = np.empty((len(orders), n_features + 1, n_background, n_features))
        for i, order in enumerate(orders):
            current = background.copy()
            stacked[i, 0] = current
            for k, feature in enumerate(order):
                current[:, feature] = x[feature]
                stacked[i, k + 1] = current
        out = np.asarray(model(stacked.reshape(-1, n_features)), dtype=np.float64)
        means = out.reshape(len(orders), n_features + 1, n_background).mean(axis=2)
        for i, order in enumerate(orders):
            shap[r, order] += np.diff(means[i])
        shap[r] /= len(orders)
        base[r] = means[:, 0].mean()
    return shap, base
