"""Reminders, with the alerts' clock moved: a critical alert still firing and not acknowledged is
mailed again every VIGIL_ALERT_REMINDER_HOURS; acknowledging, a silence or resolving stops them."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail

from alerts import clock
from alerts.models import Alert, AlertEvent, Notification
from alerts.services.actions import alert_acknowledge
from alerts.services.evaluate import alerts_evaluate
from alerts.services.reminders import reminders_send
from alerts.services.send import outbox_send_due
from alerts.services.silences import silence_create

from .factories import HOUR, NOW, hours, make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def at(monkeypatch):
    def move(when):
        monkeypatch.setattr(clock, "now", lambda: when)
        return when

    return move


def fire(version, end=NOW):
    alerts_evaluate(version_id=version.id, now=end,
                    conditions=hours("performance", "xx", metric="accuracy", bad=0.6, low=0.78, high=1.0, end=end))
    return Alert.objects.get(kind="performance", state="firing")


def reminders():
    return Notification.objects.filter(kind="reminder")


def test_reminded_every_interval_until_acknowledged(at, settings):
    settings.VIGIL_ALERT_REMINDER_HOURS = 24
    version = make_model()
    alert = fire(version)
    at(NOW)
    assert outbox_send_due() == 1 and len(mail.outbox) == 1  # the FIRING message
    at(NOW + 23 * HOUR)
    assert reminders_send() == 0
    at(NOW + 24 * HOUR)
    assert reminders_send() == 1
    assert reminders_send() == 0  # claimed: a second worker (or run) at the same time adds nothing
    message = reminders().get()
    assert message.subject.startswith("[Vigil] CRITICAL STILL FIRING loan-default: accuracy 0.6 < 0.78")
    assert "Acknowledge to stop these reminders" in message.body_text
    assert outbox_send_due() == 1 and len(mail.outbox) == 2
    at(NOW + 47 * HOUR)
    assert reminders_send() == 0
    at(NOW + 48 * HOUR)
    assert reminders_send() == 1 and reminders().count() == 2
    alert_acknowledge(alert=alert, user=User.objects.get(email="ds@example.com"), now=NOW + 49 * HOUR)
    at(NOW + 96 * HOUR)
    assert reminders_send() == 0 and reminders().count() == 2
    assert AlertEvent.objects.filter(alert=alert, state="reminded").count() == 2


def test_no_reminders_while_silenced_after_resolving_or_for_warnings(at, settings):
    settings.VIGIL_ALERT_REMINDER_HOURS = 24
    version = make_model()
    alert = fire(version)
    silence_create(model=version.model, until=NOW + 30 * HOUR, reason="retraining", now=NOW + HOUR)
    at(NOW + 25 * HOUR)
    assert reminders_send() == 0
    at(NOW + 31 * HOUR)  # the silence is over: reminded again (the alert was told at NOW)
    assert reminders_send() == 1
    # Recovery: resolved alerts are not reminded of.
    end = NOW + 33 * HOUR
    alerts_evaluate(version_id=version.id, now=end,
                    conditions=hours("performance", ".", metric="accuracy", good=0.8, low=0.78, high=1.0, end=end))
    alert.refresh_from_db()
    assert alert.state == "resolved"
    at(NOW + 100 * HOUR)
    assert reminders_send() == 0
    # A warning never gets reminders.
    drift = hours("drift", "xx", feature="income", end=NOW + 101 * HOUR)
    alerts_evaluate(version_id=version.id, now=NOW + 101 * HOUR, conditions=drift)
    assert Alert.objects.filter(kind="drift", state="firing").exists()
    at(NOW + 200 * HOUR)
    assert reminders_send() == 0 and reminders().count() == 1


def test_reminders_can_be_turned_off(at, settings):
    settings.VIGIL_ALERT_REMINDER_HOURS = 0
    fire(make_model())
    at(NOW + timedelta(days=10))
    assert reminders_send() == 0
