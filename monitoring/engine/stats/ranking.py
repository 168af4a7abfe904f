"""Ranking metrics from mergeable sums: per slate once, then added up per window.

A slate is the list of items shown for one request (rows sharing a ``slate_id``), ranked by
score (highest first). Relevance is the row's label (a click: 0/1; graded labels work for
NDCG). Per slate: NDCG@k (Jarvelin & Kekalainen 2002, gain rel / log2(rank + 1)), reciprocal
rank of the first relevant item, precision@k; per rank: rows shown and their relevance
(click-through rate by position). Sums over slates add across windows; a slate whose labels
change is re-counted by subtracting its old contribution (see ``slate_arrays``).

Item exposure (catalogue coverage, popularity concentration) uses impressions counted in
hashed buckets, so windows merge by addition without any list of items.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

K = 5  # the cut-off of NDCG@k and precision@k
POSITIONS = 10  # ranks counted one by one for the click-through rate; deeper ones share the last
ITEM_BUCKETS = 4096  # hashed item buckets: catalogues of a few thousand items are counted almost exactly
SUM_KEYS = ("slates", "relevant_slates", "ndcg", "rr", "precision")


def _discounts(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def slate_metrics(scores: Sequence[float], relevance: Sequence[float | None], k: int = K) -> dict | None:
    """One slate's NDCG@k, reciprocal rank and precision@k, and its relevance by rank.

    ``relevance`` None marks an unlabelled row (counted as not relevant). None when no row of
    the slate is labelled yet. NDCG is None when no item is relevant (its ideal DCG is 0).
    """
    rel_raw = list(relevance)
    if all(r is None for r in rel_raw):
        return None
    s = np.asarray(scores, dtype=np.float64)
    rel = np.asarray([0.0 if r is None else float(r) for r in rel_raw], dtype=np.float64)
    labelled = np.asarray([r is not None for r in rel_raw])
    order = np.argsort(-s, kind="stable")
    ranked, ranked_labelled = rel[order], labelled[order]
    top = min(k, len(ranked))
    ideal = np.sort(rel)[::-1][:top]
    idcg = float(np.sum(ideal * _discounts(top)))
    dcg = float(np.sum(ranked[:top] * _discounts(top)))
    hits = np.flatnonzero(ranked > 0)
    return {
        "ndcg": dcg / idcg if idcg > 0 else None,
        "rr": 1.0 / (hits[0] + 1) if hits.size else 0.0,
        "precision": float(np.sum(ranked[:top] > 0) / top),
        "ranked_relevance": ranked,
        "ranked_labelled": ranked_labelled,
    }


def slate_arrays(metrics: dict | None) -> dict[str, np.ndarray]:
    """The sketch arrays of one slate's metrics (empty when it has no label): ``rk:sums``
    (SUM_KEYS), ``rk:shown`` labelled rows and ``rk:rel`` summed relevance by rank."""
    if metrics is None:
        return {}
    ndcg = metrics["ndcg"]
    sums = np.array([1.0, 1.0 if ndcg is not None else 0.0, ndcg or 0.0, metrics["rr"], metrics["precision"]])
    ranks = np.minimum(np.arange(len(metrics["ranked_relevance"])), POSITIONS - 1)
    shown = np.bincount(ranks, weights=metrics["ranked_labelled"].astype(np.float64), minlength=POSITIONS)
    rel = np.bincount(ranks, weights=metrics["ranked_relevance"], minlength=POSITIONS)
    return {"rk:sums": sums, "rk:shown": shown, "rk:rel": rel}


def item_bucket(item_id: str) -> int:
    # A cryptographic hash, not CRC32: CRC is linear, so sequential ids ("sku-0001", ...)
    # land in distinct buckets, which breaks the random-hash assumption of linear counting.
    return int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=4).digest(), "little") % ITEM_BUCKETS


def item_counts(item_ids: Sequence) -> np.ndarray | None:
    """Impressions per hashed item bucket (None when no row names an item)."""
    buckets = [item_bucket(str(i)) for i in item_ids if i is not None]
    if not buckets:
        return None
    return np.bincount(buckets, minlength=ITEM_BUCKETS).astype(np.int64)


def distinct_items(counts: np.ndarray) -> float:
    """Distinct items from bucket counts (linear counting, Whang et al. 1990: exact while few
    items share a bucket)."""
    m = counts.size
    empty = int(np.count_nonzero(counts == 0))
    if empty == 0:
        return float(m)
    return float(-m * np.log(empty / m))


def gini(values: np.ndarray) -> float | None:
    """Gini coefficient of impressions over the items shown (0: even, towards 1: a few items
    get everything)."""
    v = np.sort(np.asarray(values, dtype=np.float64)[np.asarray(values) > 0])
    if v.size == 0:
        return None
    n = v.size
    return float((2 * np.sum(np.arange(1, n + 1) * v) / (n * v.sum())) - (n + 1) / n)


def ranking_report(arrays: dict, *, catalogue_size: int | None = None) -> dict:
    """``{"ndcg", "mrr", "precision_at_k", "k", "slates", "ctr_by_position", "distinct_items",
    "catalogue_coverage", "popularity_gini", "top_decile_share"}`` from a window's sketch arrays."""
    out: dict = {"k": K}
    sums = arrays.get("rk:sums")
    if sums is not None and sums[0] > 0:
        n, n_rel = float(sums[0]), float(sums[1])
        out.update(
            slates=int(round(n)),
            relevant_slates=int(round(n_rel)),
            ndcg=float(sums[2] / n_rel) if n_rel > 0 else None,
            mrr=float(sums[3] / n),
            precision_at_k=float(sums[4] / n),
        )
        shown, rel = arrays["rk:shown"], arrays["rk:rel"]
        out["ctr_by_position"] = [float(r / s) if s > 0 else None for r, s in zip(rel, shown, strict=True)]
    items = arrays.get("rk:items")
    if items is not None and items.sum() > 0:
        distinct = distinct_items(items)
        out["distinct_items"] = distinct
        out["catalogue_coverage"] = min(distinct / catalogue_size, 1.0) if catalogue_size else None
        out["popularity_gini"] = gini(items)
        ordered = np.sort(items[items > 0])[::-1]
        top = max(1, int(np.ceil(0.1 * ordered.size)))
        out["top_decile_share"] = float(ordered[:top].sum() / ordered.sum())
    return out
