"""Turning columns of rows into sketches, against a version's layout. No Django.

Sketch keys (see monitoring.engine.sketch_codec for the merge rule):
- ``rows``, ``late``, ``dup``: row counts (shape (1,));
- ``q:<f>``: ``[nulls, out_of_range, unseen]`` per feature; ``b:<f>``: counts per reference
  bin (numeric/boolean) or category (categorical); ``m:<f>``: moments (numeric);
- ``b:__score__``/``m:__score__`` the same for the score; ``p:all``/``p:sum`` counts and
  score sums per probability bin (binary, for the label-free estimate);
- ``sample``: bounded row sample (features encoded as in :func:`encode_rows`);
- labels: ``lab:n`` labelled rows; binary ``lab:pos``/``lab:neg`` per probability bin,
  ``lab:conf`` ``[tp, fp, tn, fn]``, ``lab:sums`` log-loss/Brier sums; multiclass ``lab:conf``
  K x K (true x predicted); regression ``lab:sums``; ``lab:dist`` label distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from monitoring.engine.sketch_codec import SAMPLE_SIZE, Sketch, bound_unseen, moments_array
from monitoring.engine.stats.binning import bin_counts, category_counts, probability_edges
from monitoring.engine.stats.moments import Moments
from monitoring.engine.stats.performance import binary_sums, regression_sums

SCORE = "__score__"
BINARY_SUMS = ("n", "n_pos", "sum_log_loss", "sum_brier")
REGRESSION_SUMS = ("n", "sum_abs", "sum_sq", "sum_ape", "n_ape", "sum_y", "sum_y2")


def sums_array(sums: dict, keys: tuple[str, ...]) -> np.ndarray:
    return np.array([sums[k] for k in keys], dtype=np.float64)


def sums_dict(values: np.ndarray, keys: tuple[str, ...]) -> dict:
    return {k: float(v) for k, v in zip(keys, values, strict=True)}


@dataclass
class FeatureLayout:
    name: str
    kind: str  # numeric | categorical | boolean
    edges: np.ndarray | None = None  # numeric/boolean bins; None before the profile exists
    categories: list[str] | None = None
    lo: float | None = None  # declared range, for the out-of-range count
    hi: float | None = None


@dataclass
class Layout:
    """How a version's rows are folded: its features' bins, task, threshold and classes."""

    task: str
    threshold: float
    features: list[FeatureLayout]
    score_edges: np.ndarray | None = None
    classes: list[str] = field(default_factory=list)
    label_edges: np.ndarray | None = None  # regression label bins

    @property
    def binned(self) -> bool:
        return all(f.edges is not None or f.categories is not None for f in self.features)

    @property
    def prob_edges(self) -> np.ndarray:
        return probability_edges(include=(self.threshold,))


def encode_rows(layout: Layout, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Rows -> float64 matrix: numeric as is, categorical as the category's index (-1 if unseen).

    Null is NaN. Used for the bounded sample the multivariate drift score reads.
    """
    n = len(next(iter(columns.values()))) if columns else 0
    out = np.full((n, len(layout.features)), np.nan)
    for j, feat in enumerate(layout.features):
        values = columns.get(feat.name)
        if values is None:
            continue
        if feat.kind == "categorical":
            index = {c: i for i, c in enumerate(feat.categories or [])}
            out[:, j] = [np.nan if v is None or v != v else index.get(str(v), -1) for v in values]
        else:
            out[:, j] = np.asarray(values, dtype=np.float64)
    return out


def sample_columns(layout, sample: np.ndarray) -> dict[str, np.ndarray]:
    """Decode a sketch/profile sample matrix back to columns (categories as strings)."""
    cols = {}
    for j, feat in enumerate(layout.features):
        x = sample[:, j]
        if feat.kind == "categorical":
            lookup = np.array([*(feat.categories or []), "__unseen__", None], dtype=object)
            k = len(lookup) - 2
            code = np.where(np.isnan(x), k + 1, np.where((x >= 0) & (x < k), np.nan_to_num(x), k)).astype(np.int64)
            cols[feat.name] = lookup[code]
        else:
            cols[feat.name] = x
    return cols


def rows_sketch(
    layout: Layout,
    columns: dict[str, np.ndarray],
    scores: np.ndarray,
    *,
    late: int = 0,
    rng: np.random.Generator,
) -> Sketch:
    """Sketch of one group of prediction rows (one version, hour and segment)."""
    n = len(scores)
    s = Sketch()
    a = s.arrays
    a["rows"] = np.array([n], dtype=np.int64)
    a["late"] = np.array([late], dtype=np.int64)
    for feat in layout.features:
        values = columns.get(feat.name)
        if values is None:  # feature absent from every row of the group
            a[f"q:{feat.name}"] = np.array([n, 0, 0], dtype=np.int64)
            continue
        if feat.kind == "categorical":
            if feat.categories is None:
                nulls = sum(1 for v in values if v is None)
                a[f"q:{feat.name}"] = np.array([nulls, 0, 0], dtype=np.int64)
                continue
            counts, unseen, nulls = category_counts(values, feat.categories)
            a[f"b:{feat.name}"] = counts
            if unseen:
                s.unseen[feat.name] = bound_unseen(unseen)
            a[f"q:{feat.name}"] = np.array([nulls, 0, sum(unseen.values())], dtype=np.int64)
            continue
        x = np.asarray(values, dtype=np.float64)
        nulls = int(np.isnan(x).sum())
        out = 0
        if feat.lo is not None:
            out += int((x < feat.lo).sum())
        if feat.hi is not None:
            out += int((x > feat.hi).sum())
        a[f"q:{feat.name}"] = np.array([nulls, out, 0], dtype=np.int64)
        if feat.edges is not None:
            a[f"b:{feat.name}"] = bin_counts(x, feat.edges)
        if feat.kind == "numeric":
            a[f"m:{feat.name}"] = moments_array(Moments.from_values(x))
    a[f"m:{SCORE}"] = moments_array(Moments.from_values(scores))
    if layout.score_edges is not None:
        a[f"b:{SCORE}"] = bin_counts(scores, layout.score_edges)
    if layout.task == "binary_classification":
        edges = layout.prob_edges
        idx = np.searchsorted(edges, scores, side="right")
        a["p:all"] = np.bincount(idx, minlength=len(edges) + 1).astype(np.int64)
        a["p:sum"] = np.bincount(idx, weights=scores, minlength=len(edges) + 1)
    if layout.binned and n:
        pick = rng.choice(n, size=min(n, SAMPLE_SIZE), replace=False)
        a["sample"] = encode_rows(layout, {k: np.asarray(v)[pick] for k, v in columns.items()})
        s.sample_population = n
    return s


def label_values(layout: Layout, raw: list) -> tuple[np.ndarray, np.ndarray]:
    """Raw JSON labels -> (values, valid mask). Binary 0/1, multiclass class index, regression float."""
    n = len(raw)
    values = np.zeros(n, dtype=np.float64)
    valid = np.ones(n, dtype=bool)
    index = {str(c): i for i, c in enumerate(layout.classes)}
    for i, v in enumerate(raw):
        try:
            if layout.task == "binary_classification":
                if isinstance(v, str):
                    v = {"true": 1, "false": 0}.get(v.lower(), v)
                values[i] = 1.0 if float(v) >= 0.5 else 0.0
            elif layout.task == "multiclass_classification":
                values[i] = index[str(v)]
            else:
                values[i] = float(v)
                valid[i] = np.isfinite(values[i])
        except (KeyError, TypeError, ValueError):
            valid[i] = False
    return values, valid


def labels_sketch(layout: Layout, scores: np.ndarray, predictions: list, raw_labels: list) -> Sketch:
    """Additive sketch of labelled predictions (negate it to remove a replaced label)."""
    y, valid = label_values(layout, raw_labels)
    scores = np.asarray(scores, dtype=np.float64)[valid]
    y = y[valid]
    s = Sketch()
    a = s.arrays
    a["lab:n"] = np.array([len(y)], dtype=np.int64)
    if layout.task == "binary_classification":
        edges = layout.prob_edges
        idx = np.searchsorted(edges, scores, side="right")
        pos = y == 1
        a["lab:pos"] = np.bincount(idx[pos], minlength=len(edges) + 1).astype(np.int64)
        a["lab:neg"] = np.bincount(idx[~pos], minlength=len(edges) + 1).astype(np.int64)
        pred = scores >= layout.threshold
        a["lab:conf"] = np.array(
            [(pred & pos).sum(), (pred & ~pos).sum(), (~pred & ~pos).sum(), (~pred & pos).sum()], dtype=np.int64
        )
        a["lab:sums"] = sums_array(binary_sums(scores, y), BINARY_SUMS)
        a["lab:dist"] = np.array([(~pos).sum(), pos.sum()], dtype=np.int64)
    elif layout.task == "multiclass_classification":
        k = len(layout.classes)
        index = {str(c): i for i, c in enumerate(layout.classes)}
        preds = np.array([index.get(str(p), -1) for p in np.asarray(predictions, dtype=object)[valid]], dtype=np.int64)
        ok = preds >= 0
        conf = np.bincount(y[ok].astype(np.int64) * k + preds[ok], minlength=k * k).reshape(k, k)
        a["lab:conf"] = conf.astype(np.int64)
        a["lab:dist"] = np.bincount(y.astype(np.int64), minlength=k).astype(np.int64)
    else:
        a["lab:sums"] = sums_array(regression_sums(y, scores), REGRESSION_SUMS)
        if layout.label_edges is not None:
            a["lab:dist"] = bin_counts(y, layout.label_edges)
    return s
