"""The API's real answers, checked against the OpenAPI schema the app serves.

Each endpoint is called with realistic data (success and error answers) and its JSON body is
validated with jsonschema against /api/v1/schema/. Objects in the schema are made closed
(no undocumented fields), so a view that adds, drops or retypes a field without its
serializer following fails here.
"""

import datetime as dt
import functools
from datetime import timedelta

import orjson
import pytest
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker

from monitoring.services.analysis import version_analyse
from ops import services as ops_services

from .explain import factories as explain_factories
from .monitoring.engine_factories import (
    T0,
    labelled_shift_version,
    make_version,
)
from .monitoring.ingest_factories import SCHEMA, post_json, row

pytestmark = pytest.mark.django_db

# Every operation of the schema, and the tests below that call it.
COVERED = {
    ("get", "/api/v1/models/"),
    ("post", "/api/v1/models/"),
    ("get", "/api/v1/models/{slug}/"),
    ("get", "/api/v1/models/{slug}/versions/"),
    ("post", "/api/v1/models/{slug}/versions/"),
    ("get", "/api/v1/models/{slug}/versions/{version}/"),
    ("patch", "/api/v1/models/{slug}/versions/{version}/"),
    ("post", "/api/v1/models/{slug}/versions/{version}/reference/"),
    ("put", "/api/v1/models/{slug}/versions/{version}/artifact/"),
    ("post", "/api/v1/models/{slug}/predictions/"),
    ("post", "/api/v1/models/{slug}/labels/"),
    ("get", "/api/v1/models/{slug}/drift/"),
    ("get", "/api/v1/models/{slug}/performance/"),
    ("get", "/api/v1/models/{slug}/timeseries/"),
    ("get", "/api/v1/models/{slug}/health/"),
    ("get", "/api/v1/models/{slug}/predictions/{request_id}/explanation/"),
    ("get", "/api/v1/models/{slug}/overrides/"),
    ("post", "/api/v1/models/{slug}/rerank/"),
    # lifecycle: tests/lifecycle/test_contract.py
    ("get", "/api/v1/models/{slug}/compare/"),
    ("post", "/api/v1/models/{slug}/versions/{version}/promote/"),
    ("post", "/api/v1/models/{slug}/rollback/"),
    ("get", "/api/v1/models/{slug}/versions/{version}/threshold/"),
    ("post", "/api/v1/models/{slug}/versions/{version}/threshold/"),
    ("get", "/api/v1/models/{slug}/lifecycle/"),
    ("patch", "/api/v1/models/{slug}/lifecycle/"),
    # alerts: tests/alerts/
    ("get", "/api/v1/models/{slug}/alert-rules/"),
    ("post", "/api/v1/models/{slug}/alert-rules/"),
    ("get", "/api/v1/models/{slug}/alert-rules/{id}/"),
    ("patch", "/api/v1/models/{slug}/alert-rules/{id}/"),
    ("delete", "/api/v1/models/{slug}/alert-rules/{id}/"),
    ("get", "/api/v1/models/{slug}/alerts/"),
    ("get", "/api/v1/models/{slug}/silences/"),
    ("post", "/api/v1/models/{slug}/silences/"),
    ("post", "/api/v1/models/{slug}/reviews/"),
    ("get", "/api/v1/reviews/{id}/"),
    ("post", "/api/v1/reviews/{id}/results/"),
}


def _closed(node):
    """OpenAPI 3.0 -> JSON Schema: ``nullable`` as a null alternative, and objects with listed
    properties refuse others (``additionalProperties`` stays as written where the schema sets it)."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _closed(value) for key, value in node.items()}
    nullable = node.get("nullable") is True
    node.pop("nullable", None) if nullable or node.get("nullable") is False else None
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return {"anyOf": [node, {"type": "null"}]} if nullable else node


@functools.cache
def _document() -> dict:
    response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    document = orjson.loads(response.content)
    return {"paths": document["paths"], "components": _closed(document["components"])}


def _is_datetime(value) -> bool:
    if not isinstance(value, str):
        return True
    dt.datetime.fromisoformat(value)
    return True


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time", raises=ValueError)(_is_datetime)


def check(response, method: str, template: str, status: int):
    """Assert ``status`` and that the body matches what the schema documents for it; return the body."""
    assert (method, template) in COVERED, f"add {method.upper()} {template} to COVERED"
    assert response.status_code == status, response.content[:500]
    document = _document()
    responses = document["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {template} answers {status}, which the schema omits"
    content = responses[str(status)].get("content")
    if content is None:
        assert response.content == b""
        return None
    assert response["Content-Type"] == "application/json"
    schema = _closed(content["application/json"]["schema"])
    body = orjson.loads(response.content)
    validator = Draft202012Validator({**schema, "components": document["components"]}, format_checker=FORMATS)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, f"{method.upper()} {template} {status} disagrees with its schema:\n" + "\n".join(problems)
    return body


def test_every_operation_of_the_schema_is_checked():
    operations = {
        (method, path)
        for path, item in _document()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert operations == COVERED


def test_closing_the_schema_refuses_undocumented_and_mistyped_fields():
    schema = _closed({"type": "object", "properties": {"a": {"type": "number", "nullable": True}},
                      "required": ["a"]})
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"a": None}) and validator.is_valid({"a": 1.5})
    assert not validator.is_valid({"a": "1.5"})
    assert not validator.is_valid({"a": 1, "b": 2})
    assert not validator.is_valid({})


def test_registry_and_ingestion(client_with, api_client, settings):
    admin, ingest = client_with("admin"), client_with("ingest")
    models = "/api/v1/models/"
    check(admin.post(models, {"slug": "loan-default", "name": "Loan default", "task": "binary_classification"},
                     format="json"), "post", models, 201)
    check(admin.post(models, {"slug": "loan-default", "name": "Again", "task": "binary_classification"},
                     format="json"), "post", models, 409)
    check(admin.post(models, {"slug": "x", "name": "X", "task": "astrology"}, format="json"), "post", models, 400)
    check(api_client.get(models), "get", models, 401)
    check(ingest.get(models), "get", models, 403)

    versions = "/api/v1/models/loan-default/versions/"
    created = {"version": "2024-06-01", "stage": "production", "threshold": 0.5, "features": SCHEMA,
               "metadata": {"commit": "3f2a9c1"}}
    check(admin.post(versions, created, format="json"), "post", "/api/v1/models/{slug}/versions/", 201)
    check(admin.post(versions, {**created, "version": "v2", "features": [{"name": "x"}]}, format="json"),
          "post", "/api/v1/models/{slug}/versions/", 400)
    check(admin.post(versions, {**created, "version": "v2", "stage": "candidate", "threshold": None},
                     format="json"), "post", "/api/v1/models/{slug}/versions/", 201)

    version_url = "/api/v1/models/{slug}/versions/{version}/"
    reference = [{"features": {"income": 900.0 + i, "region": "north" if i % 3 else "south",
                               "has_car": i % 2 == 0}, "score": (i % 10) / 10, "label": i % 2} for i in range(40)]
    check(post_json(ingest, versions + "2024-06-01/reference/", reference),
          "post", version_url + "reference/", 200)
    csv = "income,region,has_car,score,label\n1000,north,true,0.4,0\n1200,south,false,0.7,1\n"
    check(ingest.generic("POST", versions + "v2/reference/?append=true", csv, content_type="text/csv"),
          "post", version_url + "reference/", 200)
    check(post_json(ingest, versions + "2024-06-01/reference/", [{"features": {"income": "lots"}}]),
          "post", version_url + "reference/", 400)

    predictions = "/api/v1/models/loan-default/predictions/"
    rows = [row(i) for i in range(20)]
    rows[3] = row(3, features={"income": None, "region": "west", "has_car": True, "colour": "red"})
    rows[5] = row(5, timestamp="yesterday")
    check(post_json(ingest, predictions, rows), "post", "/api/v1/models/{slug}/predictions/", 200)
    check(post_json(ingest, predictions, {"rows": rows}), "post", "/api/v1/models/{slug}/predictions/", 400)
    check(ingest.generic("POST", predictions, b"[]", content_type="application/json",
                         HTTP_CONTENT_ENCODING="br"), "post", "/api/v1/models/{slug}/predictions/", 415)
    settings.VIGIL_MAX_BODY_BYTES = 100
    check(post_json(ingest, predictions, rows), "post", "/api/v1/models/{slug}/predictions/", 413)
    settings.VIGIL_MAX_BODY_BYTES = 10_000_000
    check(post_json(ingest, "/api/v1/models/nope/predictions/", rows), "post",
          "/api/v1/models/{slug}/predictions/", 404)

    labels = [{"request_id": "r-1", "label": 1, "timestamp": "2024-06-10T09:00:00Z"},
              {"request_id": "r-later", "label": 0}, {"request_id": "r-2", "label": "maybe"}]
    check(post_json(ingest, "/api/v1/models/loan-default/labels/", labels),
          "post", "/api/v1/models/{slug}/labels/", 200)

    read = client_with("read")
    check(read.get(models), "get", models, 200)
    check(read.get("/api/v1/models/loan-default/"), "get", "/api/v1/models/{slug}/", 200)
    check(read.get("/api/v1/models/nope/"), "get", "/api/v1/models/{slug}/", 404)
    check(read.get(versions), "get", "/api/v1/models/{slug}/versions/", 200)
    check(read.get(versions + "v2/"), "get", version_url, 200)
    check(admin.patch(versions + "v2/", {"stage": "shadow", "metadata": {"note": "shadowing"}}, format="json"),
          "patch", version_url, 200)
    check(admin.patch(versions + "v2/", {"stage": "production"}, format="json"), "patch", version_url, 409)
    # Registering a new version straight into production replaces the current one (audited).
    check(admin.post(versions, {**created, "version": "v3"}, format="json"), "post",
          "/api/v1/models/{slug}/versions/", 201)
    check(admin.post("/api/v1/models/loan-default/rollback/", {"reason": "back"}, format="json"), "post",
          "/api/v1/models/{slug}/rollback/", 200)
    check(admin.patch(versions + "v2/", {"features": []}, format="json"), "patch", version_url, 400)
    check(read.patch(versions + "v2/", {"stage": "archived"}, format="json"), "patch", version_url, 403)


@pytest.fixture
def monitored():
    """Two labelled days whose income shifts on the second, analysed per day and hour."""
    version = labelled_shift_version()
    version_analyse(version_id=version.pk)
    return version


def test_monitoring_reads(client_with, monitored):
    read = client_with("read")
    days = {"start": T0.isoformat(), "end": (T0 + timedelta(days=2)).isoformat()}
    empty = {"start": (T0 - timedelta(days=3)).isoformat(), "end": (T0 - timedelta(days=2)).isoformat()}
    for name in ("drift", "performance"):
        template = f"/api/v1/models/{{slug}}/{name}/"
        check(read.get(f"/api/v1/models/loan/{name}/", days), "get", template, 200)
        check(read.get(f"/api/v1/models/loan/{name}/", empty), "get", template, 200)
        check(read.get(f"/api/v1/models/loan/{name}/", {"start": "yesterday"}), "get", template, 400)
        check(read.get(f"/api/v1/models/loan/{name}/", {"version": "v9"}), "get", template, 404)
    make_version(slug="fresh")
    check(read.get("/api/v1/models/fresh/drift/"), "get", "/api/v1/models/{slug}/drift/", 409)
    series = "/api/v1/models/{slug}/timeseries/"
    for metric, granularity in (("psi", "day"), ("chi2_pvalue", "day"), ("volume", "hour"), ("multivariate", "day"),
                                ("estimated_accuracy", "day"), ("concept_drift", "day"), ("roc_auc", "hour")):
        feature = "region" if metric == "chi2_pvalue" else "income"
        body = check(read.get("/api/v1/models/loan/timeseries/",
                              {**days, "metric": metric, "granularity": granularity, "feature": feature}),
                     "get", series, 200)
        assert body["points"], metric
    check(read.get("/api/v1/models/loan/timeseries/", {"metric": "nonsense"}), "get", series, 400)
    health = "/api/v1/models/{slug}/health/"
    body = check(read.get("/api/v1/models/loan/health/", {"at": (T0 + timedelta(days=2, hours=6)).isoformat()}),
                 "get", health, 200)
    assert body["status"] in ("warning", "critical") and body["version"] == "v1"
    assert [f for f in body["findings"] if f["kind"] == "drift" and "income" in f["features"]], body
    assert check(read.get("/api/v1/models/loan/health/"), "get", health, 200)["status"] == "no_data"  # months later
    check(read.get("/api/v1/models/loan/health/", {"at": "soon"}), "get", health, 400)
    assert check(read.get("/api/v1/models/fresh/health/"), "get", health, 200)["status"] == "no_data"
    check(read.get("/api/v1/models/loan/health/", {"version": "v9"}), "get", health, 404)
    check(read.get("/api/v1/models/nope/health/"), "get", health, 404)


def test_explanations_and_artifacts(client_with, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    f = explain_factories
    version = f.make_version()
    text, booster = f.lightgbm_text(f.rows(200))
    reference = f.rows(30, seed=9)
    f.add_reference(version, reference, booster.predict(f.frame(reference)))
    served = f.rows(3, seed=11)
    f.add_predictions(version, served, booster.predict(f.frame(served)), dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    read, admin = client_with("read"), client_with("admin")
    explanation = "/api/v1/models/{slug}/predictions/{request_id}/explanation/"
    check(read.get("/api/v1/models/loan/predictions/r-1/explanation/"), "get", explanation, 409)
    check(read.get("/api/v1/models/loan/predictions/nope/explanation/"), "get", explanation, 404)

    artifact = "/api/v1/models/{slug}/versions/{version}/artifact/"
    url = "/api/v1/models/loan/versions/v1/artifact/"
    check(admin.put(url, data=text.encode(), content_type="application/octet-stream"), "put", artifact, 201)
    check(admin.put(url + "?format=lightgbm", data=text.encode(), content_type="application/octet-stream"),
          "put", artifact, 200)
    check(admin.put(url + "?format=onnx", data=b"x", content_type="application/octet-stream"), "put", artifact, 400)
    check(read.put(url, data=text.encode(), content_type="application/octet-stream"), "put", artifact, 403)
    first = check(read.get("/api/v1/models/loan/predictions/r-1/explanation/"), "get", explanation, 200)
    stored = check(read.get("/api/v1/models/loan/predictions/r-1/explanation/"), "get", explanation, 200)
    assert stored == first


def test_serving_overrides_and_rerank(client_with, django_user_model):
    from monitoring.models import MLModel

    agent = django_user_model.objects.create_user("agent", is_superuser=True)
    model = MLModel.objects.create(slug="recs", name="Recommendations", task="ranking")
    ops_services.override_blacklist(actor=agent, model=None, item_id="sku-1", reason="recalled")
    ops_services.override_boost(actor=agent, model=model, item_id="sku-3", mode="multiplier", value=3,
                                reason="cold start")
    read = client_with("read")
    overrides = "/api/v1/models/{slug}/overrides/"
    first = read.get("/api/v1/models/recs/overrides/")
    body = check(first, "get", overrides, 200)
    assert body["blacklist"] and body["boosts"]
    check(read.get("/api/v1/models/recs/overrides/", HTTP_IF_NONE_MATCH=first["ETag"]), "get", overrides, 304)
    check(read.get("/api/v1/models/nope/overrides/"), "get", overrides, 404)
    check(client_with("ingest").get("/api/v1/models/recs/overrides/"), "get", overrides, 403)

    rerank = "/api/v1/models/{slug}/rerank/"
    candidates = [{"item_id": f"sku-{i}", "score": 1 / i} for i in range(1, 6)]
    answer = check(post_json(read, "/api/v1/models/recs/rerank/", {"candidates": candidates, "entity_id": "c-1"}),
                   "post", rerank, 200)
    assert answer["removed"] and answer["candidates"][0]["reason"]
    check(post_json(read, "/api/v1/models/recs/rerank/", {"candidates": [{"item_id": "a"}]}), "post", rerank, 400)



def test_alert_rules_alerts_and_silences(client_with):
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.models import MLModel

    MLModel.objects.create(slug="loan-default", name="Loan default", task="binary_classification")
    admin, read = client_with("admin"), client_with("read")
    rules, rule = "/api/v1/models/{slug}/alert-rules/", "/api/v1/models/{slug}/alert-rules/{id}/"
    created = check(admin.post("/api/v1/models/loan-default/alert-rules/", {
        "name": "AUC floor", "kind": "performance", "granularity": "hour", "threshold": {"op": "<", "value": 0.7},
        "for_windows": 2, "severity": "critical", "recipients": ["ds@example.com"],
        "webhook": "https://hooks.example.com/x"}, format="json"), "post", rules, 201)
    check(admin.post("/api/v1/models/loan-default/alert-rules/", {"name": "x", "kind": "vibes"}, format="json"),
          "post", rules, 400)
    assert len(check(read.get("/api/v1/models/loan-default/alert-rules/"), "get", rules, 200)) > 1
    url = f"/api/v1/models/loan-default/alert-rules/{created['id']}/"
    check(read.get(url), "get", rule, 200)
    check(admin.patch(url, {"threshold": "learned"}, format="json"), "patch", rule, 200)
    check(admin.delete(url), "delete", rule, 204)
    check(read.get(url), "get", rule, 404)
    alerts = "/api/v1/models/{slug}/alerts/"
    check(read.get("/api/v1/models/loan-default/alerts/?state=firing"), "get", alerts, 200)
    check(read.get("/api/v1/models/loan-default/alerts/?state=loud"), "get", alerts, 400)
    silences = "/api/v1/models/{slug}/silences/"
    until = (timezone.now() + timedelta(hours=1)).isoformat()
    check(admin.post("/api/v1/models/loan-default/silences/", {"until": until, "reason": "retraining"},
                     format="json"), "post", silences, 201)
    check(read.post("/api/v1/models/loan-default/silences/", {"until": until, "reason": "x"}, format="json"),
          "post", silences, 403)
    assert len(check(read.get("/api/v1/models/loan-default/silences/"), "get", silences, 200)) == 1
def test_review_samples(client_with, monitored):
    ops = client_with("ops")
    draw_url, status_url, results_url = (
        "/api/v1/models/{slug}/reviews/", "/api/v1/reviews/{id}/", "/api/v1/reviews/{id}/results/"
    )
    days = {"start": T0.isoformat(), "end": (T0 + timedelta(days=2)).isoformat()}
    created = check(post_json(ops, "/api/v1/models/loan/reviews/", {"size": 40, **days}), "post", draw_url, 201)
    assert len(created["items"]) == 40 and created["population"] == 1200
    check(post_json(ops, "/api/v1/models/loan/reviews/", {"size": "x", **days}), "post", draw_url, 400)
    check(post_json(ops, "/api/v1/models/nope/reviews/", {"size": 4, **days}), "post", draw_url, 404)
    check(post_json(client_with("read"), "/api/v1/models/loan/reviews/", {"size": 4, **days}), "post", draw_url, 403)
    url = f"/api/v1/reviews/{created['id']}/"
    empty = check(ops.get(url), "get", status_url, 200)
    assert empty["reviewed"] == 0 and empty["estimate"]["accuracy"] is None
    items = created["items"]
    rows = [{"request_id": i["request_id"], "label": k % 2, "reviewer": "ann"} for k, i in enumerate(items)]
    rows += [{"request_id": i["request_id"], "label": 1, "reviewer": "bob", "note": "sure"}
             for i in items if i["reviews_needed"] == 2]  # fmt: skip
    check(post_json(ops, url + "results/", rows), "post", results_url, 200)
    check(post_json(ops, url + "results/", [{"request_id": "nope", "label": 1, "reviewer": "ann"}]),
          "post", results_url, 400)  # fmt: skip
    check(post_json(ops, "/api/v1/reviews/999999/results/", rows), "post", results_url, 404)
    body = check(ops.get(url), "get", status_url, 200)
    assert body["reviewed"] == 40 and 0 <= body["estimate"]["ci"][0] <= body["estimate"]["accuracy"]
    assert body["agreement"]["pairs"] == 4 and body["estimate"]["precision"]["n"] >= 0
    check(ops.get("/api/v1/reviews/999999/"), "get", status_url, 404)
