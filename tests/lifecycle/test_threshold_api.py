"""GET .../versions/{version}/threshold/ against scikit-learn's precision_recall_curve."""

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve
from statsmodels.stats.proportion import proportion_confint

from .factories import binary_model, label, log, scored, version

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("param,target", [("min_recall", 0.95), ("min_recall", 0.7), ("min_precision", 0.8)])
def test_threshold_matches_sklearn(client_with, param, target):
    model = binary_model()
    version(model, "v1", stage="production")
    y, s = scored(3000, seed=5, skill=2.0)
    s = np.round(s, 3)
    log(model, "v1", s)
    label(model, y, only=range(0, 3000, 2))  # half labelled: only those count
    body = client_with("read").get(f"/api/v1/models/loan-default/versions/v1/threshold/?{param}={target}").json()
    yl, sl = y[::2], s[::2]
    precision, recall, cut = precision_recall_curve(yl, sl)
    precision, recall = precision[:-1], recall[:-1]
    if param == "min_recall":
        ok = np.flatnonzero(recall >= target)
        best = max(ok, key=lambda i: (precision[i], recall[i]))
    else:
        ok = np.flatnonzero(precision >= target)
        best = max(ok, key=lambda i: (recall[i], precision[i]))
    assert body["labelled"] == 1500
    assert body["threshold"] == pytest.approx(cut[best])
    assert body["precision"] == pytest.approx(precision[best]) and body["recall"] == pytest.approx(recall[best])
    tp = int(((sl >= body["threshold"]) & (yl == 1)).sum())
    assert body["recall_lower_bound"] == pytest.approx(proportion_confint(tp, int(yl.sum()), method="beta")[0])
    assert body["current_threshold"] == 0.5


def test_threshold_bad_input_names_the_field(client_with):
    model = binary_model()
    version(model, "v1", stage="production")
    client = client_with("read")
    both = client.get("/api/v1/models/loan-default/versions/v1/threshold/?min_recall=0.9&min_precision=0.9")
    assert both.status_code == 400 and set(both.json()["errors"]) == {"min_recall", "min_precision"}
    bad = client.get("/api/v1/models/loan-default/versions/v1/threshold/?min_recall=abc")
    assert bad.status_code == 400 and "min_recall" in bad.json()["errors"]
    assert client.get("/api/v1/models/loan-default/versions/nope/threshold/?min_recall=0.9").status_code == 404
    none = client.get("/api/v1/models/loan-default/versions/v1/threshold/?min_recall=0.9").json()
    assert none["threshold"] is None and none["labelled"] == 0
    assert client_with("ingest").get("/api/v1/models/loan-default/versions/v1/threshold/?min_recall=0.9").status_code == 403
