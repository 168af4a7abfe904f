"""The lifecycle cards and pages by role (server-rendered HTML, no browser)."""

import pytest

from core.roles import ADMINS, DATA_SCIENTISTS, SUPPORT_AGENTS
from lifecycle.models import Policy
from tests.ops.conftest import make_user

from .factories import binary_model, label, log, scored, version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def model():
    m = binary_model()
    version(m, "v1", stage="production", metadata={"training_period": "2026-01-01 to 2026-03-31"})
    version(m, "v2", stage="shadow")
    y, s = scored(400, seed=2, skill=2.0)
    log(m, "v1", s)
    label(m, y)
    return m


def test_pages_embed_a_card_that_loads_from_its_own_url(client, model):
    client.force_login(make_user("sam", DATA_SCIENTISTS))
    page = client.get("/models/loan-default/").content.decode()
    assert 'data-fragment="/lifecycle/models/loan-default/card/?' in page
    card = client.get("/lifecycle/models/loan-default/card/?next=/models/loan-default/").content.decode()
    assert "Production" in card and "v1" in card and "days since its training data ended" in card
    assert "rollback-form" not in card  # scientists read, admins act
    version_page = client.get("/models/loan-default/versions/v1/").content.decode()
    assert 'data-fragment="/lifecycle/models/loan-default/versions/v1/card/?' in version_page
    vcard = client.get("/lifecycle/models/loan-default/versions/v1/card/?min_precision=0.8").content.decode()
    assert 'id="recommended-threshold"' in vcard and "precision ≥ 0.8" in vcard
    assert 'data-figure="threshold-curve-data"' in vcard and "promote-form" not in vcard


def test_admin_sees_the_actions_and_edits_the_settings(client, model):
    client.force_login(make_user("ada", ADMINS))
    vcard = client.get("/lifecycle/models/loan-default/versions/v2/card/").content.decode()
    assert "promote-form" in vcard and "gate-button" in vcard
    response = client.post("/lifecycle/models/loan-default/settings/", {
        "margin": "0.03", "min_pairs": "100", "min_labels": "50", "watch_hours": "24", "max_age_days": "90",
        "retrain_windows": "2", "retrain_min_labels": "10", "retrain_cooldown_hours": "12", "auto_rollback": "on",
    })
    assert response.status_code == 302
    policy = Policy.objects.get(model=model)
    assert policy.margin == 0.03 and policy.auto_rollback and policy.max_age_days == 90
    card = client.get("/lifecycle/models/loan-default/card/").content.decode()
    assert "stale" in card and "automatic rollback" in card


def test_agents_and_scientists_cannot_act(client, model):
    client.force_login(make_user("agent", SUPPORT_AGENTS))
    assert client.get("/lifecycle/models/loan-default/card/").status_code == 403
    client.force_login(make_user("sam", DATA_SCIENTISTS))
    assert client.post("/lifecycle/models/loan-default/rollback/", {"reason": "x"}).status_code == 403
    assert client.post("/lifecycle/models/loan-default/versions/v2/promote/", {}).status_code == 403
    assert client.post("/lifecycle/models/loan-default/settings/", {"margin": "0.5"}).status_code == 403
    assert not Policy.objects.exists()


def test_p_values_read_as_people_read_them():
    from lifecycle.templatetags.lifecycle_format import pvalue

    assert [pvalue(0.0), pvalue(4.1e-7), pvalue(0.03214), pvalue(None)] == ["< 1e-300", "4.1e-07", "0.032", "—"]
