import gzip
from datetime import UTC, datetime, timedelta

import pytest

from monitoring.models import Prediction
from monitoring.services import ingest as ingest_service
from monitoring.services.ingest import predictions_ingest

from .ingest_factories import binary_model, post_json, row, rows

URL = "/api/v1/models/loan-default/predictions/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def model():
    return binary_model()[0]


@pytest.fixture
def ingest(client_with):
    return client_with("ingest")


def test_batch_is_stored_and_counted(model, ingest):
    response = post_json(ingest, URL, rows(0, 50))
    assert response.status_code == 200
    assert response.json() == {"accepted": 50, "duplicates": 0, "rejected": [], "quality": {}}
    stored = Prediction.objects.get(model=model, request_id="r-7")
    assert stored.features == {"income": 1007.0, "region": "north", "has_car": False}
    assert stored.score == 0.07 and stored.prediction == 1 and stored.entity_id == "cust-0"
    assert stored.segment == "web" and stored.item_id is None
    assert stored.timestamp == datetime(2024, 6, 3, 10, tzinfo=UTC)
    assert stored.version.version == "2024-06-01"


def test_retried_batch_is_all_duplicates(model, ingest):
    post_json(ingest, URL, rows(0, 30))
    again = post_json(ingest, URL, rows(0, 30)).json()
    assert again["accepted"] == 0 and again["duplicates"] == 30
    overlap = post_json(ingest, URL, rows(20, 40)).json()
    assert (overlap["accepted"], overlap["duplicates"]) == (10, 10)
    assert Prediction.objects.filter(model=model).count() == 40


def test_repeat_inside_one_batch_keeps_the_first(model, ingest):
    batch = [row(1, score=0.1), row(1, score=0.9), row(2)]
    body = post_json(ingest, URL, batch).json()
    assert (body["accepted"], body["duplicates"]) == (2, 1)
    assert Prediction.objects.get(request_id="r-1").score == 0.1


HARD_ERRORS = [
    ({"request_id": None}, "request_id: required"),
    ({"request_id": ""}, "request_id: must not be empty"),
    ({"request_id": "x" * 201}, "request_id: longer than 200"),
    ({"version": "no-such-version"}, "version: unknown version 'no-such-version'"),
    ({"timestamp": "yesterday"}, "timestamp: not an ISO 8601"),
    ({"timestamp": None}, "timestamp: required"),
    ({"timestamp": 1717408800}, "timestamp: expected an ISO 8601 string, got integer"),
    ({"timestamp": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "timestamp: more than 1 day"),
    ({"score": None}, "score: required"),
    ({"score": "0.5"}, "score: expected a number, got string"),
    ({"score": 1.5}, "score: must be between 0 and 1"),
    ({"features": [1, 2]}, "features: expected an object, got array"),
    ({"features": None}, "features: required object"),
    ({"features": {"income": "52000", "region": "north", "has_car": True}},
     "features.income: expected a number, got string"),
    ({"features": {"income": True, "region": "north", "has_car": True}},
     "features.income: expected a number, got boolean"),
    ({"features": {"income": 1, "region": 3, "has_car": True}}, "features.region: expected a string, got integer"),
    ({"features": {"income": 1, "region": "north", "has_car": "yes"}},
     "features.has_car: expected true or false, got string"),
    ({"features": {"income": 1, "region": "a\u0000b"}}, "NUL character"),
    ({"entity_id": 1.5}, "entity_id: expected a string, got number"),
    ({"segment": "s" * 101}, "segment: longer than 100"),
]


@pytest.mark.parametrize(("change", "reason"), HARD_ERRORS)
def test_hard_errors_reject_only_that_row(model, ingest, change, reason):
    batch = [row(0), row(1, **change), row(2)]
    body = post_json(ingest, URL, batch).json()
    assert body["accepted"] == 2
    [rejected] = body["rejected"]
    assert rejected["index"] == 1
    assert any(reason in message for message in rejected["errors"]), rejected
    assert Prediction.objects.count() == 2


def test_row_that_is_not_an_object_is_rejected(model, ingest):
    body = post_json(ingest, URL, [row(0), 42, "x"]).json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1, 2]
    assert "row: expected a JSON object, got integer" in body["rejected"][0]["errors"]


def test_all_reasons_of_a_row_are_listed(model, ingest):
    bad = {"request_id": "r-x", "timestamp": "nope", "score": "high",
           "features": {"income": "lots", "region": "north", "has_car": True}}
    body = post_json(ingest, URL, [bad]).json()
    errors = body["rejected"][0]["errors"]
    assert body["rejected"][0]["request_id"] == "r-x"
    assert {e.split(":")[0] for e in errors} == {"timestamp", "score", "features.income"}


def test_non_finite_numbers_rejected_for_python_callers(model):
    result = predictions_ingest(model=model, rows=[
        row(0, score=float("nan")),
        row(1, features={"income": float("inf"), "region": "north", "has_car": True}),
        row(2),
    ])
    assert result["accepted"] == 1
    reasons = {r["index"]: r["errors"] for r in result["rejected"]}
    assert any("score: must be a finite number" in m for m in reasons[0])
    assert any("features.income: must be a finite number" in m for m in reasons[1])


def test_soft_problems_are_stored_and_counted(model, ingest):
    batch = [
        row(0, features={"income": None, "region": "west", "has_car": True}),
        row(1, features={"income": -5, "region": "west", "has_car": None, "extra": 1}),
        row(2, features={"region": "north"}),  # missing keys count as null
        row(3),
    ]
    body = post_json(ingest, URL, batch).json()
    assert body["accepted"] == 4 and body["rejected"] == []
    assert body["quality"] == {
        "income": {"nulls": 2, "out_of_range": 1},
        "region": {"unseen": {"west": 2}},
        "extra": {"unknown": 1},
    }
    assert Prediction.objects.get(request_id="r-1").features["extra"] == 1
    # Quality counts only the rows stored by this request: a retry stores nothing.
    assert post_json(ingest, URL, batch).json()["quality"] == {}


def test_row_without_version_goes_to_production(ingest):
    model, production = binary_model()
    from monitoring.services.registry import version_create

    version_create(model=model, version="2024-07-01", features=[], stage="candidate")
    body = post_json(ingest, URL, [row(0, version=None) | {"version": None}]).json()
    assert body["accepted"] == 1
    assert Prediction.objects.get(request_id="r-0").version_id == production.pk
    no_version = {k: v for k, v in row(1).items() if k != "version"}
    assert post_json(ingest, URL, [no_version]).json()["accepted"] == 1


def test_row_without_version_is_rejected_when_nothing_is_in_production(ingest):
    binary_model(stage="candidate")
    no_version = {k: v for k, v in row(1).items() if k != "version"}
    body = post_json(ingest, URL, [no_version]).json()
    assert body["accepted"] == 0
    assert "no production version" in body["rejected"][0]["errors"][0]


def test_naive_timestamp_is_utc_and_offsets_are_converted(model, ingest):
    post_json(ingest, URL, [row(0, timestamp="2024-06-03T10:00:00"), row(1, timestamp="2024-06-03T12:00:00+02:00")])
    stamps = set(Prediction.objects.values_list("timestamp", flat=True))
    assert stamps == {datetime(2024, 6, 3, 10, tzinfo=UTC)}


def test_integer_ids_are_stored_as_strings(model, ingest):
    body = post_json(ingest, URL, [row(0, request_id=12345, entity_id=9, item_id=4)]).json()
    assert body["accepted"] == 1
    stored = Prediction.objects.get()
    assert (stored.request_id, stored.entity_id, stored.item_id) == ("12345", "9", "4")


def test_text_needing_copy_escapes_round_trips(model, ingest):
    tricky = "tab\there\nnew\\line \"q\" é"
    post_json(ingest, URL, [row(0, request_id=tricky, segment=tricky,
                                features={"income": 1, "region": tricky, "has_car": False})])
    stored = Prediction.objects.get()
    assert stored.request_id == tricky and stored.segment == tricky
    assert stored.features["region"] == tricky


def test_sketches_receive_only_newly_stored_rows(model, ingest, monkeypatch):
    calls = []
    real = ingest_service.sketch_fold_predictions

    def spy(*, version, batch):
        calls.append((version, batch))
        return real(version=version, batch=batch)

    monkeypatch.setattr(ingest_service, "sketch_fold_predictions", spy)
    post_json(ingest, URL, rows(0, 3))
    post_json(ingest, URL, [row(2), row(3, features={"income": None, "region": None, "has_car": None}),
                            row(4, score="bad")])
    assert len(calls) == 2
    version, batch = calls[1]
    assert version.version == "2024-06-01"
    assert list(batch.request_ids) == ["r-3"]
    assert batch.timestamps.dtype.kind == "i" and batch.timestamps[0] == 1717408800 * 10**9
    assert batch.features["income"].dtype == float and str(batch.features["income"][0]) == "nan"
    assert list(batch.features["region"]) == [None]
    first = calls[0][1]
    assert list(first.features["has_car"]) == [1.0, 0.0, 0.0]
    assert list(first.features["region"]) == ["south", "north", "south"]
    assert list(first.segments) == ["web"] * 3


def test_empty_array_is_fine(model, ingest):
    assert post_json(ingest, URL, []).json() == {"accepted": 0, "duplicates": 0, "rejected": [], "quality": {}}


def test_gzip_body(model, ingest):
    response = post_json(ingest, URL, rows(0, 20), gzipped=True)
    assert response.status_code == 200 and response.json()["accepted"] == 20


def test_truncated_gzip_is_400(model, ingest):
    body = gzip.compress(b'[{"request_id": "a"}]' * 50)[:-20]
    response = ingest.generic("POST", URL, body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 400
    assert "gzip" in response.json()["detail"]


def test_gzip_bomb_is_413(model, ingest, settings):
    settings.VIGIL_MAX_BODY_BYTES = 100_000
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    assert len(bomb) < 100_000
    response = ingest.generic("POST", URL, bomb, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert Prediction.objects.count() == 0


def test_body_over_limit_is_413(model, ingest, settings):
    settings.VIGIL_MAX_BODY_BYTES = 1000
    response = post_json(ingest, URL, rows(0, 20))
    assert response.status_code == 413
    assert set(response.json()) == {"detail", "errors"}


def test_unsupported_content_encoding_is_415(model, ingest):
    response = ingest.generic("POST", URL, b"[]", content_type="application/json", HTTP_CONTENT_ENCODING="br")
    assert response.status_code == 415
    assert "Content-Encoding" in response.json()["detail"]


@pytest.mark.parametrize(("body", "needle"), [
    (b'[{"request_id": ', "Malformed JSON"),
    (b"[1e400]", "Malformed JSON"),
    (b"", "empty"),
    (b'{"request_id": "r-1"}', "Expected a JSON array"),
    (b'"rows"', "Expected a JSON array"),
])
def test_malformed_or_wrong_top_level_is_400(model, ingest, body, needle):
    response = ingest.generic("POST", URL, body, content_type="application/json")
    assert response.status_code == 400
    assert needle in response.json()["detail"]
    assert "errors" in response.json()


def test_too_many_rows_is_400_naming_the_limit(model, ingest, settings):
    settings.VIGIL_MAX_BATCH_ROWS = 5
    response = post_json(ingest, URL, rows(0, 6))
    assert response.status_code == 400
    assert "limit is 5" in response.json()["detail"] and response.json()["errors"]["body"]
    assert post_json(ingest, URL, rows(0, 5)).json()["accepted"] == 5


def test_unknown_model_is_404(ingest):
    response = post_json(ingest, "/api/v1/models/nope/predictions/", rows(0, 1))
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_auth_and_scopes(model, api_client, client_with):
    assert post_json(api_client, URL, rows(0, 1)).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Token vgl_not-a-real-key")
    response = post_json(api_client, URL, rows(0, 1))
    assert response.status_code == 401 and response.json()["detail"]
    for scopes in (("read",), ("admin",), ("ops",)):
        response = post_json(client_with(*scopes), URL, rows(0, 1))
        assert response.status_code == 403
        assert "ingest" in response.json()["detail"]
    assert Prediction.objects.count() == 0


def test_a_batch_overlapping_stored_rows_falls_back_to_on_conflict(model):
    # The direct COPY fails on the first stored request_id; the staging path stores the rest.
    predictions_ingest(model=model, rows=rows(0, 10))
    result = predictions_ingest(model=model, rows=rows(5, 15))
    assert (result["accepted"], result["duplicates"]) == (5, 5)
    assert Prediction.objects.count() == 15
    again = predictions_ingest(model=model, rows=rows(15, 17))
    assert again["accepted"] == 2 and Prediction.objects.count() == 17


def test_duplicates_are_reported_to_the_sketches_per_hour(model, monkeypatch):
    counted = []
    monkeypatch.setattr(ingest_service, "sketch_count_duplicates",
                        lambda *, version, hour_counts: counted.append(hour_counts))
    predictions_ingest(model=model, rows=rows(0, 3))
    predictions_ingest(model=model, rows=[*rows(0, 3), row(9, timestamp="2024-06-03T11:30:00Z"), row(9)])
    hour = 1717408800 // 3600
    assert counted == [{hour: 4}]


def test_deleting_a_model_still_removes_its_predictions(model):
    # The prediction table has no database foreign keys (write speed); Django cascades.
    predictions_ingest(model=model, rows=rows(0, 3))
    model.delete()
    assert Prediction.objects.count() == 0
