"""A small demo-like world: a loan model with a customer's decisions, a recommendation model with
items, and one user per role."""

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User

from core.roles import ADMINS, DATA_SCIENTISTS, SUPPORT_AGENTS
from monitoring.models import MLModel, ModelVersion, Prediction

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default PBKDF2 costs about a second per user on this shared 2-core machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ensure_roles() -> None:
    """Re-run the data migrations that make the roles and grant the act permission: a transactional
    test elsewhere in the session flushes them away (idempotent when they are there)."""
    from django.apps import apps

    roles = importlib.import_module("monitoring.migrations.0002_roles")
    grants = importlib.import_module("ops.migrations.0002_audit_immutable_and_permission")
    roles.create_groups(apps, None)
    grants.grant_act_permission(apps, None)


def make_user(username: str, *groups: str) -> User:
    ensure_roles()
    user = User.objects.create_user(username=username, password=PASSWORD)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def agent(db):
    return make_user("agent", SUPPORT_AGENTS)


@pytest.fixture
def scientist(db):
    return make_user("scientist", DATA_SCIENTISTS)


@pytest.fixture
def admin_user(db):
    return make_user("boss", ADMINS)


@pytest.fixture
def outsider(db):
    return make_user("outsider")


def grant_act(user: User) -> User:
    user.user_permissions.add(Permission.objects.get(codename="act_on_overrides"))
    return User.objects.get(pk=user.pk)  # fresh instance: permissions are cached per object


@pytest.fixture
def loan(db):
    model = MLModel.objects.create(slug="loan-default", name="Loan default", task="binary_classification")
    version = ModelVersion.objects.create(
        model=model,
        version="2026-10-01",
        stage="production",
        threshold=0.5,
        features=[
            {"name": "income", "type": "numeric", "display_name": "Yearly income", "unit": "EUR"},
            {"name": "late_payments", "type": "numeric", "display_name": "Late payments (12 months)"},
            {"name": "region", "type": "categorical", "categories": ["north", "south"]},
        ],
    )
    for i in range(3):
        Prediction.objects.create(
            model=model,
            version=version,
            request_id=f"loan-{i}",
            timestamp=T0 + timedelta(hours=i),
            features={"income": 30000 + 1000 * i, "late_payments": 3 - i, "region": "north"},
            score=0.8 - 0.2 * i,
            prediction=1 if 0.8 - 0.2 * i >= 0.5 else 0,
            entity_id="cust-42",
            received_at=T0 + timedelta(hours=i),
        )
    return model


@pytest.fixture
def recs(db):
    model = MLModel.objects.create(slug="recs", name="Product recommendations", task="ranking")
    version = ModelVersion.objects.create(
        model=model, version="v1", stage="production", features=[{"name": "affinity", "type": "numeric"}]
    )
    for i, item in enumerate(["sku-1", "sku-2", "sku-3"]):
        Prediction.objects.create(
            model=model,
            version=version,
            request_id=f"rec-{i}",
            timestamp=T0 + timedelta(minutes=i),
            features={"affinity": 0.9 - 0.1 * i},
            score=0.9 - 0.1 * i,
            entity_id="cust-42",
            item_id=item,
            received_at=T0,
        )
    return model


@pytest.fixture
def offers(db):
    """A second ranking model, with no decisions logged yet: overrides on it are about items."""
    return MLModel.objects.create(slug="offers", name="Offers", task="ranking")


@pytest.fixture
def frozen(monkeypatch):
    """frozen(t) makes ops.clock.now() return t (and returns t); call again to move time."""

    def _freeze(at: datetime) -> datetime:
        monkeypatch.setattr("ops.clock.now", lambda: at)
        return at

    return _freeze
