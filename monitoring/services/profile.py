"""Reference profiles: a version's reference data binned once, and the fold layout it implies."""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
from django.db import transaction

from monitoring.engine.sketch_build import (
    SCORE,
    Layout,
    encode_rows,
    label_values,
    labels_sketch,
    sample_columns,
)
from monitoring.engine.sketch_codec import SAMPLE_SIZE, moments_array, pack
from monitoring.engine.stats.binning import category_counts, quantile_edges
from monitoring.engine.stats.estimation import calibration_needed, fit_calibrator
from monitoring.engine.stats.moments import Moments
from monitoring.engine.stats.multivariate import (
    encode,
    fit_reconstruction,
    spec_from_reference,
    threshold_from_chunks,
)
from monitoring.models import ModelVersion, ReferenceProfile, ReferenceRow, SketchPartial, WindowSketch
from monitoring.selectors.profile import layout_for_version

logger = logging.getLogger(__name__)
REFERENCE_SAMPLE = 5000
CHUNK = 5000


def _reference_columns(version: ModelVersion) -> tuple[dict[str, list], list, list]:
    """Reference rows as columns, read in chunks (rows are JSON)."""
    names = version.feature_names
    columns: dict[str, list] = {n: [] for n in names}
    scores: list = []
    labels: list = []
    rows = ReferenceRow.objects.filter(version=version).order_by("id").values_list("features", "score", "label")
    for features, score, label in rows.iterator(chunk_size=CHUNK):
        for n in names:
            columns[n].append(features.get(n))
        scores.append(score)
        labels.append(label)
    return columns, scores, labels


def _numeric(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


@transaction.atomic
def profile_build(*, version: ModelVersion) -> ReferenceProfile | None:
    """(Re)build the version's reference profile from its reference rows; None if it has none.

    Numeric features get quantile edges (up to 1000 bins, so binned KS stays within 0.005
    of the exact one), categorical features the declared categories plus those seen in the
    reference, booleans two bins. The score and the labels are profiled the same way.
    """
    columns, scores_raw, labels_raw = _reference_columns(version)
    n = len(scores_raw)
    if n == 0:
        return None
    base = layout_for_version(version=version, profile=None)
    arrays: dict[str, np.ndarray] = {}
    features = []
    for feat in base.features:
        values = columns[feat.name]
        if feat.kind == "categorical":
            declared = [str(c) for c in next(f for f in version.features if f["name"] == feat.name).get("categories") or []]
            seen = Counter(str(v) for v in values if v is not None)
            extra = sorted(set(seen) - set(declared), key=lambda c: (-seen[c], c))
            feat.categories = declared + extra
            counts, _, nulls = category_counts(np.array(values, dtype=object), feat.categories)
            arrays[f"ref:{feat.name}"] = counts
        else:
            x = _numeric(values)
            if feat.kind == "numeric":
                feat.edges = quantile_edges(x)
                arrays[f"m:{feat.name}"] = moments_array(Moments.from_values(x))
            arrays[f"ref:{feat.name}"] = np.bincount(
                np.searchsorted(feat.edges, x[~np.isnan(x)], side="right"), minlength=len(feat.edges) + 1
            ).astype(np.int64)
            arrays[f"edges:{feat.name}"] = feat.edges
        features.append(feat)
    scores = np.array([np.nan if s is None else s for s in scores_raw], dtype=np.float64)
    layout = Layout(task=base.task, threshold=base.threshold, features=features, classes=base.classes)
    finite = scores[np.isfinite(scores)]
    if finite.size:
        layout.score_edges = quantile_edges(finite)
        arrays[f"edges:{SCORE}"] = layout.score_edges
        arrays[f"ref:{SCORE}"] = np.bincount(
            np.searchsorted(layout.score_edges, finite, side="right"), minlength=len(layout.score_edges) + 1
        ).astype(np.int64)
        arrays[f"m:{SCORE}"] = moments_array(Moments.from_values(finite))
    has_label = np.array([lab is not None for lab in labels_raw]) & np.isfinite(scores)
    if layout.task == "regression" and has_label.any():
        y, valid = label_values(layout, [lab for lab, h in zip(labels_raw, has_label, strict=True) if h])
        layout.label_edges = quantile_edges(y[valid], max_bins=100)
        arrays["edges:__label__"] = layout.label_edges
    if has_label.any():
        idx = np.flatnonzero(has_label)
        lab = labels_sketch(layout, scores[idx], [None] * len(idx), [labels_raw[i] for i in idx])
        for key, value in lab.arrays.items():
            arrays[f"ref{key}"] = value  # "reflab:pos", "reflab:dist", ...
    rng = np.random.default_rng(version.pk)
    pick = np.sort(rng.choice(n, size=min(n, REFERENCE_SAMPLE), replace=False))
    sample_cols = {k: np.array(v, dtype=object)[pick] for k, v in columns.items()}
    for f in features:
        if f.kind != "categorical":
            sample_cols[f.name] = _numeric(list(sample_cols[f.name]))
    arrays["sample"] = encode_rows(layout, sample_cols)
    arrays["sample_scores"] = scores[pick]
    sample_labels = [labels_raw[i] for i in pick]
    calibrator = None
    if layout.task == "binary_classification" and has_label.any():
        idx = np.flatnonzero(has_label)
        y, valid = label_values(layout, [labels_raw[i] for i in idx])
        s, y = scores[idx][valid], y[valid]
        if y.size and calibration_needed(s, y, threshold=layout.threshold if layout.threshold is not None else 0.5):
            calibrator = fit_calibrator(s, y).to_dict()
    spec = {
        "multivariate": _multivariate(layout, arrays["sample"], rng),
        "task": layout.task,
        "threshold": layout.threshold,
        "classes": layout.classes,
        "features": [{"name": f.name, "kind": f.kind, "categories": f.categories, "lo": f.lo, "hi": f.hi} for f in features],
        "sample_labels": sample_labels,
        # Isotonic map of reference scores to probabilities when they are not calibrated.
        "calibrator": calibrator,
    }
    return _profile_save(version, spec=spec, data=pack(arrays), rows=n)


def _profile_save(version: ModelVersion, *, spec: dict, data: bytes, rows: int) -> ReferenceProfile:
    """Store the new profile under the next generation. Sketches binned with the previous one
    stay tagged with it: readers skip them and compaction leaves the version alone until
    ``sketches_rebuild`` has re-folded them (``sketches_generation`` catches up), so a rebuild
    cut short is noticed and resumed instead of mixing old bins with new edges."""
    profile = ReferenceProfile.objects.select_for_update().filter(version=version).first()
    generation = profile.generation + 1 if profile is not None else 1
    has_sketches = (
        WindowSketch.objects.filter(version=version).exists() or SketchPartial.objects.filter(version=version).exists()
    )
    if profile is None:
        profile = ReferenceProfile(version=version)
    profile.spec, profile.data, profile.rows, profile.generation = spec, data, rows, generation
    if not has_sketches:
        profile.sketches_generation = generation  # nothing to re-fold
    profile.save()
    return profile


def _multivariate(layout: Layout, sample: np.ndarray, rng: np.random.Generator) -> dict | None:
    """PCA model of the reference sample and the band of its error over window-sized chunks."""
    if len(sample) < 50 or not layout.features:
        return None
    cols = sample_columns(layout, sample)
    numeric = {f.name: cols[f.name] for f in layout.features if f.kind != "categorical"}
    categorical = {f.name: cols[f.name] for f in layout.features if f.kind == "categorical"}
    encoding = spec_from_reference(numeric, categorical)
    X = encode(cols, encoding)
    model = fit_reconstruction(X)
    lower, upper = threshold_from_chunks(
        model, X, chunk_size=min(SAMPLE_SIZE, len(X) // 2), n_chunks=200, rng=rng
    )
    return {"model": model, "encoding": encoding, "lower": lower, "upper": upper}


def profile_request_build(*, version_id: int, missing_only: bool = False) -> None:
    """After commit, ask a worker to (re)build the version's profile (never inside ingestion:
    building reads every reference row). Broker trouble is logged, not raised: the next
    analysis or ``compute_metrics`` builds it too."""

    def enqueue() -> None:
        # Imported here: the task module imports the services it runs (tasks stay thin).
        from monitoring.tasks import build_reference_profile_task

        try:
            build_reference_profile_task.delay(version_id, missing_only)
        except Exception:  # the broker is optional for correctness, see docstring
            logger.warning("could not enqueue the reference profile build of version %s", version_id, exc_info=True)

    transaction.on_commit(enqueue)
