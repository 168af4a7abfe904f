"""Settings and HTTP hardening (issue 10 items 3 and 18, issue 9's settings items)."""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

BASE_DIR = Path(__file__).resolve().parent.parent


def settings_in_subprocess(env_changes: dict[str, str | None], *names: str) -> subprocess.CompletedProcess:
    """Import config.settings in a fresh interpreter with ``env_changes``; print ``names`` as JSON."""
    env = dict(os.environ)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["ture", "flase", "2", "enabled"])
def test_a_mistyped_boolean_is_an_error_naming_the_variable(monkeypatch, value):
    from config.env import envbool

    monkeypatch.setenv("VIGIL_SOME_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match=r"VIGIL_SOME_FLAG='.*' is not a boolean"):
        envbool("VIGIL_SOME_FLAG")


@pytest.mark.parametrize(("value", "expected"), [("True", True), ("yes", True), ("1", True), ("off", False), ("0", False)])
def test_booleans_still_read(monkeypatch, value, expected):
    from config.env import envbool

    monkeypatch.setenv("VIGIL_SOME_FLAG", value)
    assert envbool("VIGIL_SOME_FLAG") is expected


def test_a_mistyped_number_is_an_error_naming_the_variable(monkeypatch):
    from config.env import envint

    monkeypatch.setenv("VIGIL_SOME_NUMBER", "30s")
    with pytest.raises(ImproperlyConfigured, match="VIGIL_SOME_NUMBER='30s' is not an integer"):
        envint("VIGIL_SOME_NUMBER", "1")


def test_debug_typo_stops_the_start():
    result = settings_in_subprocess({"DEBUG": "ture"}, "DEBUG")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = settings_in_subprocess({"SECRET_KEY": None, "DEBUG": "False"}, "SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr
    # Development (DEBUG on) still starts with no key.
    result = settings_in_subprocess({"SECRET_KEY": None, "DEBUG": "True"}, "DEBUG")
    assert result.returncode == 0, result.stderr


def test_compose_has_no_known_secret_key():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    value = compose["x-app"]["environment"]["SECRET_KEY"]
    # ${VAR:?message} makes compose refuse to start when SECRET_KEY is unset or empty.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", value), value


def test_settings_are_read_once_not_with_repeated_defaults():
    offenders = []
    for folder in ("config", "core", "monitoring", "explain", "ops"):
        for path in (BASE_DIR / folder).rglob("*.py"):
            text = path.read_text()
            for match in re.finditer(r"getattr\(\s*settings\s*,", text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(BASE_DIR)}:{line}")
    assert offenders == [], "define the setting in config/settings.py and read settings.X"


def test_behind_a_tls_proxy_cookies_are_secure_and_hsts_is_on():
    names = ("SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
             "CSRF_COOKIE_HTTPONLY", "SECURE_HSTS_SECONDS")  # fmt: skip
    result = settings_in_subprocess({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto", "DEBUG": "False"}, *names)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is values["CSRF_COOKIE_HTTPONLY"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 15_552_000
    # Plain http on a laptop (make run): cookies must not be Secure or logging in would fail.
    result = settings_in_subprocess({"SECURE_PROXY_SSL_HEADER": None, "SITE_URL": "http://127.0.0.1:8000"},
                                    "SESSION_COOKIE_SECURE")  # fmt: skip
    assert json.loads(result.stdout)["SESSION_COOKIE_SECURE"] is False


# --- headers and cookies -------------------------------------------------------------------


@pytest.fixture
def user(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return User.objects.create_user("sam", password="right-password")


@pytest.mark.django_db
def test_pages_carry_csp_and_frame_protection(client, settings):
    assert settings.DEBUG is False
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline scripts, no eval
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_https_through_the_proxy_gets_hsts_and_secure_httponly_cookies(client, user, settings):
    # The values a deployment behind a TLS proxy gets (checked in the subprocess test above).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    page = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert page["Strict-Transport-Security"].startswith("max-age=")
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"]
    response = client.post("/accounts/login/", {"username": "sam", "password": "right-password"},
                           HTTP_X_FORWARDED_PROTO="https")  # fmt: skip
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    # Plain http (no proxy header): no HSTS, which browsers would ignore anyway.
    assert "Strict-Transport-Security" not in client.get("/accounts/login/")


@pytest.mark.django_db
def test_api_docs_run_no_inline_script(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    inline = [m for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", html) if "application/json" not in m[0]]
    assert inline == [], inline


def test_templates_have_no_inline_script():
    """The CSP allows scripts from /static/ only: a template with inline JS would break in browsers."""
    offenders = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{path.relative_to(BASE_DIR)}: {tag}")
        if re.search(r"\son[a-z]+=\"", path.read_text()):
            offenders.append(f"{path.relative_to(BASE_DIR)}: inline event handler")
    assert offenders == []


# --- login throttling ------------------------------------------------------------------------


@pytest.mark.django_db
def test_thirty_wrong_passwords_lock_the_login_out(client, user):
    for _ in range(30):
        response = client.post("/accounts/login/", {"username": "sam", "password": "wrong"})
        assert response.status_code in (200, 429)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    # Locked out: even the right password does not log in now.
    response = client.post("/accounts/login/", {"username": "sam", "password": "right-password"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Other users (and this user from elsewhere) are not affected.
    User.objects.create_user("kim", password="kims-password")
    response = client.post("/accounts/login/", {"username": "kim", "password": "kims-password"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_few_typos_do_not_lock_out(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/login/", {"username": "sam", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "sam", "password": "right-password"})
    assert response.status_code == 302


# --- API token expiry --------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_token_with_an_expiry(capsys):
    from core.models import ApiToken

    call_command("create_api_token", "short-lived", "--scopes", "read", "--expires-in-days", "3")
    capsys.readouterr()
    token = ApiToken.objects.get(name="short-lived")
    assert abs(token.expires_at - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)
    call_command("create_api_token", "forever", "--scopes", "read")
    assert ApiToken.objects.get(name="forever").expires_at is None


@pytest.mark.django_db
def test_create_api_token_refuses_a_non_positive_expiry():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="expires-in-days"):
        call_command("create_api_token", "odd", "--scopes", "read", "--expires-in-days", "0")


@pytest.mark.django_db
def test_an_expired_token_is_refused(api_client, settings):
    from core.models import ApiToken
    from core.services.tokens import api_token_create

    settings.VIGIL_TOKEN_CACHE_SECONDS = 0
    token, key = api_token_create(name="expiring", scopes=["read"], expires_in_days=1)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/models/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api_client.get("/api/v1/models/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


# --- /healthz ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_200_with_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, monkeypatch, tmp_path):
    from config.celery import app

    monkeypatch.setattr(app.conf, "broker_write_url", f"redis+socket://{tmp_path}/gone.sock")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"].startswith("unreachable") and body["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch, tmp_path):
    from django.db import connection

    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", str(tmp_path))  # no server listens there
    monkeypatch.setitem(connection.settings_dict, "PORT", "")
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")


def test_django_system_checks_pass_without_warnings():
    # A warning here (e.g. a JSONField with a shared mutable default) is printed by every
    # manage.py command, make run included: fail on it instead of getting used to it.
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


def test_no_chart_needs_webgl():
    # plotly's "gl" traces draw nothing in a browser without WebGL (GPU-less VMs, remote
    # desktops, headless Chromium): the chart becomes a "WebGL is not supported" notice.
    apps = ("core", "monitoring", "explain", "ops", "alerts", "lifecycle", "static", "templates")
    found = [str(path.relative_to(BASE_DIR)) for app in apps for path in (BASE_DIR / app).rglob("*")
             if path.suffix in (".py", ".js", ".html") and re.search(r"scattergl|\"type\": \"\w+gl\"|heatmapgl",
                                                                    path.read_text(errors="ignore"))]
    assert not found, f"WebGL traces in {found}"
