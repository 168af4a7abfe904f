"""Who may reach what: every URL pattern of the project, for anonymous visitors, each web role and each
API token scope, against the table below. A new URL pattern (or a new method on an API view) without a
row in the table fails this test, so access is decided when a page is added, not discovered later.

"Reached" means the view let the request in (any answer but 401, 403 or a redirect to a login page;
a 400 for the empty body sent to a write endpoint counts as reached). Pages are requested with GET;
API views with every method they define. Nothing may answer 5xx.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from core.roles import ADMINS, DATA_SCIENTISTS, SUPPORT_AGENTS
from core.services.tokens import api_token_create
from monitoring.models import MLModel, ModelVersion, Prediction
from ops.models import Override

from .ops.conftest import T0, ensure_roles

REACHED, LOGIN, FORBIDDEN, UNAUTHENTICATED = "reached", "login", "403", "401"

# Web principals: (username, groups, superuser and staff). "admin" is the demo's admin (superuser).
USERS = {
    "admin": ([ADMINS], True),
    "scientist": ([DATA_SCIENTISTS], False),
    "agent": ([SUPPORT_AGENTS], False),
    "no role": ([], False),
}
SCOPES = ("ingest", "read", "admin", "ops")
PRINCIPALS = ["anonymous", *USERS, *(f"token:{scope}" for scope in SCOPES)]
# The API scopes each web principal's session carries (core.roles.ROLE_SCOPES; H4's decision in
# DECISIONS.md: agents get "ops" only, so they reach through the API what their pages show).
SESSION_SCOPES = {
    "admin": {"ingest", "read", "admin", "ops"},
    "scientist": {"read"},
    "agent": {"ops"},
    "no role": set(),
}


@dataclass(frozen=True)
class Rule:
    """Who reaches a pattern; everyone else gets ``refused`` (per kind of principal)."""

    users: frozenset = frozenset()  # web principals let in
    scopes: frozenset = frozenset()  # API scopes let in (tokens, and sessions through SESSION_SCOPES)
    api: bool = False
    public: bool = False
    staff: bool = False  # the Django admin: staff only, others go to the admin login
    denied_to_staff: bool = False  # the admin refuses even a superuser (read-only models, no autocomplete)

    def expect(self, principal: str) -> str:
        if self.public:
            return REACHED
        is_token = principal.startswith("token:")
        if self.api:
            if principal == "anonymous":
                return UNAUTHENTICATED
            granted = {principal[6:]} if is_token else SESSION_SCOPES[principal]
            return REACHED if granted & self.scopes else FORBIDDEN
        # Pages use the session only: a token header is not a login.
        if principal == "anonymous" or is_token:
            return LOGIN
        if self.staff:
            if principal != "admin":
                return LOGIN
            return FORBIDDEN if self.denied_to_staff else REACHED
        return REACHED if principal in self.users else FORBIDDEN


PUBLIC = Rule(public=True)
LOGGED_IN = Rule(users=frozenset(USERS))
DASHBOARDS = Rule(users=frozenset({"admin", "scientist"}))
CONSOLE = Rule(users=frozenset({"admin", "scientist", "agent"}))
ACT = Rule(users=frozenset({"admin", "agent"}))
ADMINS_ONLY = Rule(users=frozenset({"admin"}))
STAFF = Rule(staff=True)
STAFF_DENIED = Rule(staff=True, denied_to_staff=True)


def scope(*names: str) -> Rule:
    return Rule(api=True, scopes=frozenset(names))


# Keyed by URL name (or by route, for unnamed patterns). API rows map each method to its rule.
TABLE: dict[str, Rule | dict[str, Rule]] = {
    # Site
    "login": PUBLIC,
    "logout": PUBLIC,  # GET answers 405 (logging out is a POST)
    "healthz": PUBLIC,
    "favicon": PUBLIC,
    "home": LOGGED_IN,
    # Dashboards (data scientists and admins)
    "monitoring:overview": DASHBOARDS,
    "monitoring:search": DASHBOARDS,
    "monitoring:model": DASHBOARDS,
    "monitoring:feature": DASHBOARDS,
    "monitoring:version": DASHBOARDS,
    "monitoring:prediction": DASHBOARDS,
    # Ops console: every role views, agents and admins act
    "ops:lookup": CONSOLE,
    "ops:decision": CONSOLE,
    "ops:overrides": CONSOLE,
    "ops:overrides-csv": CONSOLE,
    "ops:audit": CONSOLE,
    "ops:correct": ACT,
    "ops:blacklist": ACT,
    "ops:boost": ACT,
    "ops:revoke": ACT,
    # Lifecycle: data scientists compare; admins promote, roll back and change settings
    "lifecycle:compare": DASHBOARDS,
    "lifecycle:explanations": DASHBOARDS,
    "lifecycle:model-card": DASHBOARDS,
    "lifecycle:version-card": DASHBOARDS,
    "lifecycle:settings": DASHBOARDS,  # admins edit, data scientists read
    # POST-only actions: a GET is a 405 for those who may see the model; only admins' POSTs act
    # (tests/lifecycle/test_pages.py).
    "lifecycle:rollback": DASHBOARDS,
    "lifecycle:promote": DASHBOARDS,
    "lifecycle:gate": DASHBOARDS,
    "lifecycle:threshold": DASHBOARDS,
    # Alerts: data scientists read and act on alerts; admins' edits are checked inside (tests/alerts/)
    "alerts:list": DASHBOARDS,
    "alerts:alert": DASHBOARDS,
    "alerts:act": DASHBOARDS,  # POST only: a GET is a 405 for those who may see it
    "alerts:rules": DASHBOARDS,
    "alerts:rule-new": ADMINS_ONLY,  # admins edit rules; others read them on the rules page
    "alerts:rule-edit": ADMINS_ONLY,
    "alerts:silences": DASHBOARDS,
    "alerts:log": DASHBOARDS,
    "alerts:message": DASHBOARDS,
    "alerts:feedback": PUBLIC,  # a signed one-click link from an email: the token is the credential
    # Review queue: the reviewer permission (agents and admins by default)
    "ops:reviews": ACT,
    "ops:review-batch": ACT,
    "ops:review": ACT,
    "ops:review-pattern": ACT,
    "ops:relabel-undo": ACT,
    # API
    "schema": {"GET": PUBLIC},
    "api-docs": {"GET": PUBLIC},
    "api-models": {"GET": scope("read", "admin"), "POST": scope("admin")},
    "api-model": {"GET": scope("read", "admin")},
    "api-versions": {"GET": scope("read", "admin"), "POST": scope("admin")},
    "api-version": {"GET": scope("read", "admin"), "PATCH": scope("admin")},
    "api-reference": {"POST": scope("ingest")},
    "api-predictions": {"POST": scope("ingest")},
    "api-labels": {"POST": scope("ingest")},
    "api-drift": {"GET": scope("read")},
    "api-performance": {"GET": scope("read")},
    "api-timeseries": {"GET": scope("read")},
    "api-health": {"GET": scope("read")},
    "explain-api:artifact": {"PUT": scope("admin")},
    "explain-api:explanation": {"GET": scope("read")},
    "ops-overrides": {"GET": scope("ops", "read")},
    "ops-rerank": {"POST": scope("ops", "read")},
    "alert-rules": {"GET": scope("read", "admin"), "POST": scope("admin")},
    "alert-rule": {"GET": scope("read", "admin"), "PATCH": scope("admin"), "DELETE": scope("admin")},
    "alerts": {"GET": scope("read", "admin")},
    "silences": {"GET": scope("read", "admin"), "POST": scope("admin")},
    "api-compare": {"GET": scope("read")},
    "api-rollback": {"POST": scope("admin")},
    "api-lifecycle": {"GET": scope("read"), "PATCH": scope("admin")},
    "api-promote": {"POST": scope("admin")},
    "api-threshold": {"GET": scope("read"), "POST": scope("admin")},
    "ops-reviews": {"POST": scope("ops")},
    "ops-review": {"GET": scope("ops")},
    "ops-review-results": {"POST": scope("ops")},
    # Django admin (staff only)
    "admin:index": STAFF,
    "admin:login": PUBLIC,
    "admin:logout": PUBLIC,  # GET: 405 for staff, a redirect to the admin index for everyone else
    "admin:password_change": STAFF,
    "admin:password_change_done": STAFF,
    "admin:jsi18n": STAFF,
    "admin:autocomplete": STAFF_DENIED,  # no model declares autocomplete fields: every query is refused
    "admin:app_list": STAFF,
    "admin:view_on_site": STAFF,
    "admin:auth_user_password_change": STAFF,
    "admin/(?P<url>.*)$": STAFF,
}
# Registered admin models: True where the admin is read-only (add and delete refused to everyone).
ADMIN_MODELS = {
    "auth.group": False,
    "auth.user": False,
    # django-axes' login-lockout records (its admin refuses add; staff may clear a lockout).
    "axes.accessattempt": "no add",
    "axes.accesslog": "no add",
    "axes.accessfailurelog": "no add",
    "django_celery_beat.periodictask": False,
    "django_celery_beat.clockedschedule": False,
    "django_celery_beat.crontabschedule": False,
    "django_celery_beat.solarschedule": False,
    "django_celery_beat.intervalschedule": False,
    "monitoring.mlmodel": False,
    "monitoring.modelversion": False,
    "core.apitoken": "no add",  # keys are only shown by the create_api_token command
    "explain.trustedartifacthash": False,
    "explain.modelartifact": False,
    "explain.importanceflag": False,
    "ops.override": True,
    "ops.correction": True,
    "ops.auditrecord": True,
    "alerts.alertrule": False,
    "alerts.alert": False,
    "alerts.notification": False,
    "alerts.silence": False,
    "alerts.subscription": False,
    "lifecycle.policy": False,
    "lifecycle.event": True,
    "lifecycle.gateevaluation": True,
    "lifecycle.delivery": True,
}
for _key, _read_only in ADMIN_MODELS.items():
    _app, _model = _key.split(".")
    _prefix = f"admin:{_app}_{_model}"
    TABLE[f"{_prefix}_changelist"] = STAFF
    TABLE[f"{_prefix}_add"] = STAFF_DENIED if _read_only else STAFF
    TABLE[f"{_prefix}_history"] = STAFF
    TABLE[f"{_prefix}_delete"] = STAFF_DENIED if _read_only is True else STAFF
    TABLE[f"{_prefix}_change"] = STAFF
    TABLE[f"admin/{_app}/{_model}/<path:object_id>/"] = STAFF  # redirects to the change page


def walk(patterns, prefix: str = "", namespace: str = ""):
    """(route, key, pattern) for every URL pattern, included ones recursively."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield route, (namespace + pattern.name) if pattern.name else route, pattern


def methods_of(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
    if view is None or not hasattr(view, "permission_classes"):
        return ["GET"]  # a page (function view or Django class view)
    return [m.upper() for m in view.http_method_names if hasattr(view, m) and m not in ("options", "head")]


def url_for(route: str, values: dict[str, str]) -> str:
    """A concrete path for a route or a regex pattern, filled with the world's ids."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], path)
    return "/" + path.replace("^", "").replace("$", "")


def outcome(response) -> str:
    location = response.get("Location", "")
    if response.status_code == 401:
        return UNAUTHENTICATED
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code in (301, 302) and ("/accounts/login/" in location or "/admin/login/" in location):
        return LOGIN
    return REACHED


@pytest.fixture
def world(db):
    """The ids every pattern needs: a model with a version, a decision, a feature, an override."""
    ensure_roles()
    loan = MLModel.objects.create(slug="loan-default", name="Loan default", task="binary_classification")
    version = ModelVersion.objects.create(
        model=loan,
        version="v1",
        stage="production",
        threshold=0.5,
        features=[{"name": "income", "type": "numeric"}],
    )
    Prediction.objects.create(
        model=loan, version=version, request_id="loan-0", timestamp=T0, features={"income": 1.0}, score=0.7,
        entity_id="cust-1", received_at=T0,
    )  # fmt: skip
    override = Override.objects.create(
        kind="blacklist", model=None, item_id="sku-1", starts_at=T0, reason="r", created_at=T0
    )
    users = {}
    for name, (groups, superuser) in USERS.items():
        user = User.objects.create_user(username=name.replace(" ", "-"), password="x")
        user.is_superuser = user.is_staff = superuser
        user.save()
        user.groups.add(*Group.objects.filter(name__in=groups))
        users[name] = user
    tokens = {scope_: api_token_create(name=f"access-{scope_}", scopes=[scope_])[1] for scope_ in SCOPES}
    values = {
        "slug": "loan-default", "model_slug": "loan-default", "request_id": "loan-0", "feature": "income",
        "version": "v1", "pk": str(override.pk), "object_id": str(users["admin"].pk), "id": str(users["admin"].pk),
        "app_label": "ops", "url": "no-such-page/", "content_type_id": "1", "token": "not-a-signed-token",
    }  # fmt: skip
    return {"users": users, "tokens": tokens, "values": values}


def client_for(principal: str, world) -> Client:
    client = Client()
    if principal.startswith("token:"):
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {world['tokens'][principal[6:]]}"
    elif principal != "anonymous":
        client.force_login(world["users"][principal])
    return client


def test_every_url_pattern_is_in_the_access_table():
    keys = {key for _, key, _ in walk(get_resolver().url_patterns)}
    missing = sorted(keys - TABLE.keys())
    assert not missing, f"URL patterns with no access rule (add them to TABLE in {__file__}): {missing}"
    stale = sorted(TABLE.keys() - keys)
    assert not stale, f"Access rules for URL patterns that no longer exist: {stale}"


def test_every_principal_reaches_exactly_what_the_table_says(world, settings, capsys):
    settings.VIGIL_TOKEN_CACHE_SECONDS = 0
    checks, mismatches = 0, []
    clients = {principal: client_for(principal, world) for principal in PRINCIPALS}
    for route, key, pattern in walk(get_resolver().url_patterns):
        rule = TABLE[key]
        path = url_for(route, world["values"])
        assert resolve(path).func == pattern.callback, f"{path} does not resolve to {key}"
        methods = rule if isinstance(rule, dict) else {"GET": rule}
        assert set(methods) == set(methods_of(pattern)), (
            f"{key}: table methods {set(methods)} vs view {methods_of(pattern)}"
        )
        for method, method_rule in methods.items():
            for principal in PRINCIPALS:
                send = getattr(clients[principal], method.lower())
                response = (
                    send(path, data="{}", content_type="application/json") if method != "GET" else send(path)
                )
                assert response.status_code < 500, f"{method} {path} as {principal}: {response.status_code}"
                got, expected = outcome(response), method_rule.expect(principal)
                checks += 1
                if got != expected:
                    mismatches.append(
                        f"{method} {path} as {principal}: {got} ({response.status_code}), expected {expected}"
                    )
    with capsys.disabled():
        print(f"\naccess table: {checks} checks ({len(PRINCIPALS)} principals)")
    assert not mismatches, "\n".join(mismatches)
