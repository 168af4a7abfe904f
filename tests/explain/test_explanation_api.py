import datetime as dt

import numpy as np
import pytest

from explain.models import Explanation
from explain.services import NoArtifact, artifact_upload, explanation_for_prediction

from . import factories as f

pytestmark = pytest.mark.django_db
DATA = f.rows(200)
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def loan():
    version = f.make_version(metadata={"score_label": "the default risk"})
    text, booster = f.lightgbm_text(DATA)
    served = f.rows(3, seed=11)
    predictions = f.add_predictions(version, served, booster.predict(f.frame(served)), START)
    return version, text, booster, predictions


def test_missing_artifact_gives_409(client_with, loan):
    version, _, _, predictions = loan
    response = client_with("read").get(f"/api/v1/models/loan/predictions/{predictions[0].request_id}/explanation/")
    assert response.status_code == 409
    assert "has no model artifact" in response.json()["detail"]
    with pytest.raises(NoArtifact):
        explanation_for_prediction(prediction=predictions[0])


def test_unknown_request_or_model_gives_404(client_with, loan):
    client = client_with("read")
    assert client.get("/api/v1/models/loan/predictions/nope/explanation/").status_code == 404
    assert client.get("/api/v1/models/other/predictions/r-0/explanation/").status_code == 404
    assert client_with("ingest").get("/api/v1/models/loan/predictions/r-0/explanation/").status_code == 403


def test_explanation_computed_once_then_read(client_with, loan, django_assert_max_num_queries):
    version, text, booster, predictions = loan
    artifact_upload(version=version, data=text.encode())
    client = client_with("read")
    url = "/api/v1/models/loan/predictions/r-1/explanation/"
    first = client.get(url)
    assert first.status_code == 200, first.json()
    body = first.json()
    assert body["explainer"] == "tree" and body["request_id"] == "r-1" and body["version"] == "v1"
    shap = [c["shap"] for c in body["contributions"]]
    assert [abs(s) for s in shap] == sorted((abs(s) for s in shap), reverse=True)
    assert {c["feature"] for c in body["contributions"]} == {x["name"] for x in f.SCHEMA}
    assert abs(body["base_value"] + sum(shap) - body["output"]) <= 1e-6
    X = f.frame([predictions[1].features])
    assert body["output"] == pytest.approx(booster.predict(X, raw_score=True)[0], abs=1e-9)
    assert body["probability"] == pytest.approx(predictions[1].score, abs=1e-9)
    points = sum(c["probability_points"] for c in body["contributions"])
    assert points == pytest.approx((body["probability"] - body["base_probability"]) * 100, abs=1e-9)
    assert body["reasons"]["up"] or body["reasons"]["down"]
    assert Explanation.objects.count() == 1
    # Auth, then the stored explanation joined with its prediction, version and model.
    with django_assert_max_num_queries(2):
        second = client.get(url)
    assert second.json() == body
    assert Explanation.objects.count() == 1


def test_explanation_uses_the_predictions_own_version(loan):
    version, text, booster, predictions = loan
    artifact_upload(version=version, data=text.encode())
    newer = f.make_version(version="v2")
    other_text, _ = f.lightgbm_text(f.rows(200, seed=3), trees=5)
    artifact_upload(version=newer, data=other_text.encode())
    explanation = explanation_for_prediction(prediction=predictions[0])
    assert explanation.artifact.version_id == version.pk
    raw = booster.predict(f.frame([predictions[0].features]), raw_score=True)[0]
    assert np.isclose(explanation.output, raw, atol=1e-9)


def test_missing_artifact_file_gives_409_not_500(client_with, loan):
    from explain import runtime
    from explain.models import ModelArtifact

    version, text, _, _ = loan
    artifact, _ = artifact_upload(version=version, data=text.encode())
    ModelArtifact.objects.get(pk=artifact.pk).file.delete(save=False)
    runtime._RUNTIMES.clear()
    from explain import loading

    loading._CACHE.clear()
    response = client_with("read").get("/api/v1/models/loan/predictions/r-2/explanation/")
    assert response.status_code == 409
    assert "cannot be loaded" in response.json()["detail"]


def test_linear_explainer_picks_up_reference_data_uploaded_after_the_artifact():
    import pickle

    from explain.loading import sha256_of
    from explain.models import TrustedArtifactHash
    from explain.runtime import runtime_for
    from explain.services import artifact_upload

    data = f.rows(200, schema=f.NUMERIC_SCHEMA)
    version = f.make_version(schema=f.NUMERIC_SCHEMA)
    body = pickle.dumps(f.linear_model(data))
    TrustedArtifactHash.objects.create(sha256=sha256_of(body))
    artifact, _ = artifact_upload(version=version, data=body, fmt="pickle")
    before = runtime_for(artifact=artifact)
    f.add_reference(version, data[:50])
    after = runtime_for(artifact=artifact)
    assert after is not before
    assert len(after._background) == 50
    assert runtime_for(artifact=artifact) is after
