"""The alerts pages in real headless Chromium against a live server."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from alerts.models import Alert, Notification
from alerts.services.evaluate import alerts_evaluate
from core.roles import ADMINS

from .factories import NOW, hours, make_model

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "alerts"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_alert_pages_in_chromium(page, live_server):
    version = make_model()
    admin = User.objects.create_user("boss", "boss@example.com", "pw-boss-123")
    admin.groups.add(Group.objects.get_or_create(name=ADMINS)[0])
    conds = hours("drift", "..xx", feature="income") + hours("drift", "..xx", feature="age")
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    alert = Alert.objects.filter(state="firing").first()
    base = live_server.url
    page.goto(f"{base}/accounts/login/?next=/alerts/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("pw-boss-123")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    expect(page.get_by_role("table", name="Alerts")).to_contain_text("income")
    shot(page, "list")

    page.goto(f"{base}/alerts/{alert.pk}/")
    expect(page.locator("#alert-windows svg.main-svg").first).to_be_attached()
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(page.get_by_role("heading", name="Messages sent")).to_be_visible()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Acknowledged: no reminders")).to_be_visible()
    page.get_by_role("button", name="False alarm").click()
    expect(page.locator("section[aria-labelledby=feedback-title]")).to_contain_text("boss@example.com: false alarm")
    shot(page, "alert")

    page.goto(f"{base}/alerts/rules/loan-default/")
    expect(page.get_by_role("table", name="Rules")).to_contain_text("Input drift")
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_label("For windows").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("for_windows:")).to_be_visible()
    shot(page, "rule-form")

    page.goto(f"{base}/alerts/silences/?model=loan-default")
    page.get_by_label("Until").fill("2099-01-01 08:00")
    page.get_by_label("Reason").fill("planned retraining")
    page.get_by_role("button", name="Silence").click()
    expect(page.get_by_role("table", name="Silences")).to_contain_text("planned retraining")
    shot(page, "silences")

    message = Notification.objects.first()
    page.goto(f"{base}/alerts/log/")
    expect(page.get_by_role("table", name="Notifications")).to_contain_text("FIRING loan-default")
    page.goto(f"{base}/alerts/log/{message.pk}/")
    frame = page.frame_locator("iframe[title='Rendered email']")
    expect(frame.get_by_role("link", name="False alarm").first).to_be_visible()
    shot(page, "message")
