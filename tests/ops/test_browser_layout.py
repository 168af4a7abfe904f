"""The console's tables keep their columns on screen whatever an agent typed, in real headless Chromium."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from monitoring.models import MLModel
from ops.models import AuditRecord, Override

from .conftest import PASSWORD, make_user

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ops"
LONG = "A" * 20_000  # the reason that made the tables 225,000 px wide: no space to break at

OFF_SCREEN = """(labels) => {
  const width = document.documentElement.clientWidth;
  const cells = [...document.querySelectorAll('th, td a, td summary')]
    .filter(el => labels.includes(el.textContent.trim()));
  return {
    page: document.documentElement.scrollWidth,
    width,
    found: cells.map(el => el.textContent.trim()),
    outside: cells.filter(el => el.getBoundingClientRect().right > width).map(el => el.textContent.trim()),
  };
}"""


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/ops/")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/ops/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_long_reason_wraps_and_keeps_every_column_on_screen(page, live_server):
    # Rows as they were stored before reasons were bounded (the services now refuse such a reason).
    agent = make_user("agent", "Support agents")
    recs = MLModel.objects.create(slug="recs", name="Product recommendations", task="ranking")
    now = timezone.now()
    override = Override.objects.create(
        kind="blacklist", model=recs, item_id="sku-1", starts_at=now, ends_at=now + timedelta(days=3),
        reason=LONG, created_by=agent, created_at=now,
    )  # fmt: skip
    AuditRecord.objects.create(
        actor_id=agent.pk, actor_name="agent", created_at=now, action="blacklist", object_type="override",
        object_id=override.pk, model_slug="recs", item_id="sku-1", reason=LONG,
        before=None, after={"item_id": "sku-1", "reason": LONG},
    )  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/ops/overrides/")
    layout = page.evaluate(OFF_SCREEN, ["State", "Until", "Revoke"])
    page.screenshot(path=str(SHOTS / "overrides-long-reason.png"))
    assert sorted(layout["found"]) == ["Revoke", "State", "Until"], layout
    assert layout["outside"] == [] and layout["page"] <= layout["width"], layout

    page.goto(f"{live_server.url}/ops/audit/")
    page.get_by_text("Show", exact=True).click()
    layout = page.evaluate(OFF_SCREEN, ["Show", "Before → after", "Reason"])
    page.screenshot(path=str(SHOTS / "audit-long-reason.png"))
    assert sorted(layout["found"]) == ["Before → after", "Reason", "Show"], layout
    assert layout["outside"] == [] and layout["page"] <= layout["width"], layout


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_forms_offer_item_models_and_show_the_cold_start_warning(page, live_server):
    make_user("agent", "Support agents")
    make_user("newcomer")
    for slug, task in (
        ("delivery-time", "regression"),
        ("loan-default", "binary_classification"),
        ("recs", "ranking"),
    ):
        MLModel.objects.create(slug=slug, name=slug.replace("-", " ").capitalize(), task=task)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url)
    SHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/ops/overrides/boost/")
    model = page.get_by_label("Model")
    assert model.input_value() == ""  # no model preselected, least of all a regression model
    assert model.locator("option").all_inner_texts() == ["Choose a model", "recs"]
    page.screenshot(path=str(SHOTS / "boost-form.png"), full_page=True)

    page.goto(f"{live_server.url}/ops/overrides/blacklist/")
    page.get_by_label("Model").select_option("recs")
    page.get_by_label("Item id").fill("sku-new")
    page.get_by_label("Reason").fill("Unsafe batch")
    page.get_by_role("button", name="Blacklist item").click()
    status = page.get_by_role("status")
    assert "Item sku-new is blacklisted for recs." in status.inner_text()
    assert "Item 'sku-new' has never been served by recs." in status.locator(".msg-warning").inner_text()
    page.screenshot(path=str(SHOTS / "blacklist-cold-start.png"), full_page=True)

    page.goto(f"{live_server.url}/ops/audit/")
    page.get_by_text("Show", exact=True).click()
    assert page.locator("table.changes").first.is_visible()
    page.screenshot(path=str(SHOTS / "audit-fields.png"), full_page=True)

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/home/")
    assert page.get_by_role("heading", name="Your account has no role yet").is_visible()
    assert page.locator("a.brand").get_attribute("href") == "/home/"
    page.screenshot(path=str(SHOTS / "no-role-home.png"), full_page=True)
