"""A review item keeps what reviewing and the batch estimates read of its prediction (version,
time, score, decision, features), so it still shows and counts once retention drops the raw
row. Existing items are filled in from their predictions; one whose row was already gone
keeps nulls (it is shown and counted as reviewed, without a decision)."""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
SET CONSTRAINTS ALL IMMEDIATE;
UPDATE ops_review_item i
   SET version_id = p.version_id, predicted_at = p."timestamp", score = p.score, decision = p.prediction,
       features = p.features
  FROM monitoring_prediction p
 WHERE p.id = i.prediction_id;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0006_correction_prediction_no_db_constraint"),
        ("monitoring", "0016_model_raw_retention"),
    ]

    operations = [
        migrations.AddField(
            model_name="reviewitem", name="version",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="monitoring.modelversion"),
        ),
        migrations.AddField(model_name="reviewitem", name="predicted_at", field=models.DateTimeField(null=True)),
        migrations.AddField(model_name="reviewitem", name="score", field=models.FloatField(null=True)),
        migrations.AddField(model_name="reviewitem", name="decision", field=models.JSONField(null=True)),
        migrations.AddField(model_name="reviewitem", name="features", field=models.JSONField(null=True)),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
