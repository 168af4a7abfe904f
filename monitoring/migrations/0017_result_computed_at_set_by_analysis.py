import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    """computed_at is set by the analysis (under the version's lock), no longer by auto_now: no SQL."""

    dependencies = [
        ("monitoring", "0016_model_raw_retention"),
    ]

    operations = [
        migrations.AlterField(
            model_name="analysisresult",
            name="computed_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
    ]
