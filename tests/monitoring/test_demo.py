"""The demo scenario: generated deterministically, seeded over HTTP, and really in the data."""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.db import connection
from sklearn.metrics import roc_auc_score

from monitoring.demo import build_scenario
from monitoring.selectors.pairs import paired_predictions

NOW = pd.Timestamp("2026-03-01 12:00", tz="UTC")


def test_same_inputs_give_the_same_scenario():
    first, second = build_scenario(now=NOW, scale=0.02), build_scenario(now=NOW, scale=0.02)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a.predictions, b.predictions)
        pd.testing.assert_frame_equal(a.labels, b.labels)
        assert a.artifact == b.artifact


def test_scenario_rejects_too_few_days():
    with pytest.raises(ValueError, match="days"):
        build_scenario(now=NOW, days=5)


def day_frame(model_slug: str):
    from monitoring.models import Prediction

    # The served decisions (loan-default's shadow version logs the same requests too).
    rows = Prediction.objects.filter(model__slug=model_slug, served=True).values_list("timestamp", "features",
                                                                                      "request_id")
    frame = pd.DataFrame([{"timestamp": t, "request_id": r, **f} for t, f, r in rows])
    return frame


def standardised_shift(frame: pd.DataFrame, name: str, later: pd.Series) -> float:
    before, after = frame.loc[~later, name].astype(float), frame.loc[later, name].astype(float)
    return (after.mean() - before.mean()) / before.std()


@pytest.mark.django_db(transaction=True)
def test_seed_demo_stores_the_scenario(live_server, capsys):
    from django.contrib.auth import authenticate

    from explain.models import ModelArtifact
    from monitoring.models import Label, MLModel, ModelVersion, Prediction, ReferenceRow

    call_command("seed_demo", url=live_server.url, scale=0.05, days=30, no_metrics=True)
    assert {m.slug: m.task for m in MLModel.objects.all()} == {
        "loan-default": "binary_classification", "delivery-time": "regression", "product-recs": "ranking"}  # fmt: skip

    version = ModelVersion.objects.get(model__slug="loan-default", stage="production")
    assert version.stage == "production" and version.threshold == 0.5
    assert all(f.get("display_name") and "unit" in f for f in version.features)
    assert ModelArtifact.objects.filter(version=version).exists()
    assert ReferenceRow.objects.filter(version=version).count() >= 500
    # 30 days of history end in week partitions, none in the DEFAULT partition.
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM monitoring_prediction_default")
        assert cur.fetchone()[0] == 0
    assert Prediction.objects.count() > 0

    loans = day_frame("loan-default")
    assert 2000 < len(loans) < 4500  # ~2,000 a day at scale 1
    start = datetime.fromisoformat(version.metadata["scenario"]["start"])
    loans["day"] = (loans["timestamp"] - start) // timedelta(days=1)
    assert loans["day"].between(0, 29).all()
    later = loans["day"] >= 20
    shifts = {name: standardised_shift(loans, name, later) for name in
              ("income", "credit_score", "debt_to_income", "loan_amount", "age", "num_late_payments")}  # fmt: skip
    assert shifts["income"] < -0.5 and shifts["credit_score"] < -0.5, shifts
    assert all(abs(v) < 0.2 for k, v in shifts.items() if k not in ("income", "credit_score")), shifts

    null_share = loans["employment_years"].isna().groupby(loans["day"]).mean()
    assert version.metadata["scenario"]["null_day"] == 27  # the day before yesterday
    assert 0.25 < null_share[27] < 0.55
    assert null_share.drop(27).max() == 0

    labels = pd.DataFrame(Label.objects.filter(model__slug="loan-default").values("request_id", "value", "timestamp"))
    joined = labels.merge(loans[["request_id", "timestamp", "day"]], on="request_id", suffixes=("", "_pred"))
    assert len(joined) == len(labels) < len(loans)
    delay = (joined["timestamp"] - joined["timestamp_pred"]) / timedelta(days=1)
    assert delay.between(2, 5).all()
    assert not joined["day"].isin([28, 29]).any()  # the last two days have no labels yet
    assert joined["day"].isin([25, 26]).any()

    # Concept shift: in the last week the served decisions are wrong far more often.
    stored = pd.DataFrame(Prediction.objects.filter(model__slug="loan-default", served=True)
                          .values("request_id", "prediction"))
    joined = joined.merge(stored, on="request_id")
    correct = joined["prediction"] == joined["value"]
    assert correct[joined["day"] >= 23].mean() < correct[joined["day"] < 20].mean() - 0.05

    # The shadow version: retrained after the concept shift, logging the last days' requests
    # next to production, with its own reference data and artifact; better on the labelled pairs.
    shadow = ModelVersion.objects.get(model__slug="loan-default", stage="shadow")
    assert ModelArtifact.objects.filter(version=shadow).exists()
    assert ReferenceRow.objects.filter(version=shadow).count() >= 500
    logged = Prediction.objects.filter(version=shadow)
    assert not logged.filter(served=True).exists()
    assert logged.count() == (loans["day"] >= 25).sum() > 300
    pairs = paired_predictions(model=version.model, version_a=version, version_b=shadow)
    assert len(pairs) == logged.count() and pairs.labelled.sum() > 50
    y = pairs.label[pairs.labelled]
    auc = [roc_auc_score(y, scores[pairs.labelled]) for scores in (pairs.score_a, pairs.score_b)]
    assert auc[1] > auc[0] + 0.05, auc

    recs = Prediction.objects.filter(model__slug="product-recs")
    assert recs.count() > 500 and not recs.filter(item_id__isnull=True).exists()
    assert recs.filter(item_id__startswith="sku-").count() == recs.count()
    assert recs.values("entity_id").distinct().count() > 10
    assert ReferenceRow.objects.filter(version__model__slug="product-recs").exists()
    delivery = Prediction.objects.filter(model__slug="delivery-time")
    assert delivery.count() > 500 and Label.objects.filter(model__slug="delivery-time").count() > 500

    for username, password, group in (("admin", "vigil-admin", "Admins"),
                                      ("scientist", "vigil-scientist", "Data scientists"),
                                      ("agent", "vigil-agent", "Support agents")):  # fmt: skip
        user = authenticate(username=username, password=password)
        assert user is not None and user.groups.filter(name=group).exists()
    assert authenticate(username="admin", password="vigil-admin").is_superuser

    counts = (Prediction.objects.count(), Label.objects.count())
    capsys.readouterr()
    call_command("seed_demo", url=live_server.url, scale=0.05, days=30, no_metrics=True)
    assert "already seeded" in capsys.readouterr().out
    assert (Prediction.objects.count(), Label.objects.count()) == counts


def test_label_values_follow_the_tasks():
    loan, delivery, recs = build_scenario(now=NOW, scale=0.02)
    assert set(loan.labels["label"]) == {0, 1}
    assert delivery.labels["label"].dtype.kind == "f" and (delivery.labels["label"] > 0).all()
    assert set(np.unique(recs.predictions["prediction"])) == {1, 2, 3, 4, 5}
