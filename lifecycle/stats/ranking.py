"""How two rankers' orderings differ: top-k overlap and rank displacement, per list.

A list is the set of rows sharing a group id (e.g. one entity's candidates); rank 0 is the
highest score; ties keep input order.
"""

import numpy as np


def ranks_within(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """0-based rank of each row inside its group by descending score."""
    g = np.asarray(groups)
    s = np.asarray(scores, dtype=np.float64)
    order = np.lexsort((-s, g))
    sorted_g = g[order]
    starts = np.r_[0, np.flatnonzero(sorted_g[1:] != sorted_g[:-1]) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, g.size]))
    ranks = np.empty(g.size, dtype=np.int64)
    ranks[order] = np.arange(g.size) - first
    return ranks


def jaccard_at_k(groups: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, *, k: int) -> float | None:
    """Mean over groups of |top-k(a) & top-k(b)| / |top-k(a) | top-k(b)|; None with no rows."""
    g = np.asarray(groups)
    if g.size == 0:
        return None
    _, codes = np.unique(g, return_inverse=True)
    in_a = ranks_within(codes, score_a) < k
    in_b = ranks_within(codes, score_b) < k
    both = np.bincount(codes, weights=in_a & in_b)
    union = np.bincount(codes, weights=in_a) + np.bincount(codes, weights=in_b) - both
    return float(np.mean(both / union))


def mean_rank_displacement(groups: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> float | None:
    """Mean |rank under a - rank under b| over all rows; None with no rows."""
    g = np.asarray(groups)
    if g.size == 0:
        return None
    _, codes = np.unique(g, return_inverse=True)
    return float(np.mean(np.abs(ranks_within(codes, score_a) - ranks_within(codes, score_b))))


def mean_rank_shift(groups: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, watched: np.ndarray) -> float | None:
    """Mean (rank under b - rank under a) of the watched rows (positive: b ranks them lower)."""
    mask = np.asarray(watched, dtype=bool)
    if not mask.any():
        return None
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    shift = ranks_within(codes, score_b) - ranks_within(codes, score_a)
    return float(shift[mask].mean())
