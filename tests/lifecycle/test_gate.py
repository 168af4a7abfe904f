"""The promotion gate (pass, fail, inconclusive, forced), rollback, the audit and the watch period."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from lifecycle.models import Event, EventKind, GateEvaluation
from lifecycle.services.policy import policy_update
from lifecycle.services.watch import watch_check
from monitoring.models import AnalysisResult, ModelVersion

from .factories import binary_model, label, log, scored, version

pytestmark = pytest.mark.django_db


def analysed_days(v, *, null_rate: float = 0.0, days: int = 2) -> None:
    """Daily analysis results for the last days, clean unless ``null_rate`` says otherwise."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for k in range(days):
        day = today - timedelta(days=k)
        AnalysisResult.objects.create(
            version=v, granularity="day", window_start=day, sketch_changed_at=day,
            payload={"rows": 100, "quality": {"features": [{"name": "x", "null_rate": null_rate}]}},
        )


def world(n: int = 3000, *, skill_b: float = 2.5, labelled: int | None = None, seed: int = 3, shadow_scores=None):
    """Production v1 and shadow v2 predicting the same n requests; the first ``labelled`` labelled.
    ``shadow_scores(y, s1, rng)``: v2's scores instead of the ``skill_b`` model's."""
    model = binary_model()
    v1 = version(model, "v1", stage="production")
    v2 = version(model, "v2", stage="shadow")
    y, s1 = scored(n, seed=seed, skill=1.0)
    rng = np.random.default_rng(seed + 1)
    latent = y * skill_b + rng.normal(0, 1, n)
    s2 = 1 / (1 + np.exp(-(latent - 0.5 * skill_b)))
    if shadow_scores is not None:
        s2 = shadow_scores(y, s1, rng)
    log(model, "v1", s1)
    log(model, "v2", s2)
    label(model, y, only=range(labelled if labelled is not None else n))
    policy_update(model=model, min_pairs=500, min_labels=500, margin=0.01)
    analysed_days(v2)
    return model, v1, v2


def promote(client, body=None, version="v2"):
    return client.post(f"/api/v1/models/loan-default/versions/{version}/promote/", body or {}, format="json")


def test_gate_passes_for_a_better_shadow_and_promotes_it(client_with):
    model, v1, v2 = world()
    response = promote(client_with("admin"), {"reason": "better on the last week"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["kind"] == "promotion" and body["version"] == "v2" and body["previous"] == "v1"
    assert body["gate"]["outcome"] == "pass" and not body["forced"]
    names = {c["name"]: c for c in body["gate"]["checks"]}
    assert set(names) == {"paired_requests", "label_maturity", "metric_change", "roc_auc_change",
                          "no_critical_alert", "data_quality"}
    assert names["metric_change"]["evidence"]["change"]["low"] > -0.01
    assert names["metric_change"]["evidence"]["change"]["metric"] == "accuracy"
    auc = names["roc_auc_change"]["evidence"]["roc_auc_difference"]
    assert auc["margin_test"]["outcome"] == "pass" and auc["margin_test"]["lower"] > -0.01 and auc["b"] > auc["a"]
    assert ModelVersion.objects.get(pk=v2.pk).stage == "production"
    assert ModelVersion.objects.get(pk=v1.pk).stage == "archived"
    assert ModelVersion.objects.get(pk=v2.pk).promoted_at is not None
    event = Event.objects.get(kind=EventKind.PROMOTION)
    assert event.actor.startswith("token:") and event.reason == "better on the last week"


def test_gate_fails_for_a_worse_shadow_with_409_naming_the_check(client_with):
    world(skill_b=0.2)
    response = promote(client_with("admin"))
    assert response.status_code == 409
    body = response.json()
    assert body["errors"]["gate"] == ["metric_change", "roc_auc_change"] and "metric_change" in body["detail"]
    assert body["gate"]["outcome"] == "fail"
    assert ModelVersion.objects.get(version="v1").stage == "production"
    assert GateEvaluation.objects.get().outcome == "fail"
    assert not Event.objects.exclude(kind=EventKind.REGISTERED).exists()


def test_gate_is_inconclusive_without_enough_labels(client_with):
    world(labelled=100)
    response = promote(client_with("admin"))
    assert response.status_code == 409
    assert response.json()["gate"]["outcome"] == "inconclusive"
    assert response.json()["errors"]["gate"] == ["label_maturity", "metric_change", "roc_auc_change"]
    checks = {c["name"]: c["outcome"] for c in response.json()["gate"]["checks"]}
    assert checks["roc_auc_change"] == "inconclusive"


def same_decisions_worse_ranking(y, s1, rng):
    """v1's decisions at 0.5 kept, the order within each side shuffled: same accuracy, worse ROC AUC."""
    return np.where(s1 >= 0.5, 0.5 + 0.49 * rng.random(s1.size), 0.49 * rng.random(s1.size))


def test_gate_fails_when_roc_auc_is_significantly_worse_though_accuracy_is_not(client_with):
    world(shadow_scores=same_decisions_worse_ranking)
    response = promote(client_with("admin"))
    assert response.status_code == 409
    body = response.json()
    assert body["errors"]["gate"] == ["roc_auc_change"] and body["gate"]["outcome"] == "fail"
    checks = {c["name"]: c for c in body["gate"]["checks"]}
    assert checks["metric_change"]["outcome"] == "pass"
    assert checks["metric_change"]["evidence"]["change"]["value"] == 0
    auc = checks["roc_auc_change"]["evidence"]["roc_auc_difference"]
    assert auc["margin_test"]["upper"] < -0.01 and "significantly worse" in checks["roc_auc_change"]["summary"]
    compared = client_with("read").get("/api/v1/models/loan-default/compare/?b=v2").json()
    assert compared["roc_auc_difference"]["margin_test"] == auc["margin_test"]
    assert "significantly worse by more than the margin" in compared["reason"]


def test_gate_fails_on_bad_data_quality_of_the_candidate(client_with):
    model, v1, v2 = world()
    AnalysisResult.objects.filter(version=v2).delete()
    analysed_days(v2, null_rate=0.5)
    body = promote(client_with("admin")).json()
    assert set(body["errors"]["gate"]) == {"no_critical_alert", "data_quality"}


def test_forced_promotion_needs_a_reason_and_is_recorded(client_with):
    world(skill_b=0.2)
    admin = client_with("admin")
    no_reason = promote(admin, {"force": True})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    forced = promote(admin, {"force": True, "reason": "hotfix for a legal change"})
    assert forced.status_code == 200
    assert forced.json()["forced"] is True and forced.json()["gate"]["outcome"] == "fail"
    assert ModelVersion.objects.get(version="v2").stage == "production"
    assert promote(client_with("read"), {"force": True, "reason": "x"}).status_code == 403


def test_rollback_returns_production_to_the_previous_version_and_is_audited(client_with):
    world()
    admin = client_with("admin")
    assert promote(admin, {"reason": "better"}).status_code == 200
    response = admin.post("/api/v1/models/loan-default/rollback/", {"reason": "complaints"}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == "v1" and response.json()["previous"] == "v2"
    assert ModelVersion.objects.get(version="v1").stage == "production"
    assert ModelVersion.objects.get(version="v2").stage == "archived"
    again = admin.post("/api/v1/models/loan-default/rollback/", {}, format="json")
    assert again.status_code == 409 and "no earlier production version" in again.json()["detail"]
    timeline = client_with("read").get("/api/v1/models/loan-default/lifecycle/").json()["timeline"]
    assert [(e["kind"], e["version"], e["reason"]) for e in timeline] == [
        ("rollback", "v1", "complaints"), ("promotion", "v2", "better"),
        ("registered", "v1", timeline[-1]["reason"])]
    assert "First production version" in timeline[-1]["reason"]


def test_watch_period_proposes_then_performs_a_rollback_per_policy(client_with):
    model, v1, v2 = world()
    assert promote(client_with("admin"), {"reason": "better"}).status_code == 200
    assert watch_check(model_id=model.pk) is None  # healthy
    AnalysisResult.objects.filter(version=v2).delete()
    analysed_days(v2, null_rate=0.6)
    proposal = watch_check(model_id=model.pk)
    assert proposal.kind == EventKind.ROLLBACK_PROPOSED and proposal.version == v1
    assert watch_check(model_id=model.pk) is None  # proposed once per promotion
    assert ModelVersion.objects.get(pk=v2.pk).stage == "production"
    # With automatic rollback, the next promotion's trouble is undone at once.
    client_with("admin").post("/api/v1/models/loan-default/rollback/", {"reason": "proposal"}, format="json")
    policy_update(model=model, auto_rollback=True)
    forced = promote(client_with("admin"), {"force": True, "reason": "retry"})
    assert forced.status_code == 200
    done = watch_check(model_id=model.pk)
    assert done.kind == EventKind.ROLLBACK and done.version == v1
    assert ModelVersion.objects.get(pk=v1.pk).stage == "production"


def test_threshold_change_goes_through_the_gate(client_with):
    model, v1, _ = world()
    analysed_days(v1)
    admin = client_with("admin")
    url = "/api/v1/models/loan-default/versions/v1/threshold/"
    worse = admin.post(url, {"threshold": 0.97}, format="json")
    assert worse.status_code == 409 and "metric_change" in worse.json()["errors"]["gate"]
    # Same scores: the ranking (ROC AUC) cannot change with the threshold, so it is not checked.
    assert "roc_auc_change" not in {c["name"] for c in worse.json()["gate"]["checks"]}
    assert ModelVersion.objects.get(pk=v1.pk).threshold == 0.5
    same = admin.post(url, {"threshold": 0.5001, "reason": "recommended for recall"}, format="json")
    assert same.status_code == 200, same.json()
    assert ModelVersion.objects.get(pk=v1.pk).threshold == 0.5001
    event = Event.objects.get(kind=EventKind.THRESHOLD)
    assert event.evidence["from"] == 0.5 and event.evidence["to"] == 0.5001
