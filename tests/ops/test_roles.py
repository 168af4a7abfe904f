"""Every page and action against every role."""

import pytest
from django.contrib.auth.models import User

from ops import services
from ops.models import Override

from .conftest import grant_act

VIEW_PAGES = [
    "/ops/",
    "/ops/?q=cust-42",
    "/ops/decisions/loan-default/loan-0/",
    "/ops/overrides/",
    "/ops/overrides/export.csv",
    "/ops/audit/",
]
ACTION_PAGES = [
    "/ops/overrides/blacklist/",
    "/ops/overrides/boost/",
    "/ops/decisions/loan-default/loan-0/correct/",
]


@pytest.fixture
def world(loan, recs, agent):
    return services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="r")


@pytest.mark.parametrize("url", [*VIEW_PAGES, *ACTION_PAGES])
def test_anonymous_is_sent_to_login(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [*VIEW_PAGES, *ACTION_PAGES])
def test_user_without_role_is_refused(client, world, outsider, url):
    client.force_login(outsider)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["agent", "scientist", "admin_user"])
@pytest.mark.parametrize("url", VIEW_PAGES)
def test_every_role_sees_the_console(client, world, request, role, url):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", ["agent", "admin_user"])
@pytest.mark.parametrize("url", ACTION_PAGES)
def test_agents_and_admins_may_act(client, world, request, role, url):
    client.force_login(request.getfixturevalue(role))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", [*ACTION_PAGES, "revoke"])
def test_scientist_is_refused_every_action(client, world, scientist, url):
    client.force_login(scientist)
    url = f"/ops/overrides/{world.pk}/revoke/" if url == "revoke" else url
    assert client.get(url).status_code == 403
    assert client.post(url, {"item_id": "sku-2", "reason": "r", "model": "recs"}).status_code == 403


def test_scientist_refused_blacklist_post_stores_nothing(client, world, scientist):
    client.force_login(scientist)
    client.post("/ops/overrides/blacklist/", {"model": "recs", "item_id": "sku-2", "reason": "r"})
    assert not Override.objects.filter(item_id="sku-2").exists()


def test_scientist_can_act_once_granted(client, world, scientist):
    granted = grant_act(scientist)
    client.force_login(granted)
    response = client.post("/ops/overrides/blacklist/", {"model": "recs", "item_id": "sku-2", "reason": "r"})
    assert response.status_code == 302 and Override.objects.filter(item_id="sku-2").exists()


def test_decision_page_shows_actions_only_to_those_who_may_act(client, world, agent, scientist):
    client.force_login(scientist)
    page = client.get("/ops/decisions/recs/rec-0/").content.decode()
    assert "Blacklist item sku-1" not in page and "You can view this decision but not act on it." in page
    client.force_login(agent)
    page = client.get("/ops/decisions/recs/rec-0/").content.decode()
    assert "Blacklist item sku-1" in page and "Correct this decision" in page


def test_model_administration_is_for_staff_only(client, world, agent, scientist):
    for user in (agent, scientist):
        client.force_login(user)
        response = client.get("/admin/ops/override/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_site_is_read_only_for_ops_records(client, world):
    boss = User.objects.create_superuser("root", password="x")
    client.force_login(boss)
    assert client.get("/admin/ops/auditrecord/").status_code == 200
    assert client.get("/admin/ops/override/add/").status_code == 403
    assert client.post(f"/admin/ops/override/{world.pk}/delete/", {"post": "yes"}).status_code == 403
