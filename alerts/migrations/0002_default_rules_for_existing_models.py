from django.db import migrations

DEFAULT_RULES = [
    ("Performance fell", "performance", "critical", 1),
    ("Concept drift", "concept_drift", "critical", 1),
    ("No data", "no_data", "critical", 2),
    ("Input drift", "drift", "warning", 2),
    ("Data quality", "quality", "warning", 2),
    ("Volume anomaly", "volume", "warning", 2),
    ("Estimated performance fell", "estimated_performance", "warning", 2),
    ("Prediction drift", "prediction_drift", "info", 2),
]


def forwards(apps, schema_editor):
    MLModel = apps.get_model("monitoring", "MLModel")
    AlertRule = apps.get_model("alerts", "AlertRule")
    for model in MLModel.objects.filter(alert_rules__isnull=True):
        for name, kind, severity, n in DEFAULT_RULES:
            AlertRule.objects.create(model=model, name=name, kind=kind, severity=severity, for_windows=n,
                                     threshold="learned", recipients=["subscribers"])


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
