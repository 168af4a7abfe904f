"""What a hostile (or buggy) client sent and got a 500 or an unbounded store for (issue 10).

Each test names the item of the issue it keeps fixed.
"""

import gzip
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pytest

from monitoring.engine.sketch_codec import Sketch
from monitoring.engine.validation import RowErrors, check_timestamps
from monitoring.models import Label, MLModel, ModelVersion, Prediction
from monitoring.services.registry import model_create, version_create

from .ingest_factories import binary_model, post_json, row, rows

pytestmark = pytest.mark.django_db
PREDICTIONS = "/api/v1/models/loan-default/predictions/"
NOW = datetime.now(UTC).replace(microsecond=0)


def _ingest(client_with, payload):
    return post_json(client_with("ingest"), PREDICTIONS, payload)


# Item 11: a date outside pandas' nanosecond span rejects its row, never the batch.

def test_out_of_range_timestamps_reject_only_their_rows(client_with):
    binary_model()
    batch = rows(0, 6)
    batch[1]["timestamp"] = "0032-02-05T13:22:06Z"
    batch[4]["timestamp"] = "8468-01-01T00:00:00Z"
    response = _ingest(client_with, batch)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["accepted"] == 4
    assert [r["index"] for r in body["rejected"]] == [1, 4]
    assert "outside the supported years" in body["rejected"][0]["errors"][0]
    assert Prediction.objects.count() == 4


def test_out_of_range_timestamp_next_to_nanosecond_precision():
    # pandas gives up on the whole column when such dates are mixed: every row still gets its own verdict.
    col = ["0032-02-05T13:22:06Z", "2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00Z"]
    errors = RowErrors(3)
    ns = check_timestamps(col, errors, now_ns=NOW.timestamp() * 10**9, max_future_s=86400)
    assert list(errors.by_row) == [0]
    assert "outside the supported years" in errors.by_row[0][0]
    assert ns[1] == 1704067200123456000 and ns[2] == 1704067200000000000


def test_labels_with_a_year_out_of_range_reject_only_that_label(client_with):
    binary_model()
    _ingest(client_with, rows(0, 3))
    labels = [{"request_id": "r-0", "label": 1, "timestamp": "8468-05-01T00:00:00Z"},
              {"request_id": "r-1", "label": 0}, {"request_id": "r-2", "label": 1, "timestamp": "1500-01-01"}]
    response = post_json(client_with("ingest"), "/api/v1/models/loan-default/labels/", labels)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["matched"] == 1 and [r["index"] for r in body["rejected"]] == [0, 2]
    assert Label.objects.count() == 1


# Item 13: size limits on values; nothing unbounded stored or echoed.

def test_oversized_values_reject_their_rows_with_reasons(client_with, settings):
    binary_model()
    batch = rows(0, 7)
    batch[0]["features"]["region"] = "x" * (settings.VIGIL_MAX_CATEGORY_CHARS + 1)
    batch[1]["features"].update({f"extra{i}": 1 for i in range(settings.VIGIL_MAX_UNKNOWN_KEYS + 1)})
    batch[2]["features"]["k" * (settings.VIGIL_MAX_FEATURE_KEY_CHARS + 1)] = 1
    batch[3]["prediction"] = {"detail": "p" * settings.VIGIL_MAX_PREDICTION_BYTES}
    batch[4]["features"]["note"] = "n" * settings.VIGIL_MAX_FEATURES_BYTES
    batch[5]["request_id"] = "r" * 201
    response = _ingest(client_with, batch)
    assert response.status_code == 200
    body = response.json()
    reasons = {r["index"]: " ".join(r["errors"]) for r in body["rejected"]}
    assert sorted(reasons) == [0, 1, 2, 3, 4, 5]
    assert "features.region: longer than" in reasons[0]
    assert "keys not in the schema" in reasons[1]
    assert "key longer than" in reasons[2]
    assert "prediction: larger than" in reasons[3]
    assert "features: larger than" in reasons[4]
    assert "request_id: longer than" in reasons[5]
    assert body["accepted"] == 1 and Prediction.objects.count() == 1
    assert len(response.content) < 10_000  # nothing echoed back in full


def test_a_92kb_gzip_body_with_a_huge_category_stores_nothing_of_it(client_with):
    binary_model()
    bad = row(0)
    bad["features"]["region"] = "z" * 20_000_000
    body = gzip.compress(orjson.dumps([bad, row(1)]))
    assert len(body) < 100_000
    response = client_with("ingest").generic("POST", PREDICTIONS, body, content_type="application/json",
                                             HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200
    assert response.json()["accepted"] == 1 and len(response.content) < 2000


def test_unseen_categories_in_the_ingestion_answer_are_bounded(client_with, settings):
    binary_model()
    batch = [row(i, features={"income": 10.0, "region": f"r{i % 300}", "has_car": True}) for i in range(900)]
    batch += [row(1000 + i, features={"income": 10.0, "region": "west", "has_car": True}) for i in range(20)]
    body = _ingest(client_with, batch).json()
    unseen = body["quality"]["region"]
    assert len(unseen["unseen"]) == settings.VIGIL_MAX_UNSEEN_CATEGORIES
    assert unseen["unseen"]["west"] == 20
    assert sum(unseen["unseen"].values()) + unseen["unseen_other"] == 920


def test_sketch_merge_keeps_the_most_frequent_unseen_categories():
    from monitoring.engine.sketch_codec import UNSEEN_KEPT

    total = Sketch()
    for part in range(10):
        other = Sketch(unseen={"region": {f"c{part}-{i}": 1 for i in range(40)} | {"west": 5}})
        total.merge(other)
    assert len(total.unseen["region"]) == UNSEEN_KEPT
    assert total.unseen["region"]["west"] == 50
    assert len(total.to_bytes()) < 5_000


def test_a_sketch_built_from_rows_keeps_the_most_frequent_unseen_categories():
    from monitoring.engine.sketch_build import FeatureLayout, Layout, rows_sketch
    from monitoring.engine.sketch_codec import UNSEEN_KEPT

    layout = Layout(task="regression", threshold=0.5,
                    features=[FeatureLayout(name="region", kind="categorical", categories=["north"])])
    values = np.array([f"u{i}" for i in range(500)] + ["west"] * 30 + ["north"] * 5, dtype=object)
    sketch = rows_sketch(layout, {"region": values}, np.zeros(len(values)), rng=np.random.default_rng(0))
    assert len(sketch.unseen["region"]) == UNSEEN_KEPT and sketch.unseen["region"]["west"] == 30
    assert sketch.arrays["q:region"][2] == 530  # the exact unseen total is kept


def test_a_drift_read_lists_few_unseen_categories_and_counts_the_rest():
    from types import SimpleNamespace

    from monitoring.engine.evaluate import UNSEEN_LISTED, quality_report

    layout = SimpleNamespace(features=[SimpleNamespace(name="region")])
    total = Sketch(arrays={"rows": np.array([1000]), "q:region": np.array([0, 0, 1000])},
                   unseen={"region": {f"c{i}": 10 for i in range(100)}})
    entry = quality_report(profile_layout=layout, sketch=total)["features"][0]
    assert len(entry["unseen_categories"]) == UNSEEN_LISTED
    assert entry["unseen_other"] == 1000 - 10 * UNSEEN_LISTED


def test_version_metadata_is_bounded_and_nul_free(client_with, settings):
    model_create(slug="m", name="M", task="regression")
    client = client_with("admin")
    url = "/api/v1/models/m/versions/"
    big = {"version": "v1", "features": [], "metadata": {"blob": "x" * (settings.VIGIL_MAX_METADATA_BYTES + 1)}}
    response = client.post(url, big, format="json")
    assert response.status_code == 400 and "metadata" in response.json()["errors"]
    deep: dict = {}
    node = deep
    for _ in range(settings.VIGIL_MAX_METADATA_DEPTH + 1):
        node["a"] = {}
        node = node["a"]
    response = client.post(url, {"version": "v1", "features": [], "metadata": deep}, format="json")
    assert response.status_code == 400 and "metadata" in response.json()["errors"]
    # Item 16: \u0000 in metadata was a jsonb DataError (500).
    response = client.post(url, {"version": "v1", "features": [], "metadata": {"k": "a\u0000b"}}, format="json")
    assert response.status_code == 400 and "metadata" in response.json()["errors"]
    response = client.post(url, {"version": "v1", "features": [{"name": "a\u0000", "type": "numeric"}]},
                           format="json")
    assert response.status_code == 400 and "features" in response.json()["errors"]
    assert not ModelVersion.objects.exists()
    assert client.post(url, {"version": "v1", "features": [], "metadata": {"commit": "3f2a"}},
                       format="json").status_code == 201
    response = client.patch(f"{url}v1/", {"metadata": {"k": "\u0000"}}, format="json")
    assert response.status_code == 400


def test_reference_csv_cells_are_bounded(client_with, settings):
    _, version = binary_model()
    long = "y" * (settings.VIGIL_MAX_CATEGORY_CHARS + 1)
    csv = f"income,region,has_car,score,label\n10,north,true,0.5,1\n20,{long},false,0.4,0\n"
    response = client_with("ingest").generic(
        "POST", f"/api/v1/models/loan-default/versions/{version.version}/reference/", csv.encode(),
        content_type="text/csv")
    assert response.status_code == 400
    rows_ = response.json()["errors"]["rows"]
    assert rows_[0]["index"] == 1 and "longer than" in rows_[0]["errors"][0]
    assert version.reference_rows.count() == 0


# Item 16: other 5xx.

def test_nul_in_query_parameters_and_path_is_a_400(client_with):
    binary_model()
    client = client_with("read")
    for query in ("version=v%001", "segment=we%00b", "start=2024-01-01%00"):
        response = client.get(f"/api/v1/models/loan-default/drift/?{query}")
        assert response.status_code == 400, (query, response.content[:300])
        assert query.split("=")[0] in response.json()["errors"]
    response = client.get("/api/v1/models/loan%00/versions/")
    assert response.status_code in (400, 404)


@pytest.mark.parametrize(("query", "field"), [
    ("end=9999-12-31T23:30:00Z", "end"),
    ("start=9999-12-31T23:59:59Z", "start"),
    ("start=0001-01-01&end=0001-01-02", "start"),
    ("start=2024-01-01&end=2024-01-01", "start"),
])
def test_dates_at_the_calendars_edges_are_a_400_naming_the_field(client_with, query, field):
    binary_model()
    response = client_with("read").get(f"/api/v1/models/loan-default/drift/?{query}")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["errors"]


def test_json_nested_ten_thousand_deep_is_a_400(client_with):
    body = b"[" * 10_000 + b"]" * 10_000
    client = client_with("admin")
    response = client.generic("POST", "/api/v1/models/", body, content_type="application/json")
    assert response.status_code == 400
    model_create(slug="m", name="M", task="regression")
    response = client.generic("POST", "/api/v1/models/m/versions/", b'{"version": "v1", "features": []'
                              + b', "metadata": {"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}",
                              content_type="application/json")
    assert response.status_code == 400


def test_api_docs_with_a_token_header(client_with):
    response = client_with("read").get("/api/docs/")
    assert response.status_code == 200


# Item 17: version labels become URL segments and file paths.

@pytest.mark.parametrize("label", ["..", "..\\..\\etc", ".hidden", "a/b", "a b", "", "x" * 101, "v1\u0000"])
def test_unsafe_version_labels_are_refused(client_with, label):
    model_create(slug="m", name="M", task="regression")
    response = client_with("admin").post("/api/v1/models/m/versions/", {"version": label, "features": []},
                                         format="json")
    assert response.status_code == 400, label
    assert "version" in response.json()["errors"]
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize("label", ["v1", "2024-06-01", "1.2.0-rc.1", "v1+build_7"])
def test_plain_version_labels_are_accepted(client_with, label):
    model_create(slug="m", name="M", task="regression")
    response = client_with("admin").post("/api/v1/models/m/versions/", {"version": label, "features": []},
                                         format="json")
    assert response.status_code == 201, response.json()


# Item 19: contract nits.

def test_booleans_are_not_numbers_and_slugs_are_strings(client_with):
    client = client_with("admin")
    response = client.post("/api/v1/models/", {"slug": 123, "name": "M", "task": "regression"}, format="json")
    assert response.status_code == 400 and "slug" in response.json()["errors"]
    model_create(slug="b", name="B", task="binary_classification")
    response = client.post("/api/v1/models/b/versions/", {"version": "v1", "features": [], "threshold": True},
                           format="json")
    assert response.status_code == 400 and "threshold" in response.json()["errors"]
    response = client.post("/api/v1/models/b/versions/", {"version": 7, "features": []}, format="json")
    assert response.status_code == 400 and "version" in response.json()["errors"]
    version_create(model=MLModel.objects.get(slug="b"), version="v1", features=[])
    response = client.patch("/api/v1/models/b/versions/v1/", {"threshold": False}, format="json")
    assert response.status_code == 400
    assert ModelVersion.objects.get(version="v1").threshold is None


def test_predictions_with_a_text_content_type_are_a_415(client_with):
    binary_model()
    client = client_with("ingest")
    body = orjson.dumps(rows(0, 2))
    response = client.generic("POST", PREDICTIONS, body, content_type="text/plain")
    assert response.status_code == 415
    assert not Prediction.objects.exists()
    response = client.generic("POST", "/api/v1/models/loan-default/labels/", body, content_type="text/plain")
    assert response.status_code == 415


def test_the_schema_documents_the_4xx_answers(client_with):
    schema = client_with("read").get("/api/v1/schema/?format=json")
    paths = json.loads(schema.content)["paths"]
    drift = paths["/api/v1/models/{slug}/drift/"]["get"]
    assert {"400", "401", "403", "404", "409"} <= set(drift["responses"])
    assert "start == end" in json.dumps(drift["parameters"])
    artifact = paths["/api/v1/models/{slug}/versions/{version}/artifact/"]["put"]
    assert {"400", "404", "413", "415"} <= set(artifact["responses"])
    explanation = paths["/api/v1/models/{slug}/predictions/{request_id}/explanation/"]["get"]
    assert {"404", "409"} <= set(explanation["responses"])
    overrides = paths["/api/v1/models/{slug}/overrides/"]["get"]
    assert "404" in overrides["responses"]


def test_day_and_week_ranges_near_the_upper_bound_do_not_overflow(client_with):
    _, version = binary_model()
    from monitoring.services.profile import profile_build
    from monitoring.services.reference import reference_store

    reference_store(version=version, rows=[{"features": {"income": 1.0 * i, "region": "north", "has_car": True},
                                            "score": 0.5} for i in range(20)])
    profile_build(version=version)
    end = "2261-12-31T23:30:00Z"
    response = client_with("read").get(f"/api/v1/models/loan-default/drift/?start=2261-01-01&end={end}")
    assert response.status_code == 200, response.content[:300]
    assert np.isfinite(response.json()["window"]["rows"])
    assert datetime.fromisoformat(response.json()["window"]["end"].replace("Z", "+00:00")) <= \
        datetime(2262, 1, 1, tzinfo=UTC) + timedelta(hours=1)
