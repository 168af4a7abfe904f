import pytest
from django.utils.dateparse import parse_datetime

from monitoring.models import MLModel, ModelVersion

from .ingest_factories import SCHEMA

pytestmark = pytest.mark.django_db
MODELS = "/api/v1/models/"


@pytest.fixture
def admin(client_with):
    return client_with("admin")


@pytest.fixture
def reader(client_with):
    return client_with("read")


def create_model(admin, slug="loan-default", task="binary_classification"):
    response = admin.post(MODELS, {"slug": slug, "name": "Loan default", "task": task}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_and_list_models(admin, reader):
    body = create_model(admin)
    assert body["slug"] == "loan-default" and body["task"] == "binary_classification"
    assert body["versions"] == [] and body["production_version"] is None
    listing = reader.get(MODELS)
    assert listing.status_code == 200 and [m["slug"] for m in listing.json()] == ["loan-default"]
    assert reader.get(MODELS + "loan-default/").json()["name"] == "Loan default"


def test_model_list_has_no_n_plus_one(admin, reader, django_assert_max_num_queries):
    for i in range(5):
        create_model(admin, slug=f"m{i}")
        admin.post(f"{MODELS}m{i}/versions/", {"version": "1", "features": []}, format="json")
    with django_assert_max_num_queries(4):
        assert len(reader.get(MODELS).json()) == 5


def test_model_errors(admin):
    create_model(admin)
    duplicate = admin.post(MODELS, {"slug": "loan-default", "name": "x", "task": "regression"}, format="json")
    assert duplicate.status_code == 409 and "slug" in duplicate.json()["errors"]
    bad_task = admin.post(MODELS, {"slug": "m2", "name": "x", "task": "clustering"}, format="json")
    assert bad_task.status_code == 400 and "task" in bad_task.json()["errors"]
    bad_slug = admin.post(MODELS, {"slug": "has space", "name": "x", "task": "regression"}, format="json")
    assert bad_slug.status_code == 400 and "slug" in bad_slug.json()["errors"]
    malformed = admin.generic("POST", MODELS, b"{not json", content_type="application/json")
    assert malformed.status_code == 400 and malformed.json()["detail"]
    assert admin.get(MODELS + "nope/").status_code == 404


def test_scopes_for_registry(client_with, api_client):
    create_model(client_with("admin"))
    payload = {"slug": "other", "name": "x", "task": "regression"}
    for scopes in (("read",), ("ingest",), ("ops",)):
        response = client_with(*scopes).post(MODELS, payload, format="json")
        assert response.status_code == 403 and "admin" in response.json()["detail"]
    assert client_with("ingest").get(MODELS).status_code == 403
    assert api_client.get(MODELS).status_code == 401
    assert MLModel.objects.count() == 1


def test_create_version_with_schema(admin, reader):
    create_model(admin)
    response = admin.post(MODELS + "loan-default/versions/", {
        "version": "1.2.0-rc.1", "stage": "production", "threshold": 0.4, "features": SCHEMA,
        "metadata": {"commit": "abc"},
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["features"][1] == {"name": "region", "type": "categorical", "nullable": True,
                                   "categories": ["north", "south"]}
    assert body["promoted"] is not None and body["reference_rows"] == 0
    detail = reader.get(MODELS + "loan-default/versions/1.2.0-rc.1/")
    assert detail.status_code == 200 and detail.json()["metadata"] == {"commit": "abc"}
    assert reader.get(MODELS + "loan-default/").json()["production_version"] == "1.2.0-rc.1"
    listing = reader.get(MODELS + "loan-default/versions/").json()
    assert [v["version"] for v in listing] == ["1.2.0-rc.1"]


@pytest.mark.parametrize(("features", "field", "needle"), [
    ([{"name": "a", "type": "text"}], "features[0]", "type"),
    ([{"name": "a", "type": "numeric"}, {"name": "a", "type": "numeric"}], "features[1]", "declared twice"),
    ([{"name": "a", "type": "numeric", "min": 5, "max": 1}], "features[0]", "must not exceed"),
    ([{"name": "a", "type": "boolean", "categories": ["x"]}], "features[0]", "only categorical"),
    ([{"type": "numeric"}], "features[0]", "name"),
    ("income", "features", "list"),
])
def test_invalid_feature_schema_names_the_entry(admin, features, field, needle):
    create_model(admin)
    response = admin.post(MODELS + "loan-default/versions/", {"version": "1", "features": features}, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors and needle in " ".join(errors[field])
    assert ModelVersion.objects.count() == 0


def test_version_errors(admin):
    create_model(admin)
    url = MODELS + "loan-default/versions/"
    assert admin.post(url, {"version": "1", "features": []}, format="json").status_code == 201
    duplicate = admin.post(url, {"version": "1", "features": []}, format="json")
    assert duplicate.status_code == 409 and "version" in duplicate.json()["errors"]
    threshold = admin.post(url, {"version": "2", "features": [], "threshold": 3}, format="json")
    assert threshold.status_code == 400 and "threshold" in threshold.json()["errors"]
    stage = admin.post(url, {"version": "3", "features": [], "stage": "live"}, format="json")
    assert stage.status_code == 400 and "stage" in stage.json()["errors"]
    assert admin.get(url + "9.9/").status_code == 404
    assert admin.post(MODELS + "nope/versions/", {"version": "1", "features": []}, format="json").status_code == 404


def test_multiclass_versions_need_classes(admin):
    create_model(admin, slug="topic", task="multiclass_classification")
    url = MODELS + "topic/versions/"
    missing = admin.post(url, {"version": "1", "features": []}, format="json")
    assert missing.status_code == 400 and "classes" in missing.json()["errors"]
    ok = admin.post(url, {"version": "1", "features": [], "classes": ["a", "b", "c"]}, format="json")
    assert ok.status_code == 201 and ok.json()["classes"] == ["a", "b", "c"]


def test_patch_stage_threshold_metadata(admin, reader):
    create_model(admin)
    admin.post(MODELS + "loan-default/versions/", {"version": "v1", "features": []}, format="json")
    url = MODELS + "loan-default/versions/v1/"
    assert reader.patch(url, {"stage": "production"}, format="json").status_code == 403
    response = admin.patch(url, {"stage": "production", "threshold": 0.7, "metadata": {"note": "go"}},
                           format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["stage"] == "production" and body["promoted"] and body["threshold"] == 0.7
    assert body["metadata"] == {"note": "go"}
    renamed = admin.patch(url, {"version": "v2"}, format="json")
    assert renamed.status_code == 400 and "version" in renamed.json()["errors"]
    # Production leaves only through the lifecycle's rollback or a promotion (tests/lifecycle/test_registry_stage.py).
    archived = admin.patch(url, {"stage": "archived"}, format="json")
    assert archived.status_code == 409 and "stage" in archived.json()["errors"]
    assert ModelVersion.objects.get(version="v1").stage == "production"
    assert admin.patch(url, {"metadata": {"note": "kept"}}, format="json").json()["promoted"] == body["promoted"]


def test_openapi_schema_describes_the_endpoints(api_client):
    schema = api_client.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for path in ("/api/v1/models/", "/api/v1/models/{slug}/versions/{version}/",
                 "/api/v1/models/{slug}/predictions/", "/api/v1/models/{slug}/labels/",
                 "/api/v1/models/{slug}/versions/{version}/reference/"):
        assert path in paths, path
    predictions = paths["/api/v1/models/{slug}/predictions/"]["post"]
    body = predictions["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert "413" in predictions["responses"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["name"] == "Authorization"
    assert {"TokenAuth": []} in predictions["security"]


def test_time_fields_keep_their_api_names(admin, reader):
    """The model fields read ``created_at``/``promoted_at``; the API's keys stay ``created``/``promoted``."""
    create_model(admin)
    admin.post(MODELS + "loan-default/versions/", {"version": "1", "stage": "production", "features": []}, format="json")
    admin.post(MODELS + "loan-default/versions/", {"version": "2", "features": []}, format="json")
    stored = {v.version: v for v in ModelVersion.objects.all()}
    model = reader.get(MODELS + "loan-default/").json()
    assert parse_datetime(model["created"]) == MLModel.objects.get().created_at
    versions = {v["version"]: v for v in reader.get(MODELS + "loan-default/versions/").json()}
    for name, body in versions.items():
        assert "created_at" not in body and "promoted_at" not in body
        assert parse_datetime(body["created"]) == stored[name].created_at
    assert parse_datetime(versions["1"]["promoted"]) == stored["1"].promoted_at
    assert versions["2"]["promoted"] is None
