"""The prediction table becomes partitioned (monitoring 0015): a foreign key can no longer
reference its ``id`` alone, and retention drops predictions whose explanations are kept."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("explain", "0002_time_field_names"),
        ("monitoring", "0014_prediction_slate_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="explanation",
            name="prediction",
            field=models.OneToOneField(
                db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name="explanation",
                to="monitoring.prediction",
            ),
        ),
    ]
