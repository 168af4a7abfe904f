"""Multivariate drift by PCA reconstruction error (as NannyML's data reconstruction drift).

Fit PCA on the standardised reference; a window whose joint structure changed (e.g. two
features decorrelate while each marginal stays put) reconstructs worse from the reference
components, so its mean reconstruction error rises above the reference chunks' band.
"""

import numpy as np


def encode(columns: dict[str, np.ndarray], spec: dict) -> np.ndarray:
    """Stack feature columns into a float matrix (rows x encoded columns), NaN for nulls.

    ``spec``: ``{"numeric": [name, ...], "categorical": {name: [top categories]}}``. Numeric
    columns are copied as float; each categorical column becomes one 0/1 column per listed
    category plus one "other" column (unseen or rarer categories); a null categorical value
    is NaN in all of them (imputed later like any missing value). Use ``spec_from_reference``
    to build the spec once from the reference.
    """
    parts = [np.asarray(columns[name], dtype=np.float64).reshape(-1, 1) for name in spec.get("numeric", [])]
    for name, cats in spec.get("categorical", {}).items():
        vals = np.asarray(columns[name], dtype=object)
        null = np.array([v is None or (isinstance(v, float) and v != v) for v in vals], dtype=bool)
        text = np.where(null, "", vals).astype(str)
        block = np.zeros((vals.size, len(cats) + 1), dtype=np.float64)
        for j, cat in enumerate(cats):
            block[:, j] = text == cat
        block[:, -1] = block[:, :-1].sum(axis=1) == 0
        block[null] = np.nan
        parts.append(block)
    if not parts:
        raise ValueError("spec names no columns")
    return np.hstack(parts)


def spec_from_reference(
    numeric: dict[str, np.ndarray], categorical: dict[str, np.ndarray], *, top: int = 10
) -> dict:
    """Encoding spec keeping each categorical column's ``top`` most frequent reference values."""
    cats = {}
    for name, values in categorical.items():
        vals = [str(v) for v in values if v is not None and not (isinstance(v, float) and v != v)]
        uniq, counts = np.unique(np.asarray(vals, dtype=str), return_counts=True) if vals else ([], [])
        order = np.argsort(-np.asarray(counts), kind="stable")[:top]
        cats[name] = [str(uniq[i]) for i in order]
    return {"numeric": list(numeric), "categorical": cats}


def _standardise(model: dict, X: np.ndarray) -> np.ndarray:
    mean = np.asarray(model["mean"])
    std = np.asarray(model["std"])
    Z = np.asarray(X, dtype=np.float64)
    Z = np.where(np.isnan(Z), mean, Z)
    return (Z - mean) / std


def fit_reconstruction(ref: np.ndarray, *, variance: float = 0.65) -> dict:
    """PCA of the standardised reference keeping the fewest components explaining ``variance``.

    Missing values are imputed by the reference mean; constant columns get std 1. Returns a
    JSON-serialisable dict {"mean", "std", "components" (rows), "n_components", "variance"}.
    """
    X = np.asarray(ref, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError("reference must be a 2-D array with at least two rows")
    mean = np.nanmean(X, axis=0)
    mean = np.where(np.isnan(mean), 0.0, mean)
    std = np.nanstd(X, axis=0)
    std = np.where(np.isnan(std) | (std == 0), 1.0, std)
    model = {"mean": mean.tolist(), "std": std.tolist()}
    Z = _standardise(model, X)
    _, s, vt = np.linalg.svd(Z - Z.mean(axis=0), full_matrices=False)
    explained = np.cumsum(s**2) / max(np.sum(s**2), 1e-300)
    k = int(min(np.searchsorted(explained, variance) + 1, vt.shape[0]))
    model.update(components=vt[:k].tolist(), n_components=k, variance=float(explained[k - 1]))
    return model


def reconstruction_errors(model: dict, X: np.ndarray) -> np.ndarray:
    """Per-row Euclidean distance between the standardised row and its PCA reconstruction."""
    Z = _standardise(model, X)
    V = np.asarray(model["components"])
    recon = (Z @ V.T) @ V
    return np.linalg.norm(Z - recon, axis=1)


def reconstruction_error(model: dict, X: np.ndarray) -> float:
    """Mean reconstruction error of the rows of ``X`` (standardised units)."""
    return float(reconstruction_errors(model, X).mean())


def threshold_from_chunks(
    model: dict, ref: np.ndarray, *, chunk_size: int, n_chunks: int, rng: np.random.Generator
) -> tuple[float, float]:
    """(lower, upper) = mean -/+ 3 sd of the mean error over random reference chunks.

    Chunks are drawn without replacement within each chunk; use the chunk size of the
    windows being compared, since the band narrows as chunks grow.
    """
    errors = reconstruction_errors(model, ref)
    size = min(chunk_size, errors.size)
    means = np.array(
        [errors[rng.choice(errors.size, size=size, replace=False)].mean() for _ in range(n_chunks)]
    )
    mu, sd = float(means.mean()), float(means.std(ddof=1)) if n_chunks > 1 else 0.0
    return mu - 3 * sd, mu + 3 * sd
