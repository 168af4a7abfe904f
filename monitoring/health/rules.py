"""Model health rules: what counts as drift, a data-quality problem or a performance fall.

Pure (no Django): the dashboards call it on stored analysis rows, the scheduled analysis
for the performance-drop verdict, so both judge a model by the same metric and thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitoring.health.findings import Health

# The one primary metric per task: the dashboards chart and summarise it, the analysis judges
# a performance fall (concept drift) on it. Where the pages (accuracy for binary, MAE for
# regression, accuracy for ranking) and the analysis (ROC AUC, RMSE, RMSE) disagreed before:
# - binary: ROC AUC, the analysis' choice. With accuracy the demo's concept shift is flagged
#   days before it starts (tests/monitoring/test_engine_demo.py), while every page assertion
#   holds with ROC AUC (the version page lists all metrics; charts label it "ROC AUC");
# - regression: MAE, the pages' choice (no test pins either; the same relative 20% fall);
# - ranking: RMSE, the analysis' choice: ranking labels fold as regression metrics, so
#   "accuracy" never existed for ranking models and their pages charted nothing.
PRIMARY_METRIC = {
    "binary_classification": "roc_auc",
    "multiclass_classification": "accuracy",
    "regression": "mae",
    "ranking": "rmse",
}
LOWER_IS_BETTER = {"mae", "rmse", "mape", "log_loss", "brier"}

# A feature has drifted when its verdict holds in at least half of the recent windows that
# evaluated it (one noisy hourly window must not colour a model); the model is critical
# when this share of its features drifted, else warning.
CRITICAL_SHARE_DRIFTED = 0.3
# A null, out-of-range or unseen-category rate this high is a warning (and a peak worth a
# sentence in the summary); this many times higher, critical.
QUALITY_RATE = 0.05
CRITICAL_QUALITY_FACTOR = 4

# Performance fall (reference minus window; relative for lower-is-better metrics) that
# counts, by metric, and the labelled rows a window needs before it is judged.
DROP = {"roc_auc": 0.05, "accuracy": 0.05, "rmse": 0.2, "mae": 0.2}
DROP_MIN_LABELLED = 30


def primary_metric(task: str) -> str:
    return PRIMARY_METRIC.get(task, "accuracy")


def performance_drop(task: str, reference: dict, window: dict) -> dict | None:
    """``{"metric", "reference", "window", "drop", "fell"}`` of the task's primary metric in
    a window's performance report against the reference's; None when either is unknown."""
    metric = primary_metric(task)
    ref, cur = reference.get(metric), window.get("metrics", {}).get(metric)
    if ref is None or cur is None or window.get("labelled", 0) < DROP_MIN_LABELLED:
        return None
    drop = (cur - ref) / ref if metric in LOWER_IS_BETTER and ref else ref - cur
    return {"metric": metric, "reference": ref, "window": cur, "drop": drop, "fell": drop >= DROP.get(metric, 0.05)}


class Row(Protocol):
    """What the rules read of one analysed window (monitoring.selectors.dashboard.WindowRow)."""

    drift: dict
    multivariate: float | None
    multivariate_threshold: float | None
    quality: dict
    volume_anomaly: bool
    concept_drift: bool
    metrics: dict
    estimated: dict


def join_names(names: Sequence[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def majority(flags: Sequence) -> bool:
    return bool(flags) and sum(bool(f) for f in flags) * 2 >= len(flags)


def metric_series(rows: Sequence[Row], metric: str) -> tuple[list[float | None], list[float | None]]:
    return [r.metrics.get(metric) for r in rows], [r.estimated.get(metric) for r in rows]


def drifted_features(rows: Sequence[Row]) -> tuple[list[str], float]:
    """Features whose drift verdict holds in most windows that evaluated them, and their share
    of the features evaluated."""
    evaluated = {n for r in rows for n in r.drift}
    drifted = sorted(n for n in evaluated if majority([r.drift[n].get("drifted") for r in rows if n in r.drift]))
    return drifted, (len(drifted) / len(evaluated) if evaluated else 0.0)


def health_from_rows(*, rows: Sequence[Row], metric: str, settings: dict | None = None) -> Health:
    """Health of a model over its recent windows. Thresholds come from the model's
    ``settings["health"]`` (``critical_share_drifted``, ``quality_rate``, ``min_<metric>``,
    ``max_<metric>``) with the defaults above."""
    conf = {
        "critical_share_drifted": CRITICAL_SHARE_DRIFTED,
        "quality_rate": QUALITY_RATE,
        **((settings or {}).get("health") or {}),
    }
    if not rows:
        return Health("warning", ["no analysed data in the last day"])
    critical: list[str] = []
    warning: list[str] = []
    drifted, share = drifted_features(rows)
    if drifted:
        message = f"drift in {join_names(drifted[:4])}" + (f" and {len(drifted) - 4} more" if len(drifted) > 4 else "")
        (critical if share >= conf["critical_share_drifted"] else warning).append(message)
    multivariate = [
        r.multivariate > r.multivariate_threshold
        for r in rows
        if r.multivariate is not None and r.multivariate_threshold is not None
    ]
    if multivariate and majority(multivariate):
        warning.append("multivariate drift above its threshold")
    for key, label in (("null_rate", "nulls"), ("out_of_range_rate", "out-of-range values"), ("unseen_rate", "unseen categories")):
        worst = max(((q.get(key) or 0.0, name) for r in rows for name, q in r.quality.items()), default=(0.0, ""))
        if worst[0] >= conf["quality_rate"]:
            critical_rate = CRITICAL_QUALITY_FACTOR * conf["quality_rate"]
            (critical if worst[0] >= critical_rate else warning).append(f"{100 * worst[0]:.0f}% {label} in {worst[1]}")
    if any(r.volume_anomaly for r in rows):
        warning.append("anomalous volume")
    if any(r.concept_drift for r in rows):
        critical.append("performance fell while inputs were stable (concept drift)")
    realised, estimated = metric_series(rows, metric)
    values = [v for v in realised if v is not None] or [v for v in estimated if v is not None]
    if values:
        latest = values[-1]
        low, high = conf.get(f"min_{metric}"), conf.get(f"max_{metric}")
        if low is not None and latest < low:
            critical.append(f"{metric} {latest:.2f} below {low}")
        if high is not None and latest > high:
            critical.append(f"{metric} {latest:.2f} above {high}")
    if critical:
        return Health("critical", critical + warning)
    if warning:
        return Health("warning", warning)
    return Health("ok", [])
