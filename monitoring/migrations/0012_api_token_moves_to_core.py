"""ApiToken now lives in core (core 0001): drop it from monitoring's state, keep its table and rows."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0011_api_token_expires_at"),
        ("core", "0001_api_token_moves_to_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ApiToken")],
            database_operations=[],
        ),
    ]
