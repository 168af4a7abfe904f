import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_served(api_client):
    response = api_client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content


@pytest.mark.django_db
def test_docs_page_uses_no_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"cdn." not in response.content and b"unpkg" not in response.content


@pytest.mark.django_db
def test_unknown_api_path_is_json_404(api_client):
    response = api_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.django_db
def test_roles_created_by_migration():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Data scientists",
        "Support agents",
        "Admins",
    }


@pytest.mark.django_db
def test_create_api_token_prints_key_once_and_stores_hash(capsys):
    from core.models import ApiToken
    from core.models.tokens import hash_key

    call_command("create_api_token", "serving", "--scopes", "ingest,read")
    key = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="serving")
    assert key.startswith("vgl_") and token.key_hash == hash_key(key)
    assert key not in (token.prefix + token.key_hash)
    assert sorted(token.scopes) == ["ingest", "read"]


@pytest.mark.django_db(transaction=True)
def test_roles_and_grants_survive_a_flush():
    # Transactional tests (and `manage.py flush`) empty every table; roles must come back.
    from django.contrib.auth.models import Group

    call_command("flush", interactive=False, verbosity=0)
    agents = Group.objects.get(name="Support agents")
    assert Group.objects.filter(name__in=["Data scientists", "Admins"]).count() == 2
    assert agents.permissions.filter(codename="act_on_overrides").exists()
    assert not Group.objects.get(name="Data scientists").permissions.filter(codename="act_on_overrides").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("group", "landing"),
    [("Data scientists", "/"), ("Support agents", "/ops/"), ("Admins", "/")],
)
def test_login_lands_each_role_on_its_home(client, django_user_model, group, landing):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("u", password="pw-123456")
    user.groups.add(Group.objects.get(name=group))
    response = client.post("/accounts/login/", {"username": "u", "password": "pw-123456"}, follow=True)
    assert response.redirect_chain[-1][0] == landing
    nav = response.content.decode()
    assert ('href="/" ' in nav) == (group != "Support agents")


@pytest.mark.django_db
def test_revoked_token_is_refused_once_the_lookup_cache_expires(api_client, make_token, settings):
    import time

    from django.utils import timezone

    from core.models import ApiToken

    settings.VIGIL_TOKEN_CACHE_SECONDS = 1
    key = make_token("read")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/models/").status_code == 200
    ApiToken.objects.filter(name__startswith="test-").update(revoked_at=timezone.now())
    time.sleep(1.1)
    response = api_client.get("/api/v1/models/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@pytest.mark.django_db
def test_unknown_and_malformed_tokens_get_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token vgl_not-a-real-key")
    assert api_client.get("/api/v1/models/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert api_client.get("/api/v1/models/").status_code == 401
