"""An explanation stored before retention dropped its raw row stays reachable: the API answers
with the same body, the prediction page shows it and says the raw row is gone; and explain/0004
fills in what older explanations keep of their predictions."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.roles import DATA_SCIENTISTS
from explain.models import Explanation
from explain.services import artifact_upload
from monitoring.models import Prediction
from monitoring.services.compaction import week_start
from monitoring.services.partitions import partition_ensure, partition_name, partitions_list
from monitoring.services.retention import retention_apply

from . import factories as f

DATA = f.rows(200)
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
AFTER_RETENTION = START + dt.timedelta(days=120)  # the week is past the default 90 days


@pytest.fixture
def explained(client_with):
    partition_ensure(start=START)
    version = f.make_version(metadata={"score_label": "the default risk"})
    text, booster = f.lightgbm_text(DATA)
    served = f.rows(3, seed=11)
    predictions = f.add_predictions(version, served, booster.predict(f.frame(served)), START)
    artifact_upload(version=version, data=text.encode())
    response = client_with("read").get("/api/v1/models/loan/predictions/r-1/explanation/")
    assert response.status_code == 200, response.json()
    return version, predictions, response.json()


@pytest.mark.django_db
def test_the_explanation_answers_the_same_after_retention_drops_its_row(explained, client_with, client):
    version, predictions, body = explained
    steps = retention_apply(now=AFTER_RETENTION)
    week = partition_name(week_start(START))
    assert ("drop", week, True) in [(s.kind, s.table, s.done) for s in steps]
    assert not Prediction.objects.exists() and week not in {p["name"] for p in partitions_list()}

    api = client_with("read")
    again = api.get("/api/v1/models/loan/predictions/r-1/explanation/")
    assert again.status_code == 200 and again.json() == body
    assert api.get("/api/v1/models/loan/predictions/r-1/explanation/", {"version": "v1"}).json() == body
    # No explanation was stored for r-0: nothing to answer with, and the 404 says why.
    gone = api.get("/api/v1/models/loan/predictions/r-0/explanation/")
    assert gone.status_code == 404 and "removed by retention" in gone.json()["detail"]
    assert api.get("/api/v1/models/loan/predictions/r-1/explanation/", {"version": "v2"}).status_code == 404

    scientist = User.objects.create_user("sci", password="pw")
    scientist.groups.add(Group.objects.get(name=DATA_SCIENTISTS))
    client.force_login(scientist)
    page = client.get("/models/loan/predictions/r-1/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="raw-removed"' in text and "Raw row removed by retention" in text
    assert "before 2026-11-02 00:00 UTC were removed by retention" in text  # the week dropped ends then
    assert f"{predictions[1].score:.4f}" in text and "2026-11-01 00:01:00" in text
    for name, value in predictions[1].features.items():
        assert name in text and str(value if not isinstance(value, float) else f"{value:.6g}") in text
    assert 'id="chart-waterfall"' in text or "waterfall" in text
    assert client.get("/models/loan/predictions/r-0/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_in_what_older_explanations_keep(client_with):
    executor = MigrationExecutor(connection)
    executor.migrate([("explain", "0003_explanation_prediction_no_db_constraint")])
    try:
        version = f.make_version()
        text, booster = f.lightgbm_text(DATA)
        served = f.rows(2, seed=11)
        kept, dropped = f.add_predictions(version, served, booster.predict(f.frame(served)), START)
        with connection.cursor() as cur:
            cur.execute("INSERT INTO explain_modelartifact (version_id, file, sha256, format, size, explainer, link, "
                        "checks, current, uploaded_by, created_at) VALUES (%s, 'a', %s, 'lightgbm', 1, 'tree', "
                        "'logit', '{}', true, '', now()) RETURNING id", [version.pk, "0" * 64])
            artifact_id = cur.fetchone()[0]
            for prediction in (kept, dropped):
                cur.execute("INSERT INTO explain_explanation (prediction_id, artifact_id, explainer, link, base_value, "
                            "output, additivity_error, contributions, created_at) VALUES (%s, %s, 'tree', 'logit', 0, "
                            "0.5, 0, '[]', now())", [prediction.pk, artifact_id])
            # A row retention dropped before this migration: its explanation cannot be filled in.
            cur.execute("DELETE FROM monitoring_prediction WHERE id = %s", [dropped.pk])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    explanation = Explanation.objects.get()
    assert (explanation.prediction_id, explanation.model_id, explanation.version_id, explanation.request_id) == (
        kept.pk, version.model_id, version.pk, kept.request_id)
    assert (explanation.predicted_at, explanation.score, explanation.served, explanation.features) == (
        kept.timestamp, kept.score, True, kept.features)
