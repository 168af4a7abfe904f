"""Time series of one metric over stored window analyses (dashboards).

Each metric names the part of the stored payload it needs (a jsonpath evaluated in
PostgreSQL, so only that small object leaves the database) and how to read the value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import connection

from monitoring.models import ModelVersion

SQL = """
SELECT window_start, jsonb_path_query_first(payload, %s::jsonpath, %s::jsonb)
  FROM monitoring_analysis_result
 WHERE version_id = %s AND granularity = %s AND segment = %s AND window_start >= %s AND window_start < %s
 ORDER BY window_start
"""


@dataclass(frozen=True)
class Metric:
    path: str
    value: Callable[[dict], float | None]
    extra: Callable[[dict], dict] = lambda o: {}
    needs_feature: bool = False


def _get(*keys: str) -> Callable[[dict], float | None]:
    def read(obj: dict):
        for key in keys:
            if not isinstance(obj, dict):
                return None
            obj = obj.get(key)
        return obj

    return read


def _perf(name: str) -> Metric:
    return Metric(
        "$.performance",
        _get("metrics", name),
        lambda o: {"labelled": o.get("labelled"), "label_coverage": o.get("label_coverage")},
    )


def _estimated(name: str) -> Metric:
    return Metric(
        "$.performance",
        _get("estimated", name),
        lambda o: {"realised": _get("metrics", name)(o), "label_coverage": o.get("label_coverage")},
    )


FEATURE_DRIFT = '$.drift.features[*] ? (@.name == $f)'
SCORE_DRIFT = "$.drift.prediction"


def _drift(name: str) -> Metric:
    return Metric(FEATURE_DRIFT, _get(name), lambda o: {"drifted": o.get("drifted")}, needs_feature=True)


def _quality(name: str) -> Metric:
    return Metric('$.quality.features[*] ? (@.name == $f)', _get(name), needs_feature=True)


METRICS: dict[str, Metric] = {
    **{m: _perf(m) for m in (
        "accuracy", "precision", "recall", "f1", "fpr", "fnr", "roc_auc", "log_loss", "brier",
        "macro_f1", "weighted_f1", "mae", "rmse", "mape", "r2",
    )},
    **{f"estimated_{m}": _estimated(m) for m in ("accuracy", "precision", "recall", "f1", "roc_auc")},
    **{m: _drift(m) for m in ("psi", "js", "wasserstein", "ks_statistic", "ks_pvalue", "chi2_pvalue")},
    **{m: _quality(m) for m in ("out_of_range_rate", "unseen_rate")},
    "null_rate": Metric("$.quality", _get("null_rate")),
    "label_coverage": Metric("$.performance", _get("label_coverage"), lambda o: {"labelled": o.get("labelled")}),
    "share_drifted": Metric("$.drift", _get("share_drifted"), lambda o: {"drifted_features": o.get("drifted_features")}),
    "multivariate": Metric(
        "$.multivariate", _get("error"), lambda o: {"lower": o.get("lower"), "upper": o.get("upper"), "drifted": o.get("drifted")}
    ),
    "prediction_psi": Metric(SCORE_DRIFT, _get("psi"), lambda o: {"drifted": o.get("drifted")}),
    "prediction_js": Metric(SCORE_DRIFT, _get("js"), lambda o: {"drifted": o.get("drifted")}),
    "label_shift_js": Metric("$.drift.label_shift", _get("js"), lambda o: {"drifted": o.get("drifted")}),
    "score_mean": Metric("$.score", _get("mean"), lambda o: {"std": o.get("std")}),
    "volume": Metric(
        "$.quality",
        _get("rows"),
        lambda o: {
            "expected": _get("volume", "expected")(o),
            "anomaly": _get("volume", "is_anomaly")(o),
        },
    ),
    "late_rows": Metric("$.quality", _get("late_rows")),
    "duplicates": Metric("$.quality", _get("duplicates")),
    "concept_drift": Metric("$.shifts", lambda o: float(bool(o.get("concept"))), lambda o: dict(o)),
}


def timeseries_get(
    *,
    version: ModelVersion,
    metric: str,
    granularity: str,
    start: datetime,
    end: datetime,
    feature: str | None,
    segment: str = "",
) -> list[dict]:
    """``[{"t", "value", ...extras}]`` per analysed window of ``[start, end)``; value None when
    the window lacks it (e.g. no labels yet)."""
    spec = METRICS[metric]
    path = spec.path
    if feature == "score" and spec.needs_feature:
        path = SCORE_DRIFT
    with connection.cursor() as cur:
        cur.execute(SQL, [path, orjson.dumps({"f": feature or ""}).decode(), version.pk, granularity, segment, start, end])
        rows = cur.fetchall()
    points = []
    for t, obj in rows:
        if isinstance(obj, str | bytes):
            obj = orjson.loads(obj)
        obj = obj if isinstance(obj, dict) else {}
        value = spec.value(obj)
        points.append({"t": t.isoformat(), "value": value if isinstance(value, int | float) else None, **spec.extra(obj)})
    return points
