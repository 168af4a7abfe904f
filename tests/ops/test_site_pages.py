"""Error pages in the site's layout, each role's home behind the logo, the favicon, the audit log's
before and after as fields."""

import re

import pytest
from django.test import RequestFactory

from core.pages import server_error
from ops import services

MAIN_NAV = '<nav aria-label="Main">'


def logo(page: str) -> str:
    start = page.index('class="brand" href="') + len('class="brand" href="')
    return page[start : page.index('"', start)]


@pytest.mark.parametrize(
    ("role", "home"), [("agent", "/ops/"), ("scientist", "/"), ("admin_user", "/"), ("outsider", "/home/")]
)
def test_the_logo_leads_each_role_to_a_home_it_may_see(client, request, role, home):
    client.force_login(request.getfixturevalue(role))
    page = client.get("/accounts/login/").content.decode()
    assert logo(page) == home
    landing = client.get("/home/")
    if home == "/home/":
        assert landing.status_code == 200 and "Your account has no role yet" in landing.content.decode()
    else:
        assert landing.status_code == 302 and landing["Location"] == home
        assert client.get(home).status_code == 200


def test_a_403_has_the_layout_the_reason_and_a_way_home(client, agent, scientist, recs):
    client.force_login(agent)
    refused = client.get("/")
    page = refused.content.decode()
    assert (
        refused.status_code == 403
        and MAIN_NAV in page
        and re.search(r'<a href="/ops/"\s*>Ops console</a>', page)
    )
    assert "The dashboards are for data scientists and admins." in page and logo(page) == "/ops/"
    client.force_login(scientist)
    action = client.get("/ops/overrides/boost/")
    assert action.status_code == 403
    assert (
        "You may view the ops console but not act: ask an admin for the permission."
        in action.content.decode()
    )


def test_a_404_has_the_layout(client, agent, loan):
    client.force_login(agent)
    missing = client.get("/ops/decisions/loan-default/nobody/")
    page = missing.content.decode()
    assert (
        missing.status_code == 404 and MAIN_NAV in page and "Nothing here" in page and logo(page) == "/ops/"
    )
    client.logout()
    anonymous = client.get("/no/such/page/")
    assert anonymous.status_code == 404 and "Nothing here" in anonymous.content.decode()
    api = client.get("/api/v1/no/such/")
    assert api.status_code == 404 and api.json() == {"detail": "Not found.", "errors": {}}


def test_the_500_page_has_the_layout_and_the_api_keeps_json(db):
    page = server_error(RequestFactory().get("/models/x/"))
    assert (
        page.status_code == 500
        and b"Something went wrong on our side" in page.content
        and b"vigil.css" in page.content
    )
    api = server_error(RequestFactory().get("/api/v1/models/"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"


def test_favicon_is_served_for_pages_without_an_icon_link(client, admin_user):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # ICO header


def test_the_audit_log_shows_before_and_after_as_fields(client, agent, recs, frozen):
    from .conftest import T0

    frozen(T0)
    entry = services.override_blacklist(actor=agent, model=recs, item_id="sku-1", reason="Recalled")
    services.override_revoke(actor=agent, override_id=entry.pk, reason="Back in stock")
    client.force_login(agent)
    page = client.get("/ops/audit/").content.decode()
    assert "{&#x27;" not in page and "{'" not in page  # no Python dict text
    assert '<th scope="row">revoke reason</th><td>—</td><td>Back in stock</td>' in page
    assert (
        '<tr class="changed"><th scope="row">revoked at</th><td>—</td><td>2026-11-20 09:00:00 UTC</td>'
        in page
    )
    assert page.index('<th scope="row">id</th>') < page.index('<th scope="row">item id</th>')
    assert '<tr><th scope="row">item id</th><td>sku-1</td><td>sku-1</td></tr>' in page
