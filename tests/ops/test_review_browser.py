"""The reviewer's page in real headless Chromium, as a support agent: keyboard shortcuts, progress, skip."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import SUPPORT_AGENTS
from monitoring.models import Label, MLModel
from ops.models import Review
from ops.services import review

from .conftest import make_user
from .test_browser import demo_world, log_in, shot


@pytest.mark.django_db(transaction=True)
def test_agent_reviews_decisions_with_the_keyboard(page, live_server, frozen):
    now = frozen(timezone.now())
    demo_world(now)
    make_user("agent", SUPPORT_AGENTS)
    loan = MLModel.objects.get(slug="loan-default")
    batch = review.batch_create(model=loan, start=now - timedelta(days=5), end=now, size=3, double_share=0)
    base = live_server.url
    log_in(page, base, "agent")
    page.get_by_role("link", name="Reviews").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    shot(page, "review-queue")
    page.goto(f"{base}/ops/reviews/{batch.pk}/review/")
    expect(page.locator("#progress")).to_contain_text("0 of 3 reviewed")
    expect(page.get_by_role("heading", name="Features")).to_be_visible()
    expect(page.locator("#decided")).not_to_be_empty()
    first = page.locator("input[name=item]").get_attribute("value")
    shot(page, "review-item")
    # Record without an outcome: a clear error, nothing stored.
    page.keyboard.press("Enter")
    expect(page.locator(".error")).to_contain_text("required")
    page.keyboard.press("1")
    page.keyboard.press("n")
    page.keyboard.type("customer paid late twice")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    expect(page.locator("#progress")).to_contain_text("1 of 3 reviewed")
    stored = Review.objects.get(item_id=first)
    assert (
        stored.outcome == 1 and stored.note == "customer paid late twice" and stored.reviewer_name == "agent"
    )
    assert Label.objects.get(model=loan, request_id=stored.item.request_id).human_corrected
    second = page.locator("input[name=item]").get_attribute("value")
    assert second != first
    page.keyboard.press("s")
    expect(page.get_by_role("status")).to_contain_text("Skipped")
    assert page.locator("input[name=item]").get_attribute("value") not in (first, second)
    page.keyboard.press("0")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    page.get_by_role("link", name="Estimates").click()
    expect(page.locator("#reviewed")).to_have_text("2")
    expect(page.locator("#accuracy")).to_be_visible()
    shot(page, "review-estimates")
