"""Distributions and range totals for the dashboards, read from window sketches and profiles.

Only the sketch entries a page needs are decoded and added (see ``range_sums``), never raw rows.
"""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import connection

from monitoring.engine.perf_report import performance_report
from monitoring.engine.sketch_build import SCORE
from monitoring.engine.sketch_codec import Sketch, moments_of, unpack
from monitoring.models import ModelVersion
from monitoring.models.sketches import ReferenceProfile, TrackedSegment
from monitoring.selectors.metrics import RANGE_SQL, range_params
from monitoring.selectors.profile import layout_for_version, profile_from_row, profile_load


def _decode(blob, keys: set[str]) -> tuple[dict[str, np.ndarray], dict]:
    # A full decode builds every array (25 features x bins, moments, the row sample) and costs
    # ~7 ms a sketch here; a page adding one feature over 90 days needs one array from each.
    return unpack(blob, keys)


def range_sums(
    *, version: ModelVersion, keys: set[str], start: datetime, end: datetime, segment: str = ""
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, int]]]:
    """Sums of the additive sketch entries ``keys`` over [start, end) widened to whole hours,
    and the unseen categories seen: whole days from the daily rollups, edge hours from
    hourly windows (whole weeks from weekly rollups), plus partials not compacted yet (the
    engine's RANGE_SQL, one query).
    Sketches binned with an older profile are not read (RANGE_SQL); entries whose shape
    differs from the first read are left out."""
    # The same bounds and query as monitoring.selectors.metrics.sketch_range_get.
    params = range_params(version_id=version.pk, segment=segment, start=start, end=end)
    with connection.cursor() as cur:
        cur.execute(RANGE_SQL, params)
        blobs = [row[0] for row in cur.fetchall()]
    totals: dict[str, np.ndarray] = {}
    unseen: dict[str, dict[str, int]] = {}
    for blob in blobs:
        arrays, meta = _decode(blob, keys)
        for key, value in arrays.items():
            if key not in totals:
                totals[key] = np.array(value, dtype=np.float64 if value.dtype.kind == "f" else np.int64)
            elif totals[key].shape == value.shape:
                totals[key] = totals[key] + value
        for feature, cats in (meta.get("u") or {}).items():
            target = unseen.setdefault(feature, {})
            for cat, n in cats.items():
                target[cat] = target.get(cat, 0) + n
    return totals, unseen


@dataclass
class Histogram:
    """Display bins of one feature (or the score), reference and window shares (0-1)."""

    bins: list[str]
    reference: list[float]
    current: list[float]
    centres: list[float] | None = None  # numeric features: bin centres and widths, for a real x axis
    widths: list[float] | None = None


def _display_groups(edges: np.ndarray, n_groups: int) -> tuple[np.ndarray, list[str]]:
    """Map the fine quantile bins (len(edges)+1) to ~n_groups equal-width display intervals."""
    lo, hi = float(edges[0]), float(edges[-1])
    if hi <= lo:
        return np.zeros(len(edges) + 1, dtype=np.int64), [f"{lo:g}"]
    bounds = np.linspace(lo, hi, n_groups + 1)
    mids = np.concatenate([[lo], (edges[:-1] + edges[1:]) / 2, [hi]])
    groups = np.clip(np.searchsorted(bounds, mids, side="right") - 1, 0, n_groups - 1)
    labels = [f"{bounds[i]:.3g}–{bounds[i + 1]:.3g}" for i in range(n_groups)]
    return groups, labels


def _shares(counts: np.ndarray) -> list[float]:
    total = float(counts.sum())
    return [float(c) / total if total else 0.0 for c in counts]


def histogram_from_counts(
    *, kind: str, edges: np.ndarray | None, categories: list[str] | None, reference: np.ndarray,
    current: np.ndarray | None, unseen: dict[str, int] | None = None, n_groups: int = 24,
) -> Histogram:
    """Reference and window counts over the same fine bins -> display histogram. No DB."""
    current = np.zeros_like(reference) if current is None else current
    if kind == "categorical":
        bins = list(categories or [])
        ref, cur = list(reference), list(current)
        for name, count in sorted((unseen or {}).items(), key=lambda item: -item[1])[:5]:
            bins.append(f"{name} (unseen)")
            ref.append(0)
            cur.append(count)
        return Histogram(bins=bins, reference=_shares(np.array(ref)), current=_shares(np.array(cur)))
    if kind == "boolean":
        return Histogram(bins=["false", "true"], reference=_shares(reference), current=_shares(current))
    groups, labels = _display_groups(np.asarray(edges, dtype=np.float64), n_groups)
    ref = np.bincount(groups, weights=reference, minlength=len(labels))
    cur = np.bincount(groups, weights=current, minlength=len(labels))
    lo, hi = float(edges[0]), float(edges[-1])
    width = (hi - lo) / len(labels) if hi > lo else 1.0
    centres = [lo + width * (i + 0.5) for i in range(len(labels))]
    return Histogram(
        bins=labels, reference=_shares(ref), current=_shares(cur), centres=centres, widths=[width] * len(labels)
    )


def _profile_arrays(version: ModelVersion, keys: set[str]) -> tuple[dict[str, np.ndarray], dict] | None:
    """Only ``keys`` of the version's reference profile and its feature specs; None without a
    profile. From the one per-process profile cache (monitoring.selectors.profile)."""
    profile = profile_load(version=version)
    if profile is None:
        return None
    return {k: profile.arrays[k] for k in keys if k in profile.arrays}, {"features": profile.spec.get("features") or []}


def feature_histogram(
    *, version: ModelVersion, feature: str, start: datetime, end: datetime, segment: str = ""
) -> Histogram | None:
    """Reference vs [start, end) histogram of ``feature``; None without a reference profile.
    The window side adds daily rollups, edge hours and uncompacted partials. Two queries."""
    found = _profile_arrays(version, {f"ref:{feature}", f"edges:{feature}"})
    if found is None or f"ref:{feature}" not in found[0]:
        return None
    arrays, spec = found
    reference = arrays[f"ref:{feature}"]
    feat = next((f for f in spec.get("features", []) if f["name"] == feature), {})
    sums, unseen_all = range_sums(version=version, keys={f"b:{feature}"}, start=start, end=end, segment=segment)
    current = sums.get(f"b:{feature}")
    if current is not None and current.shape != reference.shape:
        current = None  # folded before the profile was (re)built: bins don't line up
    return histogram_from_counts(
        kind=feat.get("kind", "numeric"), edges=arrays.get(f"edges:{feature}"), categories=feat.get("categories"),
        reference=reference, current=current, unseen=unseen_all.get(feature),
    )


def profile_summary(*, version: ModelVersion) -> dict | None:
    """The reference profile in words: rows, and per feature its kind and centre/spread or
    top categories. None while the version has no reference data. One query."""
    row = ReferenceProfile.objects.filter(version=version).first()
    if row is None:
        return None
    profile = profile_from_row(row)
    features = []
    for feat in profile.layout.features:
        entry: dict = {"name": feat.name, "kind": feat.kind}
        moments = profile.arrays.get(f"m:{feat.name}")
        if moments is not None and moments[0] > 0:
            m = moments_of(moments)
            entry.update(mean=m.mean, std=m.std, min=m.min, max=m.max)
        counts = profile.ref(feat.name)
        if feat.kind == "categorical" and counts is not None:
            total = counts.sum() or 1
            top = sorted(zip(feat.categories or [], counts, strict=False), key=lambda kv: -kv[1])[:5]
            entry["top"] = [(name, float(c) / total) for name, c in top]
        if feat.kind == "boolean" and counts is not None and counts.sum():
            entry["true_share"] = float(counts[-1]) / float(counts.sum())
        features.append(entry)
    ref_dist = profile.arrays.get("reflab:dist")
    label_share = None
    if ref_dist is not None and version.model.task == "binary_classification" and ref_dist.sum():
        label_share = float(ref_dist[-1]) / float(ref_dist.sum())
    return {"rows": row.rows, "built_at": row.built_at, "features": features, "positive_share": label_share}


def _shares_on(bounds: np.ndarray, edges: np.ndarray, counts: np.ndarray) -> list[float]:
    """Counts on fine bins (``edges``, len+1 bins) -> shares on display intervals ``bounds``."""
    lo, hi = bounds[0], bounds[-1]
    inner = (edges[:-1] + edges[1:]) / 2 if len(edges) > 1 else edges
    mids = np.concatenate([[min(lo, edges[0])], inner, [max(hi, edges[-1])]])[: len(counts)]
    groups = np.clip(np.searchsorted(bounds, mids, side="right") - 1, 0, len(bounds) - 2)
    grouped = np.bincount(groups, weights=np.asarray(counts, dtype=np.float64), minlength=len(bounds) - 1)
    return _shares(grouped)


def score_histograms(
    *, versions: list[ModelVersion], start: datetime, end: datetime, n_bins: int = 20, segment: str = ""
) -> tuple[list[str], list[tuple[str, list[float]]]]:
    """Score distributions of ``versions`` over the same range on common display bins.

    Binary models use the fixed probability grid every version folds (``p:all``); others
    each version's reference score bins, regrouped onto equal-width intervals spanning all
    of them. Two queries per version.
    """
    found = []
    for version in versions:
        profile = profile_load(version=version)
        layout = layout_for_version(version=version, profile=profile)
        arrays, _ = range_sums(version=version, keys={"p:all", f"b:{SCORE}"}, start=start, end=end, segment=segment)
        if layout.task == "binary_classification" and "p:all" in arrays:
            found.append((version.version, layout.prob_edges, arrays["p:all"]))
        elif layout.score_edges is not None and f"b:{SCORE}" in arrays:
            counts = arrays[f"b:{SCORE}"]
            if len(counts) == len(layout.score_edges) + 1:
                found.append((version.version, layout.score_edges, counts))
    if not found:
        return [], []
    lo = min(float(edges[0]) for _, edges, _ in found)
    hi = max(float(edges[-1]) for _, edges, _ in found)
    if versions[0].model.task == "binary_classification":
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + 1.0
    bounds = np.linspace(lo, hi, n_bins + 1)
    labels = [f"{bounds[i]:.3g}–{bounds[i + 1]:.3g}" for i in range(n_bins)]
    return labels, [(name, _shares_on(bounds, edges, counts)) for name, edges, counts in found]


# The additive entries performance_report reads (rows, labels, probability-bin counts).
PERFORMANCE_KEYS = {"rows", "lab:n", "lab:conf", "lab:pos", "lab:neg", "lab:sums", "lab:dist", "p:all", "p:sum"}


def range_metrics(*, version: ModelVersion, start: datetime, end: datetime, segment: str = "") -> dict:
    """Rows, labelled rows, label coverage and realised metrics of ``version`` over [start, end),
    from the merged sketch of the range (exact, not an average of windows). Two queries."""
    layout = layout_for_version(version=version, profile=profile_load(version=version))
    arrays, _ = range_sums(version=version, keys=PERFORMANCE_KEYS, start=start, end=end, segment=segment)
    report = performance_report(layout=layout, sketch=Sketch(arrays=arrays))
    report["metrics"] = {k: v for k, v in (report.get("metrics") or {}).items() if isinstance(v, int | float)}
    return report


def reference_positive_rate(*, version: ModelVersion) -> float | None:
    """Share of positive labels in the version's reference data (binary), from its profile."""
    found = _profile_arrays(version, {"reflab:dist"})
    dist = found[0].get("reflab:dist") if found else None
    if dist is None or not dist.sum():
        return None
    return float(dist[-1]) / float(dist.sum())


def reference_rows(*, version: ModelVersion) -> int:
    """Rows in the version's reference profile (0 without one), without loading the blob."""
    return ReferenceProfile.objects.filter(version=version).values_list("rows", flat=True).first() or 0


def segments_of(*, version: ModelVersion) -> list[str]:
    """The segments the version keeps sketches and results for (its tracked segments), sorted.
    One query on the tracked-segment table, which ingestion maintains."""
    return sorted(TrackedSegment.objects.filter(version=version).values_list("segment", flat=True))
