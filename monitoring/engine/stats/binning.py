"""Bin grids and counting: the fixed resolution every sketch is folded at.

Numeric bins are ``(-inf, e0), [e0, e1), ..., [e_last, inf)``: ``len(edges) + 1`` bins.
A value ``v`` falls in bin ``searchsorted(edges, v, side="right")``, so a value equal to an
edge belongs to the bin that starts at that edge.
"""

from collections import Counter

import numpy as np

DEFAULT_MAX_BINS = 1000


def numeric_grid(values: np.ndarray, max_bins: int = DEFAULT_MAX_BINS) -> tuple[np.ndarray, bool]:
    """``(quantile_edges(values, max_bins), discrete)``: ``discrete`` is True when the grid has
    one bin per distinct reference value (pass it as ``point_masses`` to Wasserstein)."""
    x = np.asarray(values, dtype=np.float64)
    n_unique = np.unique(x[np.isfinite(x)]).size
    return quantile_edges(x, max_bins), 0 < n_unique <= max_bins


def quantile_edges(values: np.ndarray, max_bins: int = DEFAULT_MAX_BINS) -> np.ndarray:
    """Interior bin edges from the quantiles of the finite ``values`` (float64, sorted, unique).

    The binned KS statistic differs from the raw one by at most the largest reference mass
    of a bin, so ``max_bins=1000`` keeps it within about 0.001 (the contract asks 0.005).
    A feature with at most ``max_bins`` distinct values gets one bin per value (exact KS on
    discrete features). Otherwise every value that carries more than one bin's worth of mass
    (a tie-heavy atom, e.g. a zero-inflated feature) is isolated in its own bin
    ``[v, nextafter(v))`` so its jump never hides inside a wider bin; the grid may then have
    up to about ``2 * max_bins`` bins.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.empty(0, dtype=np.float64)
    uniq, counts = np.unique(x, return_counts=True)
    if uniq.size <= max_bins:
        # One bin per distinct value; the first value starts the second bin so the lower
        # tail bin (-inf, v0) stays empty on the reference.
        return uniq
    levels = np.arange(1, max_bins) / max_bins
    edges = np.quantile(x, levels, method="inverted_cdf")
    atoms = uniq[counts > x.size / max_bins]
    if atoms.size:
        edges = np.concatenate([edges, atoms, np.nextafter(atoms, np.inf)])
    return np.unique(edges)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Count ``values`` per bin of ``edges`` (int64, length ``len(edges) + 1``); NaN ignored.

    +/-inf land in the tail bins. Same result as ``bincount(searchsorted(edges, x, "right"))``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[~np.isnan(x)]
    e = np.asarray(edges, dtype=np.float64)
    idx = _bin_index(x, e) if x.size >= _FAST_MIN_VALUES else None
    if idx is None:
        idx = np.searchsorted(e, x, side="right")
    return np.bincount(idx, minlength=len(e) + 1).astype(np.int64, copy=False)


_FAST_MIN_VALUES = 50_000
_FAST_CELLS = 1 << 16
_FAST_MAX_STEPS = 8


def _bin_index(x: np.ndarray, e: np.ndarray) -> np.ndarray | None:
    """``searchsorted(e, x, "right")`` through a uniform lookup table over [e0, e_last].

    A binary search over 1000 edges mispredicts a branch at almost every step; instead each
    value jumps to the first edge of the lookup cell before its own (so a rounding error of
    one cell is harmless) and steps forward past the few edges left, a whole-array pass per
    step. Returns None when the edges are too unevenly spread for a few steps to suffice.
    """
    if e.size < 16 or not np.isfinite(e[[0, -1]]).all() or e[-1] <= e[0]:
        return None
    width = (e[-1] - e[0]) / (_FAST_CELLS - 1)
    if not (np.isfinite(width) and width > 0 and np.isfinite(1.0 / width)):
        return None
    start = np.searchsorted(e, e[0] + (np.arange(_FAST_CELLS) - 1) * width, side="right")
    # A value computed into cell c lies below grid[c + 2] (one cell of rounding slack), so
    # it passes at most start[c + 3] - start[c] edges; the last cells run to the end.
    ext = np.concatenate([start, np.full(3, e.size, dtype=start.dtype)])
    steps = int(np.max(ext[3:] - ext[:-3]))
    if steps > _FAST_MAX_STEPS:
        return None
    cell = x - e[0]
    cell *= 1.0 / width
    np.clip(cell, 0, _FAST_CELLS - 1, out=cell)
    idx = np.take(start, cell.astype(np.intp))
    padded = np.append(e, np.nan)  # nan <= x is False: no value steps past the last edge
    for _ in range(steps):
        idx += (np.take(padded, idx) <= x).astype(np.intp)
    return idx


def category_counts(values: np.ndarray, categories: list[str]) -> tuple[np.ndarray, dict[str, int], int]:
    """Count categorical ``values`` against the reference ``categories``.

    Values are compared as ``str`` (so JSON ``1`` and ``"1"`` are the same category); None
    and float NaN are nulls. Returns (int64 counts aligned with ``categories``,
    {unseen category: count}, null count).
    """
    vals = np.asarray(values, dtype=object).ravel()
    # Elementwise on object arrays: v is None, or v != v (only NaN differs from itself).
    null_mask = np.equal(vals, None) | np.not_equal(vals, vals)
    present = vals[~null_mask].tolist()
    tally = Counter(present)
    if any(not isinstance(k, str) for k in tally):
        # Counter would merge 1, 1.0 and True; their strings differ, so count the strings.
        tally = Counter(v if isinstance(v, str) else str(v) for v in present)
    counts = np.zeros(len(categories), dtype=np.int64)
    unseen: dict[str, int] = {}
    index = {c: i for i, c in enumerate(categories)}
    for value, n in tally.items():
        i = index.get(value)
        if i is None:
            unseen[value] = n
        else:
            counts[i] = n
    return counts, unseen, int(null_mask.sum())


def coarse_groups(ref_counts: np.ndarray, n_groups: int = 10) -> np.ndarray:
    """Map fine bins to about ``n_groups`` groups of equal reference mass (int64 group ids).

    The two tail bins (below the first edge, from the last edge up) are always groups of
    their own, so mass moving outside the reference range stays visible. Interior bins are
    cut where the reference cumulative mass crosses multiples of ``1 / n_groups``; bins are
    never split, so an atom heavier than a group is one group. PSI and JS use these groups:
    thousands of tiny bins would make them mostly sampling noise.
    """
    ref = np.asarray(ref_counts, dtype=np.float64)
    k = ref.size
    if k <= 2:
        return np.arange(k, dtype=np.int64)
    inner = ref[1:-1]
    total = inner.sum()
    if total > 0:
        cum = np.cumsum(inner) / total
        # Group of an interior bin: how many 1/n_groups marks its cumulative mass has passed
        # before the bin ends, with the bin's own upper end counted as inside.
        ids = np.minimum(np.floor((cum - inner / total / 2) * n_groups), n_groups - 1)
        _, ids = np.unique(ids, return_inverse=True)
    else:
        ids = np.zeros(inner.size, dtype=np.int64)
    groups = np.empty(k, dtype=np.int64)
    groups[0] = 0
    groups[1:-1] = ids + 1
    groups[-1] = groups[-2] + 1
    return groups


def regroup(counts: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Sum fine ``counts`` into the groups of ``coarse_groups`` (same dtype family)."""
    c = np.asarray(counts)
    return np.bincount(groups, weights=c, minlength=int(groups.max()) + 1).astype(c.dtype)


def probability_edges(n: int = 1000, include: tuple[float, ...] = ()) -> np.ndarray:
    """The fixed score-bin grid for probabilities in [0, 1] (ROC AUC, calibration, CBPE).

    ``n`` uniform edges on (0, 1) merged with ``n`` edges uniform in logit space over
    [-14, 14], so bins are at most 1/n wide in the middle and much finer near 0 and 1 where
    real scores pile up; about ``2 * n`` bins. With the default the binned ROC AUC stays
    within 0.002 of the raw one (tested). A decision threshold MUST be an edge: pass it in
    ``include`` so ``score >= threshold`` is exactly "bin index >= the threshold's bin"
    (the bin that starts at the threshold, see ``threshold_bin``).
    """
    lin = np.linspace(0.0, 1.0, n + 1)[1:-1]
    logit = 1.0 / (1.0 + np.exp(-np.linspace(-14.0, 14.0, n)))
    extra = np.asarray([t for t in include if 0.0 < t <= 1.0], dtype=np.float64)
    edges = np.unique(np.concatenate([lin, logit, extra]))
    # Edges closer than float noise would make empty sliver bins; drop them except `include`.
    keep = np.concatenate([[True], np.diff(edges) > 1e-12])
    keep |= np.isin(edges, extra)
    return edges[keep]


def threshold_bin(edges: np.ndarray, threshold: float) -> int:
    """Index of the first bin predicted positive (``score >= threshold``).

    A threshold at or below 0 makes every bin positive (0 is returned; exact for
    probabilities). Raises ValueError if the threshold is not an edge of the grid (see
    ``probability_edges``, which accepts thresholds in (0, 1]).
    """
    if threshold <= 0.0:
        return 0
    i = int(np.searchsorted(edges, threshold, side="left"))
    if i >= len(edges) or edges[i] != threshold:
        raise ValueError(f"threshold {threshold} is not an edge of the score grid")
    return i + 1
