# A request may be logged once per version (shadow next to production): the idempotency key
# becomes (model, version, request_id). Existing rows are one per request, so they all were
# the served decision and satisfy the new key as they are. Decisions and labels get a numeric
# copy (monitoring.engine.coding) for paired comparisons, filled here from the JSON values.

from django.db import migrations, models

NUMBER = """CASE jsonb_typeof({0}) WHEN 'number' THEN ({0} #>> '{{}}')::float8
                                   WHEN 'boolean' THEN ({0} = 'true'::jsonb)::int::float8 END"""
CLASS = "array_position(%s::text[], {0} #>> '{{}}') - 1"


def fill_codes(apps, schema_editor):
    MLModel = apps.get_model("monitoring", "MLModel")
    ModelVersion = apps.get_model("monitoring", "ModelVersion")
    with schema_editor.connection.cursor() as cursor:
        for model in MLModel.objects.all():
            params: list = []
            predicted, labelled = NUMBER.format("prediction"), NUMBER.format("value")
            if model.task == "multiclass_classification":
                classes: dict[str, None] = {}
                for declared in ModelVersion.objects.filter(model=model).order_by("created_at").values_list(
                        "classes", flat=True):
                    classes.update(dict.fromkeys(str(c) for c in declared or []))
                params = [list(classes)]
                predicted, labelled = CLASS.format("prediction"), CLASS.format("value")
            cursor.execute(f"UPDATE monitoring_prediction SET decision_code = {predicted} "
                           "WHERE model_id = %s AND prediction IS NOT NULL", [*params, model.pk])
            cursor.execute(f"UPDATE monitoring_label SET value_code = {labelled} WHERE model_id = %s",
                           [*params, model.pk])


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
        migrations.AddField(
            model_name="prediction",
            name="decision_code",
            field=models.FloatField(null=True),
        ),
        migrations.AddField(
            model_name="label",
            name="value_code",
            field=models.FloatField(null=True),
        ),
        migrations.RunPython(fill_codes, migrations.RunPython.noop),
        # The new key before dropping the old one: ingestion keeps an arbiter throughout.
        migrations.AddConstraint(
            model_name="prediction",
            constraint=models.UniqueConstraint(
                fields=("model", "version", "request_id"), name="uniq_prediction_version_request",
                include=("timestamp", "score", "decision_code"),
            ),
        ),
        migrations.RemoveConstraint(
            model_name="prediction",
            name="uniq_prediction_request",
        ),
    ]
