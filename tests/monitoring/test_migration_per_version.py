"""Migration 0010: existing predictions keep their rows and become served; the key admits a shadow row."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("monitoring", "0009_time_field_names")]
AFTER = [("monitoring", "0010_prediction_per_version")]
INSERT = """
INSERT INTO monitoring_prediction (model_id, version_id, request_id, "timestamp", features, score, received_at)
VALUES (%s, %s, %s, now(), '{}', 0.5, now())
"""


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_existing_rows_survive_as_served_and_a_second_version_may_log_the_request():
    from monitoring.models import MLModel, ModelVersion

    model = MLModel.objects.create(slug="m", name="M", task="binary_classification")
    v1 = ModelVersion.objects.create(model=model, version="v1", stage="production")
    v2 = ModelVersion.objects.create(model=model, version="v2", stage="shadow")
    try:
        migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute(INSERT, [model.pk, v1.pk, "r-1"])
            cursor.execute(INSERT, [model.pk, v1.pk, "r-2"])
            with pytest.raises(IntegrityError), transaction.atomic():  # the old key: one row per request
                cursor.execute(INSERT, [model.pk, v2.pk, "r-1"])
    finally:
        migrate(AFTER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT request_id, served FROM monitoring_prediction ORDER BY request_id")
        assert cursor.fetchall() == [("r-1", True), ("r-2", True)]
        cursor.execute(INSERT, [model.pk, v2.pk, "r-1"])
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute(INSERT, [model.pk, v1.pk, "r-1"])
        cursor.execute("SELECT count(*) FROM monitoring_prediction WHERE request_id = 'r-1'")
        assert cursor.fetchone()[0] == 2
