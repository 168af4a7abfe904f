"""Window results for the dashboards: stored analysis results only, never raw rows.

Every function here issues a fixed number of queries whatever the number of windows or
features, so the pages stay fast (and the view tests assert it).
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.db import connection
from django.db.models import OuterRef, Prefetch, Subquery

from monitoring.models import MLModel, ModelVersion, Prediction


@dataclass
class WindowRow:
    """One window's stored results, flattened for charts. Rates are fractions (0-1)."""

    start: datetime
    rows: int = 0
    volume_anomaly: bool = False
    drift: dict[str, dict] = field(default_factory=dict)  # feature -> {"psi", "js", "drifted"}
    share_drifted: float | None = None
    multivariate: float | None = None
    multivariate_threshold: float | None = None
    quality: dict[str, dict] = field(default_factory=dict)  # feature -> {"null_rate", ...}
    worst: dict[str, tuple] = field(default_factory=dict)  # "null_rate" -> (rate, feature): the worst feature
    score: dict = field(default_factory=dict)  # {"mean", "std", "min", "max", "psi", "js", "drifted"}
    label_rate: float | None = None  # share of positive labels among labelled rows (binary)
    label_shift: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    label_coverage: float | None = None
    concept_drift: bool = False

    def __post_init__(self) -> None:
        if self.quality and not self.worst:
            self.worst = worst_rates(self.quality)


def worst_rates(quality: dict[str, dict]) -> dict[str, tuple]:
    """Per rate ("null_rate", ...) the (rate, feature) of the worst feature."""
    worst: dict[str, tuple] = {}
    number = (float, int)
    for name, rates in quality.items():
        for key, value in rates.items():
            # type() over isinstance(): this runs for every feature of every window on a page.
            if type(value) in number:
                best = worst.get(key)
                if best is None or value > best[0]:
                    worst[key] = (value, name)
    return worst


def _num(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _by_name(section) -> dict[str, dict]:
    """Per-feature entries stored as a list of ``{"name": ...}`` dicts or as a name -> dict map."""
    if isinstance(section, dict):
        return section
    return {item["name"]: item for item in section or [] if isinstance(item, dict) and "name" in item}


def _numbers(section) -> dict[str, float]:
    return {k: n for k, v in (section or {}).items() if (n := _num(v)) is not None}


def _positive_rate(performance: dict) -> float | None:
    matrix = performance.get("confusion_matrix")
    if performance.get("classes") != [0, 1] or not matrix:
        return None
    (tn, fp), (fn, tp) = matrix
    total = tn + fp + fn + tp
    return (fn + tp) / total if total else None




def window_row_from_payload(start: datetime, payload: dict) -> WindowRow:
    """One AnalysisResult payload (layout: monitoring.engine.window.window_analyse) -> a WindowRow."""
    drift = payload.get("drift") or {}
    quality_section = payload.get("quality") or {}
    performance = payload.get("performance") or {}
    multivariate = payload.get("multivariate") or {}
    prediction = drift.get("prediction") or {}
    return WindowRow(
        start=start,
        rows=int(payload.get("rows") or 0),
        volume_anomaly=bool((quality_section.get("volume") or {}).get("is_anomaly")),
        drift={
            name: {"psi": d.get("psi"), "js": d.get("js"), "drifted": bool(d.get("drifted"))}
            for name, d in _by_name(drift.get("features")).items()
            if type(d.get("psi")) in (float, int) or type(d.get("js")) in (float, int)
        },
        share_drifted=_num(drift.get("share_drifted")),
        multivariate=_num(multivariate.get("error")),
        multivariate_threshold=_num(multivariate.get("upper")),
        quality={
            name: {"null_rate": q.get("null_rate"), "out_of_range_rate": q.get("out_of_range_rate"),
                   "unseen_rate": q.get("unseen_rate")}
            for name, q in _by_name(quality_section.get("features")).items()
        },  # fmt: skip
        score={
            **{k: _num(v) for k, v in (payload.get("score") or {}).items()},
            "psi": _num(prediction.get("psi")),
            "js": _num(prediction.get("js")),
            "drifted": bool(prediction.get("drifted")),
        },
        label_rate=_positive_rate(performance),
        label_shift=bool((drift.get("label_shift") or {}).get("drifted")),
        metrics=_numbers(performance.get("metrics")),
        estimated=_numbers(performance.get("estimated")),
        label_coverage=_num(performance.get("label_coverage")),
        concept_drift=bool((payload.get("shifts") or {}).get("concept")),
    )


# payload::text parsed with orjson: about 3x faster than Django's JSONField decoding, and
# much faster than cutting the payload down with jsonb functions inside PostgreSQL (measured).
WINDOW_KEYS_SQL = """
SELECT id, computed_at FROM monitoring_analysis_result
 WHERE version_id = %s AND granularity = %s AND segment = %s AND window_start >= %s AND window_start < %s
 ORDER BY window_start
"""
PAYLOADS_SQL = "SELECT id, window_start, payload::text FROM monitoring_analysis_result WHERE id = ANY(%s)"

WINDOWS_BY_VERSION_SQL = """
SELECT version_id, window_start, payload::text FROM monitoring_analysis_result
 WHERE version_id = ANY(%s) AND granularity = %s AND segment = '' AND window_start >= %s AND window_start < %s
 ORDER BY window_start
"""

# Parsed rows per process, keyed by (result id, computed_at): a result is rewritten only when
# its window's sketch changes, which bumps computed_at, so a cached row is never stale. Parsing
# the payloads was most of a page's time (a 14-day hourly view parses 336 of them); a page
# seen before now reads ids and timestamps only. Rows are shared: callers must not mutate them.
_ROW_CACHE: OrderedDict[tuple, WindowRow] = OrderedDict()
_ROW_CACHE_MAX = 50_000
_ROW_CACHE_LOCK = threading.Lock()


def window_rows(
    *, version: ModelVersion, granularity: str, start: datetime, end: datetime, segment: str = ""
) -> list[WindowRow]:
    """The version's stored results (all rows, or one tracked segment) for windows starting
    in [start, end), oldest first. Two queries at most (one when every row is cached)."""
    with connection.cursor() as cur:
        cur.execute(WINDOW_KEYS_SQL, [version.pk, granularity, segment, start, end])
        keys = cur.fetchall()
        with _ROW_CACHE_LOCK:
            found = {key: _ROW_CACHE.get(key) for key in keys}
        missing = {key[0]: key for key, row in found.items() if row is None}
        if missing:
            cur.execute(PAYLOADS_SQL, [list(missing)])
            for result_id, ts, text in cur.fetchall():
                found[missing[result_id]] = window_row_from_payload(ts, orjson.loads(text))
    with _ROW_CACHE_LOCK:
        for key in keys:
            _ROW_CACHE[key] = found[key]
            _ROW_CACHE.move_to_end(key)
        while len(_ROW_CACHE) > _ROW_CACHE_MAX:
            _ROW_CACHE.popitem(last=False)
    return [found[key] for key in keys]


def models_for_overview() -> list[MLModel]:
    """Every model with its versions (newest first), each version annotated with
    ``last_prediction_at`` (one index probe per version, not a scan). Two queries."""
    last_ts = Prediction.objects.filter(version=OuterRef("pk")).order_by("-timestamp").values("timestamp")[:1]
    versions = ModelVersion.objects.annotate(last_prediction_at=Subquery(last_ts)).order_by("-created_at")
    return list(MLModel.objects.prefetch_related(Prefetch("versions", queryset=versions)).order_by("slug"))


def recent_rows_by_version(
    *, version_ids: list[int], granularity: str, start: datetime, end: datetime
) -> dict[int, list[WindowRow]]:
    """Results of several versions in [start, end), grouped by version. One query."""
    grouped: dict[int, list[WindowRow]] = {vid: [] for vid in version_ids}
    with connection.cursor() as cur:
        cur.execute(WINDOWS_BY_VERSION_SQL, [list(version_ids), granularity, start, end])
        for vid, ts, text in cur.fetchall():
            grouped[vid].append(window_row_from_payload(ts, orjson.loads(text)))
    return grouped


def production_version(model: MLModel, versions: list[ModelVersion] | None = None) -> ModelVersion | None:
    """The production version (latest promoted), else the newest version; uses prefetched versions."""
    versions = list(model.versions.all()) if versions is None else versions
    production = [v for v in versions if v.stage == "production"]
    if production:
        return max(production, key=lambda v: (v.promoted_at or v.created_at))
    return versions[0] if versions else None
