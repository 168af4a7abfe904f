"""Prediction rows may name their slate (the items shown together for one request), so that
ranking models get per-slate metrics. Nullable, no default: adding it rewrites nothing."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0013_prediction_per_version")]

    operations = [
        migrations.AddField(
            model_name="prediction", name="slate_id", field=models.CharField(max_length=200, null=True)
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("slate_id__isnull", False)), fields=["model", "slate_id"], name="pred_model_slate"
            ),
        ),
    ]
