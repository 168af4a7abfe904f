"""An explanation keeps what its API and page show of the prediction (model, version,
request_id, time, score, decision, served, features), so it stays reachable once retention
drops the raw row.

Existing explanations are filled in from their predictions. One whose prediction retention
already dropped (possible only between monitoring 0016 and this migration) cannot be: no
lookup could reach it (every lookup went through the prediction), and its request_id is gone
with the row, so it is deleted.
"""

import django.db.models.deletion
from django.db import migrations, models

# Checks of the new foreign keys run now, not at commit: ALTER TABLE below refuses a table
# with pending trigger events.
BACKFILL = """
SET CONSTRAINTS ALL IMMEDIATE;
UPDATE explain_explanation e
   SET model_id = p.model_id, version_id = p.version_id, request_id = p.request_id, predicted_at = p."timestamp",
       score = p.score, decision = p.prediction, served = p.served, features = p.features
  FROM monitoring_prediction p
 WHERE p.id = e.prediction_id;
DELETE FROM explain_explanation WHERE request_id IS NULL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("explain", "0003_explanation_prediction_no_db_constraint"),
        ("monitoring", "0016_model_raw_retention"),
    ]

    fields = {
        "model": (models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="monitoring.mlmodel"),
                  models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="monitoring.mlmodel")),
        "version": (models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                      to="monitoring.modelversion"),
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                      to="monitoring.modelversion")),
        "request_id": (models.CharField(max_length=200, null=True), models.CharField(max_length=200)),
        "predicted_at": (models.DateTimeField(null=True), models.DateTimeField()),
        "score": (models.FloatField(null=True), models.FloatField()),
        "served": (models.BooleanField(null=True), models.BooleanField()),
        "features": (models.JSONField(null=True), models.JSONField()),
    }

    operations = [
        *[migrations.AddField(model_name="explanation", name=name, field=field)
          for name, (field, _) in fields.items()],
        migrations.AddField(model_name="explanation", name="decision", field=models.JSONField(null=True)),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        *[migrations.AlterField(model_name="explanation", name=name, field=required)
          for name, (_, required) in fields.items()],
        migrations.AddIndex(model_name="explanation",
                            index=models.Index(fields=["model", "request_id"], name="explanation_model_request")),
    ]
