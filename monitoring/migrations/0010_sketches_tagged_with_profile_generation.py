"""Sketches tagged with the generation of the reference profile they were binned with."""

from django.db import migrations, models

# Existing data: every profile is generation 1 and its sketches were re-folded for it
# (the old code could leave them stale only after a killed worker, which nothing recorded).
TAG_EXISTING = """
UPDATE monitoring_reference_profile SET sketches_generation = generation;
UPDATE monitoring_window_sketch ws SET binned_with = 1
 WHERE ws.binned AND EXISTS (SELECT 1 FROM monitoring_reference_profile rp WHERE rp.version_id = ws.version_id);
UPDATE monitoring_sketch_partial p SET binned_with = 1
 WHERE p.binned AND EXISTS (SELECT 1 FROM monitoring_reference_profile rp WHERE rp.version_id = p.version_id);
"""


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0009_time_field_names")]

    operations = [
        migrations.AddField(
            model_name="referenceprofile", name="generation", field=models.PositiveIntegerField(default=1)
        ),
        migrations.AddField(
            model_name="referenceprofile", name="sketches_generation", field=models.PositiveIntegerField(null=True)
        ),
        migrations.AddField(
            model_name="sketchpartial", name="binned_with", field=models.PositiveIntegerField(null=True)
        ),
        migrations.AddField(
            model_name="windowsketch", name="binned_with", field=models.PositiveIntegerField(null=True)
        ),
        migrations.RunSQL(TAG_EXISTING, migrations.RunSQL.noop),
    ]
