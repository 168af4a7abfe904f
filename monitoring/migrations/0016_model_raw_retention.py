"""Per-model retention of raw prediction rows, and the boundary retention has reached."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0015_prediction_partitioned")]

    operations = [
        migrations.AddField(
            model_name="mlmodel", name="raw_retention_days",
            field=models.PositiveIntegerField(db_default=90, default=90),
        ),
        migrations.AddField(
            model_name="mlmodel", name="raw_purged_before", field=models.DateTimeField(blank=True, null=True),
        ),
    ]
