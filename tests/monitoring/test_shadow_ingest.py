"""A request logged once per version: production and shadow rows, duplicates, labels, sketches."""

from datetime import UTC, datetime

import pytest

from monitoring.engine.perf_report import performance_report
from monitoring.engine.validation import InvalidInput
from monitoring.models import ModelVersion, Prediction
from monitoring.selectors.metrics import sketch_range_get
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.profile import layout_for_version
from monitoring.services.registry import version_create, version_update

from .ingest_factories import SCHEMA, binary_model, post_json, row, rows

pytestmark = pytest.mark.django_db
DAY = (datetime(2024, 6, 3, tzinfo=UTC), datetime(2024, 6, 4, tzinfo=UTC))


@pytest.fixture
def shadowed():
    model, production = binary_model()
    shadow = version_create(model=model, version="shadow-1", features=SCHEMA, stage="shadow", threshold=0.5)
    return model, production, shadow


def shadow_rows(start: int, stop: int) -> list[dict]:
    """The shadow version's predictions of the same requests (other scores and decisions)."""
    return [row(i, version="shadow-1", score=((i * 37) % 100) / 100, prediction=int((i * 37) % 100 >= 50))
            for i in range(start, stop)]


def counts(version) -> dict:
    sketch = sketch_range_get(version=version, start=DAY[0], end=DAY[1]).sketch
    return {name: int(sketch.count(name)) for name in ("rows", "dup", "lab:n")}


def test_production_and_shadow_predictions_of_one_request_are_both_stored(shadowed):
    model, production, shadow = shadowed
    first = predictions_ingest(model=model, rows=rows(0, 20))
    second = predictions_ingest(model=model, rows=shadow_rows(0, 20))
    assert (first["accepted"], first["duplicates"]) == (20, 0)
    assert (second["accepted"], second["duplicates"]) == (20, 0)
    stored = Prediction.objects.filter(request_id="r-7").order_by("version__version")
    assert [(p.version_id, p.score, p.served) for p in stored] == [(production.pk, 0.07, True), (shadow.pk, 0.59, False)]
    assert counts(production)["rows"] == 20 and counts(shadow)["rows"] == 20


def test_a_retry_of_the_same_version_and_request_is_a_duplicate(shadowed):
    model, production, shadow = shadowed
    predictions_ingest(model=model, rows=rows(0, 10) + shadow_rows(0, 10))
    # Both versions retried, with new requests mixed in: only the new (version, request) pairs are stored.
    again = predictions_ingest(model=model, rows=shadow_rows(5, 15) + rows(8, 12))
    assert (again["accepted"], again["duplicates"]) == (7, 7)
    assert Prediction.objects.filter(version=shadow).count() == 15
    assert Prediction.objects.filter(version=production).count() == 12
    assert counts(shadow) == {"rows": 15, "dup": 5, "lab:n": 0}
    assert counts(production) == {"rows": 12, "dup": 2, "lab:n": 0}


def test_one_batch_may_carry_both_versions_of_a_request_but_not_one_twice(shadowed):
    model, _, shadow = shadowed
    batch = [row(1), row(1, version="shadow-1", score=0.9), row(1, version="shadow-1", score=0.1), row(1)]
    result = predictions_ingest(model=model, rows=batch)
    assert (result["accepted"], result["duplicates"]) == (2, 2)
    assert Prediction.objects.get(version=shadow, request_id="r-1").score == 0.9  # the first one wins


def test_the_api_counts_duplicates_per_version(client_with, shadowed):
    client = client_with("ingest")
    url = "/api/v1/models/loan-default/predictions/"
    assert post_json(client, url, rows(0, 5)).json()["accepted"] == 5
    body = post_json(client, url, rows(0, 5) + shadow_rows(0, 5)).json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (5, 5, [])


def test_a_label_counts_once_and_folds_into_every_version_that_predicted_it(shadowed):
    model, production, shadow = shadowed
    predictions_ingest(model=model, rows=rows(0, 10) + shadow_rows(0, 6))
    result = labels_ingest(model=model, rows=[{"request_id": f"r-{i}", "label": 1} for i in range(8)]
                           + [{"request_id": "unknown", "label": 0}])
    assert (result["matched"], result["pending"]) == (8, 1)
    assert counts(production)["lab:n"] == 8
    assert counts(shadow)["lab:n"] == 6
    # A replacement takes the old value out of both versions' sketches.
    labels_ingest(model=model, rows=[{"request_id": "r-2", "label": 0}])
    for version, predicted in ((production, rows(0, 8)), (shadow, shadow_rows(0, 6))):
        layout = layout_for_version(version=version, profile=None)
        sketch = sketch_range_get(version=version, start=DAY[0], end=DAY[1]).sketch
        report = performance_report(layout=layout, sketch=sketch)
        truth = [0 if r["request_id"] == "r-2" else 1 for r in predicted]
        right = sum(int(r["score"] >= 0.5) == y for r, y in zip(predicted, truth, strict=True))
        assert report["labelled"] == len(predicted)
        assert report["metrics"]["accuracy"] == pytest.approx(right / len(predicted))


def test_a_pending_label_is_picked_up_by_each_version_that_predicts_later(shadowed):
    model, production, shadow = shadowed
    assert labels_ingest(model=model, rows=[{"request_id": "r-3", "label": 1}])["pending"] == 1
    predictions_ingest(model=model, rows=rows(0, 5))
    assert counts(production)["lab:n"] == 1 and counts(shadow)["lab:n"] == 0
    predictions_ingest(model=model, rows=shadow_rows(0, 5))
    assert counts(shadow)["lab:n"] == 1
    assert labels_ingest(model=model, rows=[{"request_id": "r-3", "label": 1}])["matched"] == 1


def test_canary_traffic_splits_disjoint_requests_between_served_versions(shadowed):
    model, production, _ = shadowed
    canary = version_create(model=model, version="canary-1", features=SCHEMA, stage="canary", threshold=0.5)
    split = [row(i, version="canary-1") if i % 10 == 0 else row(i) for i in range(50)]
    assert predictions_ingest(model=model, rows=split)["accepted"] == 50
    assert Prediction.objects.filter(version=canary).count() == 5
    assert Prediction.objects.filter(version=production).count() == 45
    assert Prediction.objects.filter(model=model, served=False).count() == 0


def test_served_is_fixed_when_stored_so_a_promotion_keeps_history(shadowed):
    model, production, shadow = shadowed
    predictions_ingest(model=model, rows=rows(0, 3) + shadow_rows(0, 3))
    # A promotion's effect on the stages (the lifecycle's version_promote; the registry refuses it).
    ModelVersion.objects.filter(pk=shadow.pk).update(stage="production")
    ModelVersion.objects.filter(pk=production.pk).update(stage="shadow")
    predictions_ingest(model=model, rows=rows(3, 6) + shadow_rows(3, 6))
    served = {(p.version_id, p.request_id) for p in Prediction.objects.filter(served=True)}
    assert served == {(production.pk, f"r-{i}") for i in range(3)} | {(shadow.pk, f"r-{i}") for i in range(3, 6)}


def test_stages_define_the_traffic_role(shadowed):
    model, production, shadow = shadowed
    assert production.serves_traffic and not shadow.serves_traffic
    for stage in ("candidate", "canary", "archived"):
        assert version_create(model=model, version=f"v-{stage}", features=SCHEMA, stage=stage).serves_traffic
    with pytest.raises(InvalidInput, match="Unknown stage 'mirror'"):
        version_create(model=model, version="v-bad", features=SCHEMA, stage="mirror")
    with pytest.raises(InvalidInput, match="Unknown stage"):
        version_update(version=shadow, changes={"stage": "dark"})


def test_the_api_accepts_shadow_and_canary_stages_and_names_a_bad_one(client_with, shadowed):
    client = client_with("admin")
    url = "/api/v1/models/loan-default/versions/"
    for label, stage in (("s2", "shadow"), ("c2", "canary")):
        response = client.post(url, {"version": label, "stage": stage, "features": SCHEMA}, format="json")
        assert response.status_code == 201 and response.json()["stage"] == stage
    response = client.post(url, {"version": "x", "stage": "dark", "features": SCHEMA}, format="json")
    assert response.status_code == 400 and "stage" in response.json()["errors"]
