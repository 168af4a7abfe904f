"""The health rules (monitoring.health) on plain rows, without a database."""

from dataclasses import dataclass, field

import pytest

from monitoring import health
from monitoring.health import (
    CRITICAL_QUALITY_FACTOR,
    CRITICAL_SHARE_DRIFTED,
    DROP,
    DROP_MIN_LABELLED,
    PRIMARY_METRIC,
    QUALITY_RATE,
    drifted_features,
    health_from_rows,
    performance_drop,
    primary_metric,
)


@dataclass
class Row:
    drift: dict = field(default_factory=dict)
    multivariate: float | None = None
    multivariate_threshold: float | None = None
    quality: dict = field(default_factory=dict)
    volume_anomaly: bool = False
    concept_drift: bool = False
    metrics: dict = field(default_factory=dict)
    estimated: dict = field(default_factory=dict)


def _drift(drifted: set[str], features=("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")) -> dict:
    return {f: {"drifted": f in drifted} for f in features}


def test_one_primary_metric_per_task_judges_both_the_pages_and_the_fall():
    assert PRIMARY_METRIC == {
        "binary_classification": "roc_auc",
        "multiclass_classification": "accuracy",
        "regression": "mae",
        "ranking": "rmse",
    }
    assert primary_metric("unknown") == "accuracy"
    for task, metric in PRIMARY_METRIC.items():
        drop = performance_drop(task, {metric: 0.5}, {"metrics": {metric: 0.4}, "labelled": 100})
        assert drop["metric"] == metric
    # The views read the same map.
    from monitoring.views import insights

    assert insights.PRIMARY_METRIC is PRIMARY_METRIC


def test_performance_drop_thresholds():
    ref = {"roc_auc": 0.90}
    fell = performance_drop("binary_classification", ref, {"metrics": {"roc_auc": 0.84}, "labelled": 100})
    assert fell["fell"] and fell["drop"] == pytest.approx(0.06)
    held = performance_drop("binary_classification", ref, {"metrics": {"roc_auc": 0.86}, "labelled": 100})
    assert not held["fell"] and DROP["roc_auc"] == 0.05
    few = {"metrics": {"roc_auc": 0.5}, "labelled": DROP_MIN_LABELLED - 1}
    assert performance_drop("binary_classification", ref, few) is None
    assert performance_drop("binary_classification", {}, {"metrics": {"roc_auc": 0.5}, "labelled": 100}) is None
    # Lower is better for errors: a relative rise of 20% counts.
    worse = performance_drop("regression", {"mae": 10.0}, {"metrics": {"mae": 12.5}, "labelled": 100})
    assert worse["fell"] and worse["drop"] == pytest.approx(0.25)
    better = performance_drop("regression", {"mae": 10.0}, {"metrics": {"mae": 8.0}, "labelled": 100})
    assert not better["fell"]


def test_drift_share_decides_warning_or_critical():
    assert CRITICAL_SHARE_DRIFTED == 0.3
    two = health_from_rows(rows=[Row(drift=_drift({"a", "b"}))], metric="accuracy")
    assert two.status == "warning" and two.reasons == ["drift in a and b"]  # 2 of 10 < 30%
    three = health_from_rows(rows=[Row(drift=_drift({"a", "b", "c"}))], metric="accuracy")
    assert three.status == "critical"  # 3 of 10 = 30%
    many = health_from_rows(rows=[Row(drift=_drift(set("abcdef")))], metric="accuracy")
    assert many.reasons == ["drift in a, b, c and d and 2 more"]
    lenient = health_from_rows(rows=[Row(drift=_drift({"a", "b", "c"}))], metric="accuracy",
                               settings={"health": {"critical_share_drifted": 0.5}})
    assert lenient.status == "warning"


def test_a_feature_drifts_when_most_windows_say_so():
    rows = [Row(drift=_drift({"a"})), Row(drift=_drift({"a", "b"})), Row(drift=_drift(set()))]
    drifted, share = drifted_features(rows)
    assert drifted == ["a"] and share == pytest.approx(0.1)


def test_quality_rates_warning_then_critical():
    assert (QUALITY_RATE, CRITICAL_QUALITY_FACTOR) == (0.05, 4)

    def status(rate: float) -> str:
        return health_from_rows(rows=[Row(quality={"x": {"null_rate": rate}})], metric="accuracy").status

    assert status(0.049) == "ok"
    assert status(0.05) == "warning"
    assert status(0.199) == "warning"
    assert status(0.20) == "critical"
    unseen = health_from_rows(rows=[Row(quality={"city": {"unseen_rate": 0.3}})], metric="accuracy")
    assert unseen.reasons == ["30% unseen categories in city"]


def test_other_signals():
    assert health_from_rows(rows=[Row(volume_anomaly=True)], metric="accuracy").reasons == ["anomalous volume"]
    concept = health_from_rows(rows=[Row(concept_drift=True)], metric="accuracy")
    assert concept.status == "critical"
    mv = health_from_rows(rows=[Row(multivariate=2.0, multivariate_threshold=1.0)], metric="accuracy")
    assert mv.status == "warning" and mv.reasons == ["multivariate drift above its threshold"]
    # Estimated values stand in while no label has arrived.
    high = health_from_rows(rows=[Row(estimated={"mae": 7.0})], metric="mae", settings={"health": {"max_mae": 5}})
    assert high.status == "critical" and high.reasons == ["mae 7.00 above 5"]
    assert health_from_rows(rows=[], metric="accuracy").reasons == ["no analysed data in the last day"]
    assert health.Health("ok").reason_text == "No drift, data-quality or performance problem."
