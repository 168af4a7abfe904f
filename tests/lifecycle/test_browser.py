"""The lifecycle pages in real headless Chromium: compare, both explanations, promote, roll back."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lifecycle.models import Event, EventKind
from monitoring.models import ModelVersion
from tests.ops.conftest import PASSWORD, make_user

from .test_gate import world

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "lifecycle"
RENDERED = """() => {
  const charts = [...document.querySelectorAll('[data-figure]')];
  return charts.length > 0 && charts.every(c => c.dataset.rendered === 'true' && c.querySelector('svg.main-svg'));
}"""


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_compares_promotes_and_rolls_back(live_server, page):
    from core.roles import ADMINS

    world(n=2000)
    make_user("ada", ADMINS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size({"width": 1400, "height": 900})
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/models/loan-default/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/models/loan-default/$"))
    card = page.locator("#lifecycle")
    expect(card).to_contain_text("Production")
    expect(card).to_contain_text("v1 registered as production (no earlier version to gate against)")

    page.click("#lifecycle >> text=v2 (shadow)")
    page.wait_for_url(re.compile(r".*/lifecycle/models/loan-default/compare/\?a=v1&b=v2"))
    expect(page.locator("#verdict")).to_have_text("better")
    expect(page.locator("#verdict-reason")).to_contain_text("B is better")
    expect(page.locator("#paired")).to_have_text("2000")
    expect(page.locator("#auc-change")).to_contain_text("pass")
    page.wait_for_function(RENDERED, timeout=20_000)
    assert page.locator("#flips tbody tr").count() > 0
    shot(page, "compare")
    first = page.locator("#flips tbody tr a").first
    request_id = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(rf".*/compare/{request_id}/\?a=v1&b=v2"))
    sides = page.locator(".explanation-side")
    expect(sides).to_have_count(2)
    expect(sides.nth(0)).to_contain_text("v1")
    expect(sides.nth(1)).to_contain_text("v2")
    shot(page, "explanations")

    page.goto(f"{base}/models/loan-default/versions/v2/")
    page.wait_for_selector('[data-fragment][data-loaded="true"]')
    page.wait_for_function(RENDERED, timeout=20_000)
    expect(page.locator("#recommended-threshold")).to_contain_text("threshold")
    page.click("#gate-button")
    expect(page.locator("#gate-outcome")).to_have_text("pass")
    page.fill("#promote-reason", "shadow is better")
    page.click("#promote-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("v2 is now in production")
    page.wait_for_selector('[data-fragment][data-loaded="true"]')
    assert ModelVersion.objects.get(version="v2").stage == "production"
    shot(page, "version-promoted")

    page.goto(f"{base}/models/loan-default/")
    expect(page.locator("#lifecycle")).to_contain_text("shadow is better")
    page.fill("#rollback-reason", "checking the button")
    page.click("#rollback-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("v1 is in production again")
    expect(page.locator("#lifecycle .timeline > li")).to_have_count(3)  # v1's registration, promotion, rollback
    page.wait_for_function(RENDERED, timeout=20_000)
    shot(page, "model-rolled-back")
    assert ModelVersion.objects.get(version="v1").stage == "production"
    assert [e.kind for e in Event.objects.all()] == [EventKind.ROLLBACK, EventKind.PROMOTION, EventKind.REGISTERED]
    assert errors == []
