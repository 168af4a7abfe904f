"""ApiToken moves from monitoring to core without touching its table (monitoring_api_token).

The model enters core's state only; monitoring's next migration drops it from monitoring's state
only. On a database that already had the model, its content type is relabelled so the permissions
granted on it and the admin's history follow the model instead of going stale.
"""

import django.contrib.postgres.fields
from django.db import migrations, models


def relabel_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label="core", model="apitoken").exists():
        return
    ContentType.objects.filter(app_label="monitoring", model="apitoken").update(app_label="core")


def unrelabel_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label="monitoring", model="apitoken").exists():
        return
    ContentType.objects.filter(app_label="core", model="apitoken").update(app_label="monitoring")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        # The table is created (and its last column added) by these monitoring migrations.
        ("monitoring", "0011_api_token_expires_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiToken",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("name", models.CharField(max_length=100, unique=True)),
                        ("prefix", models.CharField(editable=False, max_length=12)),
                        ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                        (
                            "scopes",
                            django.contrib.postgres.fields.ArrayField(
                                base_field=models.CharField(max_length=16), default=list, size=None
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        ("revoked_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "monitoring_api_token",
                        "ordering": ["name"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_type, unrelabel_content_type),
    ]
