"""Staleness, the retraining trigger and its cooldown, and the watch period's rollback proposal."""

from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.models import Delivery, Event, EventKind
from lifecycle.selectors.staleness import staleness_get
from lifecycle.services.policy import policy_update
from lifecycle.services.retraining import retraining_check, retraining_evidence
from monitoring.models import AnalysisResult

from .factories import binary_model, label, log, scored, version

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _day(version, day: datetime, accuracy: float, *, null_rate: float = 0.0) -> None:
    AnalysisResult.objects.create(
        version=version, granularity="day", window_start=day, sketch_changed_at=day,
        # The trigger reads the task's primary metric (ROC AUC for binary): the window carries both.
        payload={"rows": 100, "performance": {"metrics": {"accuracy": accuracy, "roc_auc": accuracy}},
                 "quality": {"features": [{"name": "x", "null_rate": null_rate}]}},
    )


def _setup(accuracies, labels: int = 50):
    model = binary_model()
    v1 = version(model, "v1", stage="production",
                 metadata={"training_period": "2026-08-01 to 2026-10-31"})
    for k, acc in enumerate(accuracies):
        _day(v1, NOW.replace(hour=0) - timedelta(days=len(accuracies) - k), acc)
    y, s = scored(labels, seed=1)
    log(model, "v1", s, start=datetime(2026, 11, 2, tzinfo=UTC))
    label(model, y, start=datetime(2026, 11, 2, tzinfo=UTC))
    return model, v1


def test_trigger_fires_once_per_cooldown_and_calls_the_webhook():
    model, _ = _setup([0.9, 0.7, 0.7, 0.7])
    policy_update(model=model, retrain_below=0.8, retrain_windows=3, retrain_min_labels=40,
                  retrain_cooldown_hours=24, retraining_webhook="http://127.0.0.1:9/retrain")
    event = retraining_check(model_id=model.pk, now=NOW)
    assert event is not None and event.kind == EventKind.RETRAINING
    delivery = Delivery.objects.get(event=event)
    assert delivery.payload["data_period"]["start"].startswith("2026-10-31")
    assert delivery.payload["data_period"]["end"].startswith("2026-11-20")
    assert retraining_check(model_id=model.pk, now=NOW + timedelta(hours=23)) is None  # cooling down
    assert "cooldown" in retraining_evidence(model=model, now=NOW + timedelta(hours=23))["why_not"]
    later = retraining_check(model_id=model.pk, now=NOW + timedelta(hours=25))
    assert later is not None and Event.objects.filter(kind=EventKind.RETRAINING).count() == 2


def test_trigger_needs_n_windows_below_and_m_labels():
    model, _ = _setup([0.7, 0.9, 0.7])
    policy_update(model=model, retrain_below=0.8, retrain_windows=3, retrain_min_labels=40)
    assert retraining_check(model_id=model.pk, now=NOW) is None
    assert "not below" in retraining_evidence(model=model, now=NOW)["why_not"]
    policy_update(model=model, retrain_windows=1, retrain_min_labels=1000)
    assert "only 50 labels" in retraining_evidence(model=model, now=NOW)["why_not"]
    assert retraining_check(model_id=model.pk, now=NOW) is None
    assert not Event.objects.filter(kind=EventKind.RETRAINING).exists()


def test_staleness_finding_past_the_maximum_age():
    model, _ = _setup([0.9])
    policy_update(model=model, max_age_days=10)
    state = staleness_get(model=model, now=NOW)
    assert state["age_days"] == pytest.approx(20.5)
    assert state["stale"] and state["finding"]["kind"] == "staleness" and state["finding"]["expected"] == [0, 10]
    policy_update(model=model, max_age_days=30)
    assert staleness_get(model=model, now=NOW)["finding"] is None
