"""ApiToken moved from monitoring to core with its table and rows kept: a database migrated on the
old layout keeps its tokens working, and the permissions granted on the model follow it."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import ApiToken
from core.models.tokens import hash_key

MOVE = ("core", "0001_api_token_moves_to_core")


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return MigrationExecutor(connection)


def test_the_model_lives_in_core_on_the_old_table():
    assert ApiToken._meta.app_label == "core"
    assert ApiToken._meta.db_table == "monitoring_api_token"


@pytest.mark.django_db(transaction=True)
def test_a_token_made_before_the_move_still_authenticates_after_it(api_client):
    executor = MigrationExecutor(connection)
    # The monitoring migration core's first one builds on: the last with the model in monitoring.
    (before,) = [dep for dep in executor.loader.get_migration(*MOVE).dependencies if dep[0] == "monitoring"]
    latest = executor.loader.graph.leaf_nodes()
    granted = Group.objects.get(name="Admins")
    granted.permissions.add(Permission.objects.get(content_type__app_label="core", codename="change_apitoken"))

    executor = _migrate([("core", None), before])
    old_apps = executor.loader.project_state(before).apps
    with pytest.raises(LookupError):
        old_apps.get_model("core", "ApiToken")
    key = "vgl_made-on-the-old-layout"
    old_apps.get_model("monitoring", "ApiToken").objects.create(
        name="old-serving", prefix=key[:10], key_hash=hash_key(key), scopes=["read"]
    )
    assert ContentType.objects.filter(app_label="monitoring", model="apitoken").exists()

    _migrate(latest)
    token = ApiToken.objects.get(name="old-serving")
    assert token.scopes == ["read"] and token.last_used_at is None
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/models/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert not ContentType.objects.filter(app_label="monitoring", model="apitoken").exists()
    assert granted.permissions.filter(content_type__app_label="core", codename="change_apitoken").exists()


@pytest.mark.django_db
def test_no_model_change_is_left_without_a_migration():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
