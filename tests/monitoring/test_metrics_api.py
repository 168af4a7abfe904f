"""The monitoring reads: drift, performance and time series, answered from sketches and results."""

from datetime import timedelta

import numpy as np
import pytest

from monitoring.services.analysis import version_analyse
from monitoring.services.compaction import sketches_compact_all

from .engine_factories import (
    T0,
    batch,
    draw,
    labelled_shift_version,
    make_version,
    store_predictions,
    store_reference,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitored():
    """Two days of predictions with labels; income shifts by one sd on the second day."""
    return labelled_shift_version()


def _q(start, end, **extra):
    return {"start": start.isoformat(), "end": end.isoformat(), **extra}


def test_drift_follows_the_contract_and_finds_the_shifted_feature(client_with, monitored):
    client = client_with("read")
    day1 = client.get("/api/v1/models/loan/drift/", _q(T0, T0 + timedelta(days=1)))
    day2 = client.get("/api/v1/models/loan/drift/", _q(T0 + timedelta(days=1), T0 + timedelta(days=2)))
    assert day1.status_code == day2.status_code == 200
    body = day2.json()
    assert body["window"]["rows"] == 600
    assert {"start", "end", "rows"} <= set(body["window"])
    by_name = {f["name"]: f for f in body["features"]}
    assert set(by_name) == {"income", "age", "region", "has_car"}
    assert {"name", "type", "psi", "js", "ks_pvalue", "drifted"} <= set(by_name["income"])
    assert "chi2_pvalue" in by_name["region"]
    assert [f["name"] for f in body["features"] if f["drifted"]] == ["income"]
    assert not any(f["drifted"] for f in day1.json()["features"])
    assert {"psi", "js", "ks_pvalue", "drifted"} <= set(body["prediction"])
    # An arbitrary, hour-misaligned range is widened to whole hours.
    part = client.get("/api/v1/models/loan/drift/", _q(T0 + timedelta(hours=1, minutes=30), T0 + timedelta(hours=3)))
    assert part.json()["window"]["rows"] == 50
    assert part.json()["window"]["start"].startswith("2026-03-02T01:00")


def test_performance_realised_and_estimated(client_with, monitored):
    res = client_with("read").get("/api/v1/models/loan/performance/", _q(T0, T0 + timedelta(days=2)))
    assert res.status_code == 200
    body = res.json()
    assert body["rows"] == body["labelled"] == 1200 and body["label_coverage"] == 1.0
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"} <= set(body["metrics"])
    assert {"accuracy", "precision", "recall", "f1", "roc_auc"} <= set(body["estimated"])
    assert len(body["confusion_matrix"]) == 2 and sum(map(sum, body["confusion_matrix"])) == 1200


def test_errors_name_the_problem(client_with, api_client, monitored):
    read = client_with("read")
    assert api_client.get("/api/v1/models/loan/drift/").status_code == 401
    assert client_with("ingest").get("/api/v1/models/loan/drift/").status_code == 403
    assert read.get("/api/v1/models/nope/drift/").status_code == 404
    bad = read.get("/api/v1/models/loan/drift/", {"start": "yesterday"})
    assert bad.status_code == 400 and "start" in bad.json()["errors"]
    reversed_ = read.get("/api/v1/models/loan/performance/", _q(T0 + timedelta(days=1), T0))
    assert reversed_.status_code == 400 and "start" in reversed_.json()["errors"]
    assert read.get("/api/v1/models/loan/drift/", {"version": "v9"}).status_code == 404
    make_version(slug="fresh")  # no reference data: nothing to compare against
    conflict = read.get("/api/v1/models/fresh/drift/")
    assert conflict.status_code == 409 and "reference" in conflict.json()["detail"]
    unknown = read.get("/api/v1/models/loan/timeseries/", {"metric": "nonsense"})
    assert unknown.status_code == 400 and "metric" in unknown.json()["errors"]
    featureless = read.get("/api/v1/models/loan/timeseries/", {"metric": "psi"})
    assert featureless.status_code == 400 and "feature" in featureless.json()["errors"]


def test_timeseries_from_stored_results(client_with, monitored):
    assert version_analyse(version_id=monitored.pk) == 50  # 48 hours + 2 days
    assert version_analyse(version_id=monitored.pk) == 0  # nothing changed: nothing redone
    read = client_with("read")
    q = _q(T0, T0 + timedelta(days=2), granularity="day")
    psi = read.get("/api/v1/models/loan/timeseries/", {**q, "metric": "psi", "feature": "income"}).json()
    assert [p["drifted"] for p in psi["points"]] == [False, True]
    assert psi["points"][1]["value"] > psi["points"][0]["value"]
    acc = read.get("/api/v1/models/loan/timeseries/", {**q, "metric": "estimated_accuracy"}).json()
    assert len(acc["points"]) == 2 and all(p["value"] is not None and p["realised"] is not None for p in acc["points"])
    hourly = read.get(
        "/api/v1/models/loan/timeseries/", {**q, "granularity": "hour", "metric": "volume"}
    ).json()
    assert [p["value"] for p in hourly["points"]] == [25] * 48
    schema = read.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200


def test_schema_documents_the_metric_endpoints(client):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for name in ("drift", "performance", "timeseries"):
        assert f"/api/v1/models/{{slug}}/{name}/" in paths


def test_a_shift_in_one_segment_is_found_in_that_segments_series(client_with):
    version = make_version(slug="seg")
    store_reference(version)
    rng = np.random.default_rng(22)
    for day, app_shift in ((0, 0.0), (1, 2.0)):
        web, app = draw(400, rng), draw(200, rng, shift=app_shift)
        d = {k: np.concatenate([web[k], app[k]]) for k in web}
        store_predictions(version, batch(d, start=T0 + timedelta(days=day), hours=24,
                                         segments=["web"] * 400 + ["app"] * 200))
    sketches_compact_all()
    version_analyse(version_id=version.pk)
    read = client_with("read")
    q = _q(T0, T0 + timedelta(days=2), granularity="day", metric="psi", feature="income")
    series = {seg: read.get("/api/v1/models/seg/timeseries/", {**q, "segment": seg}).json()
              for seg in ("", "web", "app")}
    assert [p["drifted"] for p in series["app"]["points"]] == [False, True]
    assert [p["drifted"] for p in series["web"]["points"]] == [False, False]
    assert series["app"]["points"][1]["value"] > series[""]["points"][1]["value"] > series["web"]["points"][1]["value"]
    volume = read.get("/api/v1/models/seg/timeseries/", {**q, "metric": "volume", "segment": "app"}).json()
    assert [p["value"] for p in volume["points"]] == [200, 200]
