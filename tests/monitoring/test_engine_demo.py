"""The demo scenario (loan model, small scale) read back through the monitoring API.

Rows go through the same services the REST API uses; the analyses come from compute_metrics.
"""

from datetime import timedelta

import pandas as pd
import pytest
from django.core.management import call_command

from client.frames import (
    LABEL_FIELDS,
    PREDICTION_FIELDS,
    PREDICTION_OPTIONAL,
    REFERENCE_OPTIONAL,
    rows_from_frame,
)
from monitoring.demo import loan
from monitoring.models import MLModel, ModelVersion
from monitoring.services.ingest import predictions_ingest
from monitoring.services.labels import labels_ingest
from monitoring.services.reference import reference_store

pytestmark = pytest.mark.django_db

NOW = pd.Timestamp("2026-11-20T00:00:00Z")  # midnight: scenario days are UTC days
DAYS = 30


@pytest.fixture
def demo():
    # Scale 0.6 (~1,200 loans a day): at 0.3 one loan_amount day crosses the noise floor by chance.
    scenario = loan.build(now=NOW, days=DAYS, scale=0.6)
    model = MLModel.objects.create(slug=scenario.slug, name=scenario.name, task=scenario.task)
    version = ModelVersion.objects.create(
        model=model, version=scenario.version, stage="production", threshold=scenario.threshold,
        features=scenario.features,
    )
    reference_store(version=version, rows=rows_from_frame(scenario.reference, fields=(), optional=REFERENCE_OPTIONAL))
    preds = rows_from_frame(scenario.predictions, fields=PREDICTION_FIELDS, optional=PREDICTION_OPTIONAL)
    for lo in range(0, len(preds), 5000):
        assert not predictions_ingest(model=model, rows=preds[lo : lo + 5000])["rejected"]
    labels = rows_from_frame(scenario.labels, fields=LABEL_FIELDS, features=False)
    for lo in range(0, len(labels), 5000):
        labels_ingest(model=model, rows=labels[lo : lo + 5000])
    call_command("compute_metrics", model=scenario.slug, verbosity=0)
    return scenario


def _day(d: int) -> dict:
    start = (NOW - pd.Timedelta(days=DAYS - d)).to_pydatetime()
    return {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}


def test_demo_scenario_through_the_api(client_with, demo):
    read = client_with("read")
    url = f"/api/v1/models/{demo.slug}"
    for d in range(DAYS):
        body = read.get(f"{url}/drift/", _day(d)).json()
        drifted = sorted(f["name"] for f in body["features"] if f["drifted"])
        expected = sorted(loan.SHIFTED) if d >= loan.SHIFT_DAY else []
        assert drifted == expected, (d, drifted)
        nulls = {f["name"]: f["null_rate"] for f in body["quality"]["features"]}
        if d == loan.null_day(DAYS):
            assert nulls[loan.NULL_FEATURE] > 0.3
        else:
            assert nulls[loan.NULL_FEATURE] == 0

    def perf(first: int, last: int) -> dict:
        span = {"start": _day(first)["start"], "end": _day(last)["start"]}
        return read.get(f"{url}/performance/", span).json()

    before = perf(loan.SHIFT_DAY, DAYS - loan.CONCEPT_DAYS)  # shifted inputs, old relation
    last_week = perf(DAYS - loan.CONCEPT_DAYS, DAYS - 2)  # labels arrived for part of it
    unlabelled = perf(DAYS - 1, DAYS)  # labels take 2-5 days: none yet
    assert before["label_coverage"] > 0.99 and 0 < last_week["label_coverage"] < 1
    assert last_week["metrics"]["roc_auc"] < before["metrics"]["roc_auc"] - 0.05
    assert unlabelled["labelled"] == 0 and unlabelled["metrics"] == {}
    assert unlabelled["estimated"]["roc_auc"] is not None
    # Day results mark the concept shift in the last week (inputs stable since day 20, performance fell).
    series = read.get(
        f"{url}/timeseries/",
        {"metric": "concept_drift", "granularity": "day", "start": _day(0)["start"], "end": NOW.isoformat()},
    ).json()["points"]
    assert len(series) == DAYS
    flagged = [i for i, p in enumerate(series) if p["value"] == 1.0]
    assert flagged and min(flagged) >= DAYS - loan.CONCEPT_DAYS
