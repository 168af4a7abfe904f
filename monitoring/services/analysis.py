"""Scheduled analyses: per version and window, drift + quality + performance from sketches.

Incremental: only windows whose sketch changed after their stored result are redone.
Idempotent and safe with several workers: a worker analyses a version only while holding
its advisory lock (others skip it), and results are upserts keyed by window.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from monitoring.engine.evaluate import drift_report, multivariate_report, quality_report
from monitoring.engine.perf_report import performance_report, reference_performance
from monitoring.engine.sketch_codec import Sketch, moments_of
from monitoring.engine.stats.quality import volume_anomaly
from monitoring.models import AnalysisResult, ModelVersion, WindowSketch
from monitoring.services.profile import Profile, profile_load

_LOCK_CLASS = 0x56474D  # "VGM": analysis of one version
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
HISTORY_DAYS = 7
# Performance drop (reference minus window) that counts as a fall, by metric.
DROP = {"roc_auc": 0.05, "accuracy": 0.05, "rmse": 0.2}

# All rows ("") and every tracked segment get their own results (segment sketches exist
# only for tracked segments, see monitoring.services.sketching).
DIRTY_FROM = """
  FROM monitoring_window_sketch ws
  LEFT JOIN monitoring_analysis_result ar
    ON ar.version_id = ws.version_id AND ar.granularity = ws.granularity AND ar.window_start = ws.window_start
   AND ar.segment = ws.segment
 WHERE ws.version_id = %s AND ws.granularity IN ('hour', 'day') AND (ar.id IS NULL OR ar.sketch_changed_at < ws.changed_at OR %s)
   AND ws.window_start >= %s AND ws.window_start < %s
"""
DIRTY_SQL = (
    "SELECT ws.segment, ws.granularity, ws.window_start, ws.changed_at, ws.binned, ws.data, ws.sample"
    + DIRTY_FROM
    + " ORDER BY ws.segment, ws.granularity, ws.window_start"
)
DIRTY_START_SQL = "SELECT min(ws.window_start)" + DIRTY_FROM
# Windows are streamed and results written in chunks: a backfill of 90 days x 20 segments
# is tens of thousands of sketches, too many to hold in memory at once.
CHUNK = 200

DIRTY_VERSIONS_SQL = """
SELECT DISTINCT ws.version_id FROM monitoring_window_sketch ws
  LEFT JOIN monitoring_analysis_result ar
    ON ar.version_id = ws.version_id AND ar.granularity = ws.granularity AND ar.window_start = ws.window_start
   AND ar.segment = ws.segment
 WHERE ws.granularity IN ('hour', 'day') AND (ar.id IS NULL OR ar.sketch_changed_at < ws.changed_at)
"""


def clean(value):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None (jsonb refuses them)."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def versions_dirty() -> list[int]:
    with connection.cursor() as cur:
        cur.execute(DIRTY_VERSIONS_SQL)
        return [r[0] for r in cur.fetchall()]


def _performance_drop(task: str, reference: dict, window: dict) -> dict | None:
    metric = {"binary_classification": "roc_auc", "multiclass_classification": "accuracy"}.get(task, "rmse")
    ref, cur = reference.get(metric), window.get("metrics", {}).get(metric)
    if ref is None or cur is None or window.get("labelled", 0) < 30:
        return None
    drop = (cur - ref) / ref if metric == "rmse" and ref else ref - cur
    return {"metric": metric, "reference": ref, "window": cur, "drop": drop, "fell": drop >= DROP[metric]}


def _score_summary(sketch: Sketch) -> dict | None:
    m = sketch.arrays.get("m:__score__")
    if m is None or not m[0]:
        return None
    moments = moments_of(m)
    return {"mean": moments.mean, "std": moments.std, "min": moments.min, "max": moments.max}


def window_analyse(
    *,
    version: ModelVersion,
    profile: Profile,
    sketch: Sketch,
    previous: Sketch | None,
    volume_history: list[int],
    first_window: bool,
    binned: bool,
    light: bool = False,
) -> dict:
    """The stored payload of one window: ``rows``, ``drift`` (per feature vs reference and vs
    the previous window, score, label shift, share drifted), ``multivariate``, ``quality``
    (+ ``volume`` anomaly), ``performance`` (+ ``estimated``), ``performance_drop``,
    ``shifts`` {covariate, prior, concept} and ``skew`` (first production window only).
    ``light`` (hour windows): drift as effect sizes + verdicts, without p-values/Wasserstein:
    hourly trends need the verdicts, and p-values are most of the cost."""
    layout = profile.layout
    drift = drift_report(
        profile=profile, sketch=sketch, model_settings=version.model.settings, previous=previous, light=light
    )
    quality = quality_report(profile_layout=layout, sketch=sketch)
    quality["volume"] = volume_anomaly(np.array(volume_history), quality["rows"])
    performance = performance_report(layout=layout, sketch=sketch, calibrator=profile.spec.get("calibrator"))
    multivariate = multivariate_report(profile=profile, sketch=sketch)
    drop = _performance_drop(layout.task, reference_performance(layout=layout, profile_arrays=profile.arrays), performance)
    covariate = bool(drift["drifted_features"]) or bool(multivariate and multivariate["drifted"])
    # Inputs are stable when no feature moved since the previous window (a covariate shift
    # that happened earlier and stayed does not explain a fall that starts later).
    if previous is not None:
        stable = not any((f.get("vs_previous") or {}).get("drifted") for f in drift["features"])
    else:
        stable = not covariate
    shifts = {
        "covariate": covariate,
        "prior": bool(drift["label_shift"] and drift["label_shift"]["drifted"]),
        # Performance fell while the inputs stayed put: the relation x -> y changed.
        "concept": bool(drop and drop["fell"] and stable),
    }
    return clean(
        {
            "rows": quality["rows"],
            "binned": binned,
            "score": _score_summary(sketch),
            "drift": drift,
            "multivariate": multivariate,
            "quality": quality,
            "performance": performance,
            "performance_drop": drop,
            "shifts": shifts,
            "skew": {"drifted_features": drift["drifted_features"]} if first_window else None,
        }
    )


def _history(segment: str, granularity: str, start: datetime, volumes: dict) -> list[int]:
    """Rows of the segment in the same hour (or day) on each of the previous days."""
    starts = [start - timedelta(days=k) for k in range(1, HISTORY_DAYS + 1)]
    return [volumes[(segment, granularity, s)] for s in starts if volumes.get((segment, granularity, s)) is not None]


def version_analyse(
    *,
    version_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Analyse the version's changed windows (all windows in range with ``force``).

    Returns the number of windows analysed; 0 if another worker holds the version or it has
    no reference profile yet.
    """
    version = ModelVersion.objects.select_related("model").get(pk=version_id)
    profile = profile_load(version=version)
    if profile is None:
        return 0
    lo = since or datetime(1970, 1, 1, tzinfo=UTC)
    hi = until or datetime(9999, 1, 1, tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, version_id])
        if not cur.fetchone()[0]:
            return 0
        cur.execute(DIRTY_START_SQL, [version_id, force, lo, hi])
        earliest = cur.fetchone()[0]
        if earliest is None:
            return 0
        first = (
            WindowSketch.objects.filter(version=version, segment="", granularity="hour")
            .order_by("window_start")
            .values_list("window_start", flat=True)
            .first()
        )
        cache: dict[tuple, Sketch | None] = {}
        # Volumes of earlier windows for the same-hour trailing median, in one query.
        volumes: dict[tuple, int] = {
            (seg, g, ws): rows
            for seg, g, ws, rows in AnalysisResult.objects.filter(
                version=version, window_start__gte=earliest - timedelta(days=HISTORY_DAYS)
            ).values_list("segment", "granularity", "window_start", "payload__rows")
        }
        results: list[AnalysisResult] = []
        done = 0
        now = timezone.now()
        with connection.connection.cursor(name=f"vigil_dirty_{version_id}") as windows:
            windows.itersize = CHUNK
            windows.execute(DIRTY_SQL, [version_id, force, lo, hi])
            for segment, granularity, start, changed_at, binned, data, sample in windows:
                sketch = Sketch.from_bytes(data, sample)
                cache[(segment, granularity, start)] = sketch
                prev_key = (segment, granularity, start - STEP[granularity])
                if prev_key not in cache:
                    row = WindowSketch.objects.filter(
                        version=version, segment=segment, granularity=granularity, window_start=prev_key[2]
                    ).values_list("data", flat=True).first()
                    cache[prev_key] = Sketch.from_bytes(row) if row is not None else None
                payload = window_analyse(
                    version=version,
                    profile=profile,
                    sketch=sketch,
                    previous=cache[prev_key],
                    volume_history=_history(segment, granularity, start, volumes),
                    # Training-serving skew: judged once, on all rows of the first window.
                    first_window=segment == "" and first is not None and start <= first < start + STEP[granularity],
                    binned=binned,
                    light=granularity == "hour",
                )
                volumes[(segment, granularity, start)] = payload["rows"]
                cache.pop(prev_key, None)
                results.append(
                    AnalysisResult(
                        version=version,
                        granularity=granularity,
                        window_start=start,
                        segment=segment,
                        payload=payload,
                        sketch_changed_at=changed_at,
                        computed_at=now,
                    )
                )
                if len(results) >= CHUNK:
                    done += _save(results)
                if progress is not None:
                    progress(1)
        done += _save(results)
    return done


def _save(results: list[AnalysisResult]) -> int:
    """Upsert the results by window and empty the list; returns how many."""
    AnalysisResult.objects.bulk_create(
        results,
        update_conflicts=True,
        unique_fields=["version", "granularity", "window_start", "segment"],
        update_fields=["payload", "sketch_changed_at", "computed_at"],
    )
    count = len(results)
    results.clear()
    return count
