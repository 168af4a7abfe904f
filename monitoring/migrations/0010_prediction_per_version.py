# A request may be logged once per version (shadow next to production): the idempotency key
# becomes (model, version, request_id). Existing rows are one per request, so they all were
# the served decision and satisfy the new key as they are.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("monitoring", "0009_time_field_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="served",
            field=models.BooleanField(default=True, db_default=True),
        ),
        # The new key before dropping the old one: ingestion keeps an arbiter throughout.
        migrations.AddConstraint(
            model_name="prediction",
            constraint=models.UniqueConstraint(
                fields=("model", "version", "request_id"), name="uniq_prediction_version_request",
                include=("timestamp", "score", "prediction"),
            ),
        ),
        migrations.RemoveConstraint(
            model_name="prediction",
            name="uniq_prediction_request",
        ),
    ]
