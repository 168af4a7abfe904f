"""Migration 0010: existing predictions keep their rows and become served; the key admits a shadow row."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("monitoring", "0009_time_field_names")]
AFTER = [("monitoring", "0010_prediction_per_version")]
INSERT = """
INSERT INTO monitoring_prediction (model_id, version_id, request_id, "timestamp", features, score, prediction,
                                   received_at)
VALUES (%s, %s, %s, now(), '{}', 0.5, %s, now())
"""
LABEL = """
INSERT INTO monitoring_label (model_id, request_id, value, "timestamp", received_at, human_corrected)
VALUES (%s, %s, %s, now(), now(), false)
"""


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_existing_rows_survive_as_served_with_codes_and_a_second_version_may_log_the_request():
    from monitoring.models import MLModel, ModelVersion

    model = MLModel.objects.create(slug="m", name="M", task="binary_classification")
    v1 = ModelVersion.objects.create(model=model, version="v1", stage="production")
    v2 = ModelVersion.objects.create(model=model, version="v2", stage="shadow")
    tickets = MLModel.objects.create(slug="t", name="T", task="multiclass_classification")
    t1 = ModelVersion.objects.create(model=tickets, version="t1", classes=["low", "high"])
    try:
        migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute(INSERT, [model.pk, v1.pk, "r-1", "1"])
            cursor.execute(INSERT, [model.pk, v1.pk, "r-2", "false"])
            cursor.execute(INSERT, [model.pk, v1.pk, "r-3", None])
            cursor.execute(INSERT, [tickets.pk, t1.pk, "r-1", '"high"'])
            cursor.execute(LABEL, [model.pk, "r-1", "0"])
            cursor.execute(LABEL, [tickets.pk, "r-1", '"low"'])
            with pytest.raises(IntegrityError), transaction.atomic():  # the old key: one row per request
                cursor.execute(INSERT, [model.pk, v2.pk, "r-1", None])
    finally:
        migrate(AFTER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT model_id, request_id, served, decision_code FROM monitoring_prediction "
                       "ORDER BY model_id, request_id")
        assert cursor.fetchall() == [(model.pk, "r-1", True, 1.0), (model.pk, "r-2", True, 0.0),
                                     (model.pk, "r-3", True, None), (tickets.pk, "r-1", True, 1.0)]
        cursor.execute("SELECT model_id, value_code FROM monitoring_label ORDER BY model_id")
        assert cursor.fetchall() == [(model.pk, 0.0), (tickets.pk, 0.0)]
        cursor.execute(INSERT, [model.pk, v2.pk, "r-1", None])
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(INSERT, [model.pk, v1.pk, "r-1", None])
        cursor.execute("SELECT count(*) FROM monitoring_prediction WHERE model_id = %s AND request_id = 'r-1'", [model.pk])
        assert cursor.fetchone()[0] == 2
