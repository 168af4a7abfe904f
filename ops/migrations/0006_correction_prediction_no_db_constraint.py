"""The prediction table becomes partitioned (monitoring 0015): a foreign key can no longer
reference its ``id`` alone, and retention drops predictions whose corrections are kept."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0005_review_queue"),
        ("monitoring", "0014_prediction_slate_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="correction",
            name="prediction",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                to="monitoring.prediction",
            ),
        ),
    ]
