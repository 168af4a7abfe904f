import pickle

import pytest

from explain.models import ModelArtifact, TrustedArtifactHash

from . import factories as f

pytestmark = pytest.mark.django_db
DATA = f.rows(200)


def _put(client, body: bytes, fmt: str | None = None, slug="loan", version="v1"):
    url = f"/api/v1/models/{slug}/versions/{version}/artifact/" + (f"?format={fmt}" if fmt else "")
    return client.put(url, data=body, content_type="application/octet-stream")


class CreatesFile:
    """Unpickling this would create a file: proof that an untrusted pickle was never loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_lightgbm_text_auto_detected_then_replaced(client_with):
    version = f.make_version()
    text, booster = f.lightgbm_text(DATA)
    reference = f.rows(30, seed=9)
    f.add_reference(version, reference, booster.predict(f.frame(reference)))
    client = client_with("admin")
    response = _put(client, text.encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["format"] == "lightgbm" and body["explainer"] == "tree" and body["size"] == len(text.encode())
    assert body["checks"]["scores"]["rows"] == 20 and body["checks"]["additivity"]["ok"] is True
    again = _put(client, text.encode(), fmt="lightgbm")
    assert again.status_code == 200 and again.json()["replaced"] is True
    assert ModelArtifact.objects.filter(version=version).count() == 2
    current = ModelArtifact.objects.get(version=version, current=True)
    assert current.file.read() == text.encode()


def test_xgboost_json_and_ubj_and_skops_pipeline_accepted(client_with):
    import skops.io as sio

    client = client_with("admin")
    numeric = f.rows(200, schema=f.NUMERIC_SCHEMA)
    f.make_version(schema=f.NUMERIC_SCHEMA, version="xgb")
    booster = f.xgboost_model(numeric)
    assert _put(client, bytes(booster.save_raw("json")), version="xgb").json()["format"] == "xgboost-json"
    response = _put(client, bytes(booster.save_raw("ubj")), version="xgb")
    assert response.status_code == 200 and response.json()["format"] == "xgboost-ubj"
    f.make_version(version="skl")
    response = _put(client, sio.dumps(f.sklearn_pipeline(DATA)), version="skl")
    assert response.status_code == 201, response.json()
    assert response.json()["format"] == "skops" and response.json()["explainer"] == "tree"


def test_untrusted_pickle_is_refused_without_being_loaded(client_with, tmp_path):
    f.make_version()
    marker = tmp_path / "pwned.txt"
    evil = pickle.dumps(CreatesFile(marker))
    client = client_with("admin")
    for fmt in ("pickle", "joblib", None):
        response = _put(client, evil, fmt=fmt)
        assert response.status_code == 400
        assert "trust" in response.json()["detail"]
        assert not marker.exists()
    assert ModelArtifact.objects.count() == 0


def test_trusted_pickle_is_accepted(client_with):
    from explain.loading import sha256_of

    numeric = f.rows(200, schema=f.NUMERIC_SCHEMA)
    f.make_version(schema=f.NUMERIC_SCHEMA)
    body = pickle.dumps(f.linear_model(numeric))
    TrustedArtifactHash.objects.create(sha256=sha256_of(body), note="our own training job")
    response = _put(client_with("admin"), body, fmt="pickle")
    assert response.status_code == 201, response.json()
    assert response.json()["explainer"] == "linear"


def test_skops_with_untrusted_type_is_refused(client_with):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    f.make_version(schema=f.NUMERIC_SCHEMA)
    body = sio.dumps(FunctionTransformer(func=print))
    response = _put(client_with("admin"), body)
    assert response.status_code == 400
    assert "not trusted" in response.json()["detail"]


def test_wrong_feature_names_refused(client_with):
    f.make_version(schema=[{**x, "name": x["name"] + "_x"} if x["name"] == "age" else x for x in f.SCHEMA])
    text, _ = f.lightgbm_text(DATA)
    response = _put(client_with("admin"), text.encode())
    assert response.status_code == 400
    assert "do not match the version's schema" in response.json()["detail"]
    assert "features" in response.json()["errors"]
    assert ModelArtifact.objects.count() == 0


def test_scores_not_reproduced_refused_naming_rows(client_with):
    version = f.make_version()
    text, booster = f.lightgbm_text(DATA)
    reference = f.rows(5, seed=9)
    scores = booster.predict(f.frame(reference))
    scores[3] += 0.05
    f.add_reference(version, reference, scores)
    response = _put(client_with("admin"), text.encode())
    assert response.status_code == 400
    body = response.json()
    assert "1 of 5 reference rows" in body["detail"]
    assert list(body["errors"]) == ["reference[3]"]
    assert ModelArtifact.objects.count() == 0


def test_bad_requests(client_with, settings):
    f.make_version()
    admin = client_with("admin")
    assert _put(admin, b"hello", fmt="onnx").json()["errors"]["format"]
    assert _put(admin, b"not a model").status_code == 400
    assert _put(admin, b"").status_code == 400
    assert _put(admin, b"tree\nversion=v4\n", slug="nope").status_code == 404
    assert _put(client_with("read"), b"tree\nversion=v4\n").status_code == 403
    settings.VIGIL_MAX_ARTIFACT_BYTES = 10
    assert _put(admin, b"tree\nversion=v4\nxxxxxxxx").status_code == 413
