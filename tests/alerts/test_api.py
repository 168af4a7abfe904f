"""The alerts API against the contract (api-v1.md, "Alerts"): paths, shapes, scopes, 4xx naming the field."""

from datetime import timedelta

import pytest

from alerts.models import AlertRule, Silence
from alerts.services.evaluate import alerts_evaluate

from .factories import NOW, hours, make_model

pytestmark = pytest.mark.django_db
RULE = {"name": "AUC floor", "kind": "performance", "granularity": "hour",
        "threshold": {"op": "<", "value": 0.7}, "for_windows": 2, "severity": "critical",
        "recipients": ["ds@example.com"], "webhook": "https://hooks.example.com/x", "features": []}


def test_rules_create_list_patch_delete(client_with):
    make_model()
    admin = client_with("admin")
    created = admin.post("/api/v1/models/loan-default/alert-rules/", RULE, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["id"] and body["threshold"] == {"op": "<", "value": 0.7} and body["webhook"] == RULE["webhook"]
    listed = client_with("read").get("/api/v1/models/loan-default/alert-rules/").json()
    assert RULE["name"] in [r["name"] for r in listed]
    url = f"/api/v1/models/loan-default/alert-rules/{body['id']}/"
    patched = admin.patch(url, {"threshold": "learned", "for_windows": 3}, format="json")
    assert patched.status_code == 200 and patched.json()["threshold"] == "learned"
    assert admin.delete(url).status_code == 204
    assert not AlertRule.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize("field,value", [
    ("kind", "vibes"), ("threshold", {"op": "=", "value": 1}), ("for_windows", 0), ("severity", "loud"),
    ("recipients", ["not an address"]), ("webhook", "ftp://x"), ("granularity", "week"),
    ("segments", "web"), ("segments", [""]),
])
def test_bad_rule_fields_are_named_and_nothing_is_stored(client_with, field, value):
    make_model()
    before = AlertRule.objects.count()
    response = client_with("admin").post("/api/v1/models/loan-default/alert-rules/", {**RULE, field: value},
                                         format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert AlertRule.objects.count() == before


def test_scopes(client_with, api_client):
    make_model()
    assert api_client.get("/api/v1/models/loan-default/alerts/").status_code == 401
    assert client_with("read").post("/api/v1/models/loan-default/alert-rules/", RULE, format="json").status_code == 403
    assert client_with("read").post("/api/v1/models/loan-default/silences/", {}, format="json").status_code == 403
    assert client_with("read").get("/api/v1/models/nope/alerts/").status_code == 404


def test_alerts_list_shape_and_state_filter(client_with):
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "xx", feature="income"))
    read = client_with("read")
    rows = read.get("/api/v1/models/loan-default/alerts/?state=firing").json()
    assert len(rows) == 1
    assert {"id", "rule", "kind", "state", "severity", "started", "resolved", "features", "summary"} <= set(rows[0])
    assert rows[0]["features"] == ["income"] and rows[0]["state"] == "firing"
    assert read.get("/api/v1/models/loan-default/alerts/?state=resolved").json() == []
    bad = read.get("/api/v1/models/loan-default/alerts/?state=loud")
    assert bad.status_code == 400 and "state" in bad.json()["errors"]


def test_silences(client_with):
    from django.utils import timezone

    make_model()
    admin = client_with("admin")
    until = (timezone.now() + timedelta(hours=2)).isoformat()
    rule = AlertRule.objects.filter(kind="drift").first()
    ok = admin.post("/api/v1/models/loan-default/silences/", {"until": until, "reason": "retraining",
                                                              "rule": rule.id, "kind": "drift"}, format="json")
    assert ok.status_code == 201 and ok.json()["reason"] == "retraining"
    past = admin.post("/api/v1/models/loan-default/silences/",
                      {"until": (timezone.now() - timedelta(hours=1)).isoformat(), "reason": "x"}, format="json")
    assert past.status_code == 400 and "until" in past.json()["errors"]
    unknown = admin.post("/api/v1/models/loan-default/silences/", {"until": until, "reason": "x", "rule": 999999},
                         format="json")
    assert unknown.status_code == 400 and "rule" in unknown.json()["errors"]
    missing = admin.post("/api/v1/models/loan-default/silences/", {"until": until}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    assert Silence.objects.count() == 1
