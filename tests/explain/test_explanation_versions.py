"""The explanation API on a request predicted by production and a shadow version."""

import datetime as dt

import numpy as np
import pytest

from explain.services import artifact_upload
from monitoring.models import Prediction

from . import factories as f

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
URL = "/api/v1/models/loan/predictions/r-1/explanation/"


@pytest.fixture
def shadowed():
    served = f.rows(3, seed=11)
    production = f.make_version(stage="production")
    text, booster = f.lightgbm_text(f.rows(200))
    f.add_predictions(production, served, booster.predict(f.frame(served)), START)
    shadow = f.make_version(version="v2", stage="shadow")
    shadow_text, shadow_booster = f.lightgbm_text(f.rows(200, seed=3), trees=5)
    f.add_predictions(shadow, served, shadow_booster.predict(f.frame(served)), START)
    Prediction.objects.filter(version=shadow).update(served=False)
    artifact_upload(version=production, data=text.encode())
    artifact_upload(version=shadow, data=shadow_text.encode())
    return served[1], booster, shadow_booster


def test_the_served_prediction_is_explained_and_version_picks_the_shadow(client_with, shadowed,
                                                                          django_assert_max_num_queries):
    features, booster, shadow_booster = shadowed
    client = client_with("read")
    served = client.get(URL).json()
    assert (served["version"], served["served"]) == ("v1", True)
    assert np.isclose(served["output"], booster.predict(f.frame([features]), raw_score=True)[0], atol=1e-9)
    shadow = client.get(URL, {"version": "v2"}).json()
    assert (shadow["version"], shadow["served"]) == ("v2", False)
    assert np.isclose(shadow["output"], shadow_booster.predict(f.frame([features]), raw_score=True)[0], atol=1e-9)
    assert abs(shadow["base_value"] + sum(c["shap"] for c in shadow["contributions"]) - shadow["output"]) <= 1e-6
    # Both stored now: each is read back with auth plus one query.
    for params, body in (({}, served), ({"version": "v2"}, shadow)):
        with django_assert_max_num_queries(2):
            assert client.get(URL, params).json() == body


def test_a_version_without_that_request_gives_404(client_with, shadowed):
    client = client_with("read")
    missing = client.get(URL, {"version": "v9"})
    assert missing.status_code == 404 and "by version 'v9'" in missing.json()["detail"]
    assert client.get("/api/v1/models/nope/predictions/r-1/explanation/").status_code == 404
