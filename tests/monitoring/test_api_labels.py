from datetime import UTC, datetime

import pytest

from monitoring.models import Label
from monitoring.services import labels as label_service
from monitoring.services.labels import labels_ingest
from monitoring.services.registry import model_create, version_create

from .ingest_factories import binary_model, post_json, rows

PREDICTIONS = "/api/v1/models/loan-default/predictions/"
LABELS = "/api/v1/models/loan-default/labels/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def model():
    return binary_model()[0]


@pytest.fixture
def ingest(client_with):
    return client_with("ingest")


@pytest.fixture
def changes(monkeypatch):
    seen = []
    real = label_service.sketch_fold_labels

    def spy(*, model, changes):
        seen.append(changes)
        return real(model=model, changes=changes)

    monkeypatch.setattr(label_service, "sketch_fold_labels", spy)
    return seen


def test_labels_after_predictions_are_matched(model, ingest):
    post_json(ingest, PREDICTIONS, rows(0, 5))
    body = post_json(ingest, LABELS, [{"request_id": f"r-{i}", "label": i % 2,
                                       "timestamp": "2024-06-10T09:00:00Z"} for i in range(5)]).json()
    assert body == {"matched": 5, "pending": 0, "rejected": []}
    label = Label.objects.get(request_id="r-3")
    assert label.value == 1 and label.timestamp == datetime(2024, 6, 10, 9, tzinfo=UTC)
    assert label.human_corrected is False


def test_labels_before_predictions_are_pending_then_kept(model, ingest):
    body = post_json(ingest, LABELS, [{"request_id": "r-1", "label": True}, {"request_id": "r-9", "label": 0}]).json()
    assert body == {"matched": 0, "pending": 2, "rejected": []}
    post_json(ingest, PREDICTIONS, rows(0, 3))
    assert Label.objects.get(request_id="r-1").value == 1
    again = post_json(ingest, LABELS, [{"request_id": "r-1", "label": 1}, {"request_id": "r-9", "label": 0}]).json()
    assert (again["matched"], again["pending"]) == (1, 1)


def test_later_label_replaces_and_reports_old_value(model, ingest, changes):
    post_json(ingest, PREDICTIONS, rows(0, 2))
    post_json(ingest, LABELS, [{"request_id": "r-0", "label": 0}])
    post_json(ingest, LABELS, [{"request_id": "r-0", "label": 1}, {"request_id": "r-1", "label": 0}])
    assert Label.objects.get(request_id="r-0").value == 1
    assert Label.objects.count() == 2
    first, second = changes
    assert [(c.request_id, c.new_value, c.old_value) for c in first] == [("r-0", 0, None)]
    assert sorted((c.request_id, c.new_value, c.old_value) for c in second) == [("r-0", 1, 0), ("r-1", 0, None)]


def test_last_label_in_a_batch_wins(model, ingest):
    body = post_json(ingest, LABELS, [{"request_id": "r-0", "label": 0}, {"request_id": "r-0", "label": 1}]).json()
    assert body["pending"] == 1
    assert Label.objects.get().value == 1


def test_invalid_labels_are_rejected_with_index(model, ingest):
    body = post_json(ingest, LABELS, [
        {"request_id": "r-0", "label": 1},
        {"request_id": "r-1", "label": 2},
        {"request_id": "r-2", "label": "1"},
        {"label": 1},
        {"request_id": "r-4"},
        {"request_id": "r-5", "label": 1, "timestamp": "soon"},
    ]).json()
    assert body["pending"] == 1
    reasons = {r["index"]: " ".join(r["errors"]) for r in body["rejected"]}
    assert "label: expected 0, 1, true or false" in reasons[1] and "'1'" in reasons[2]
    assert "request_id: required" in reasons[3] and "label: required" in reasons[4]
    assert "timestamp: not an ISO 8601" in reasons[5]
    assert Label.objects.count() == 1


def test_multiclass_and_regression_labels():
    topic = model_create(slug="topic", name="Topic", task="multiclass_classification")
    version_create(model=topic, version="1", features=[], classes=["0", "1", "sports"])
    result = labels_ingest(model=topic, rows=[{"request_id": "a", "label": 1}, {"request_id": "b", "label": "sports"},
                                              {"request_id": "c", "label": "cooking"}])
    assert result["pending"] == 2 and result["rejected"][0]["index"] == 2
    assert Label.objects.get(request_id="a").value == "1"
    price = model_create(slug="price", name="Price", task="regression")
    result = labels_ingest(model=price, rows=[{"request_id": "a", "label": 12.5}, {"request_id": "b", "label": "x"},
                                              {"request_id": "c", "label": float("inf")}])
    assert result["pending"] == 1 and [r["index"] for r in result["rejected"]] == [1, 2]


def test_human_correction_flag_is_stored(model, changes):
    labels_ingest(model=model, rows=[{"request_id": "r-0", "label": 1}], human_corrected=True)
    assert Label.objects.get().human_corrected is True
    assert changes[0][0].human_corrected is True


def test_labels_called_twice_in_one_outer_transaction(model):
    from django.db import transaction

    with transaction.atomic():
        labels_ingest(model=model, rows=[{"request_id": "a", "label": 1}])
        result = labels_ingest(model=model, rows=[{"request_id": "b", "label": 0}])
    assert result["pending"] == 1 and Label.objects.count() == 2


def test_label_errors_and_scopes(model, ingest, client_with, api_client):
    assert post_json(ingest, "/api/v1/models/nope/labels/", []).status_code == 404
    assert post_json(ingest, LABELS, {"request_id": "r-1"}).status_code == 400
    assert post_json(client_with("read"), LABELS, []).status_code == 403
    assert post_json(api_client, LABELS, []).status_code == 401
