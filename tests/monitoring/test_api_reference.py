import gzip

import pytest

from monitoring.models import ReferenceRow

from .ingest_factories import binary_model, post_json

URL = "/api/v1/models/loan-default/versions/2024-06-01/reference/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return binary_model()[1]


@pytest.fixture
def ingest(client_with):
    return client_with("ingest")


def sample(n: int, start: int = 0) -> list[dict]:
    return [{"features": {"income": 100.0 * i, "region": "north", "has_car": bool(i % 2)},
             "score": 0.5, "label": i % 2} for i in range(start, start + n)]


def post_csv(client, url: str, text: str, *, gzipped: bool = False):
    body = text.encode()
    extra = {}
    if gzipped:
        body, extra = gzip.compress(body), {"HTTP_CONTENT_ENCODING": "gzip"}
    return client.generic("POST", url, body, content_type="text/csv", **extra)


def test_json_reference_replaces_by_default_and_appends_on_request(version, ingest):
    assert post_json(ingest, URL, sample(10)).json() == {"stored": 10, "total": 10}
    assert post_json(ingest, URL, sample(10)).json() == {"stored": 10, "total": 10}
    assert post_json(ingest, URL + "?append=true", sample(5, 10)).json() == {"stored": 5, "total": 15}
    row = ReferenceRow.objects.filter(version=version).order_by("id").first()
    assert row.features == {"income": 0.0, "region": "north", "has_car": False}
    assert (row.score, row.label) == (0.5, 0)


def test_csv_reference_is_typed_by_the_schema(version, ingest):
    text = "income,region,has_car,score,label\n52000,north,true,0.8,1\n,south,0,,\n7.5,,yes,0.1,false\n"
    assert post_csv(ingest, URL, text, gzipped=True).json() == {"stored": 3, "total": 3}
    stored = [(r.features, r.score, r.label) for r in ReferenceRow.objects.order_by("id")]
    assert stored == [
        ({"income": 52000.0, "region": "north", "has_car": True}, 0.8, 1),
        ({"income": None, "region": "south", "has_car": False}, None, None),
        ({"income": 7.5, "region": None, "has_car": True}, 0.1, 0),
    ]


def test_csv_error_names_row_and_field_and_stores_nothing(version, ingest):
    post_json(ingest, URL, sample(4))
    response = post_csv(ingest, URL, "income,region,has_car\n1,north,true\nlots,north,true\n")
    assert response.status_code == 400
    body = response.json()
    assert "Row 1: features.income" in body["detail"]
    assert body["errors"]["rows"] == [{"index": 1, "errors": ["features.income: not a number: 'lots'"]}]
    assert ReferenceRow.objects.count() == 4


def test_json_error_names_row_and_field_and_stores_nothing(version, ingest):
    bad = sample(3)
    bad[2]["features"]["has_car"] = "no"
    bad[1]["label"] = 7
    response = post_json(ingest, URL, bad)
    assert response.status_code == 400
    rows = response.json()["errors"]["rows"]
    assert [r["index"] for r in rows] == [1, 2]
    assert "features.has_car" in rows[1]["errors"][0] and "label" in rows[0]["errors"][0]
    assert ReferenceRow.objects.count() == 0


def test_reference_input_errors(version, ingest, client_with, settings):
    assert post_json(ingest, URL, {"features": {}}).status_code == 400
    assert post_csv(ingest, URL, "").status_code == 400
    assert post_json(ingest, "/api/v1/models/loan-default/versions/9/reference/", []).status_code == 404
    assert post_json(client_with("read"), URL, sample(1)).status_code == 403
    settings.VIGIL_MAX_BATCH_ROWS = 2
    assert post_csv(ingest, URL, "income\n1\n2\n3\n").status_code == 400
    settings.VIGIL_MAX_BODY_BYTES = 50
    assert post_json(ingest, URL, sample(2)).status_code == 413
