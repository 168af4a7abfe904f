"""Timing of messages with an injected clock: critical at once, warnings batched per model,
info only in the daily digest; feedback, precision and demotion."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from alerts.models import Alert, AlertRule, Feedback, Notification
from alerts.services.digest import digests_send
from alerts.services.evaluate import alerts_evaluate
from alerts.services.feedback import MIN_RATINGS, feedback_record, rule_precision
from alerts.services.links import feedback_token
from alerts.services.send import outbox_send_due

from .factories import HOUR, NOW, hours, make_model

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


def perf_feels(end):
    return hours("performance", "xx", metric="accuracy", bad=0.6, low=0.78, high=1.0, end=end)


def test_warnings_first_at_once_then_batched_per_model_critical_at_once():
    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(for_windows=1)
    AlertRule.objects.filter(model=version.model, kind="performance").update(for_windows=1)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "x", feature="income"))
    assert [n.send_after for n in Notification.objects.all()] == [NOW]  # the first warning: at once
    t1, t2 = NOW + MINUTE, NOW + 2 * MINUTE
    alerts_evaluate(version_id=version.id, now=t1, conditions=hours("drift", "x", feature="age", end=t1 + HOUR))
    alerts_evaluate(version_id=version.id, now=t2, conditions=hours("drift", "x", feature="debt", end=t2 + 2 * HOUR))
    later = Notification.objects.exclude(send_after=NOW)
    assert later.count() == 1  # age and debt batched into one message ...
    batched = later.get()
    assert sorted(a.features[0] for a in batched.alerts.all()) == ["age", "debt"]
    assert batched.send_after == NOW + 5 * MINUTE  # ... 5 minutes after the first
    # Critical does not wait.
    t3 = NOW + 3 * MINUTE
    alerts_evaluate(version_id=version.id, now=t3, conditions=perf_feels(t3 + 3 * HOUR))
    assert Notification.objects.get(severity="critical").send_after == t3
    assert outbox_send_due(now=t3) == 2 and outbox_send_due(now=NOW + 5 * MINUTE) == 1
    assert len(mail.outbox) == 3


def test_a_resolution_never_overtakes_its_throttled_firing():
    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(for_windows=1)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "x", feature="age"))
    waiting = Notification.objects.get(kind="firing")
    # Held back behind earlier warnings to the same reader (the per-model throttle, or an evaluation
    # as of a past time replayed after live messages went out).
    waiting.send_after = NOW + 3 * HOUR
    waiting.save(update_fields=["send_after"])
    # Age recovers before its warning went out: the RESOLVED waits for the FIRING and follows it.
    t = NOW + HOUR
    alerts_evaluate(version_id=version.id, now=t, conditions=hours("drift", ".", feature="age", end=t))
    assert Alert.objects.get().state == "resolved"
    resolved = Notification.objects.get(kind="resolved")
    assert resolved.send_after == waiting.send_after
    assert outbox_send_due(now=t) == 0
    assert outbox_send_due(now=NOW + 3 * HOUR) == 2
    assert [("RESOLVED" in m.subject) for m in mail.outbox] == [False, True]


def test_a_warning_alone_goes_at_once():
    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(for_windows=1)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "x", feature="income"))
    n = Notification.objects.get()
    assert n.send_after == NOW


def test_info_goes_only_in_the_daily_digest_once_a_day_from_its_hour(settings):
    settings.VIGIL_DIGEST_HOUR = 8
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("prediction_drift", "xx"))
    assert Alert.objects.get().state == "firing" and not Notification.objects.exists()
    early = NOW.replace(hour=7)
    assert digests_send(now=early) == 0
    assert digests_send(now=NOW) == 1
    assert digests_send(now=NOW + HOUR) == 0  # once a day
    digest = Notification.objects.get(kind="digest")
    assert "daily digest loan-default: 1 firing" in digest.subject
    assert "prediction drift" in digest.body_text and "Noisiest rules" in digest.body_text
    assert digests_send(now=NOW + timedelta(days=1)) == 1


def test_feedback_precision_and_demotion_to_the_digest():
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "xx", feature="income"))
    alert = Alert.objects.get()
    for i in range(MIN_RATINGS - 1):
        feedback_record(alert=alert, verdict="false_alarm", rater=f"r{i}@example.com", now=NOW)
    assert alert.rule.__class__.objects.get(pk=alert.rule_id).demoted_at is None  # not enough ratings yet
    feedback_record(alert=alert, verdict="expected_change", rater="x@example.com", now=NOW)
    assert rule_precision(rule=alert.rule, now=NOW) == {"ratings": MIN_RATINGS - 1, "useful": 0, "precision": 0.0}
    feedback_record(alert=alert, verdict="false_alarm", rater="last@example.com", now=NOW)
    rule = AlertRule.objects.get(pk=alert.rule_id)
    assert rule.demoted_at == NOW
    # A demoted rule's next firing waits for the digest.
    Notification.objects.all().delete()
    t = NOW + 3 * HOUR
    alerts_evaluate(version_id=version.id, now=t, conditions=hours("drift", "...xx", feature="income", end=t))
    assert Alert.objects.get().state == "firing" and not Notification.objects.exists()
    # Ratings older than 90 days no longer count.
    assert rule_precision(rule=rule, now=NOW + timedelta(days=91))["ratings"] == 0


def test_signed_one_click_feedback_link():
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "xx", feature="income"))
    alert = Alert.objects.get()
    token = feedback_token(alert_id=alert.pk, rater="ds@example.com", verdict="useful")
    assert f"/alerts/feedback/{token}/" in Notification.objects.get().body_text
    client = Client()
    assert client.get(reverse("alerts:feedback", args=[token])).status_code == 200
    assert client.get(reverse("alerts:feedback", args=[token])).status_code == 200  # idempotent
    assert list(Feedback.objects.values_list("rater", "verdict")) == [("ds@example.com", "useful")]
    tampered = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    assert client.get(reverse("alerts:feedback", args=[tampered])).status_code == 400


def test_the_alerts_list_dates_an_alert_from_its_first_breaching_window():
    from django.contrib.auth.models import User

    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(for_windows=2)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "xx", feature="income"))
    alert = Alert.objects.get()
    assert alert.state == "firing" and alert.started_at == NOW  # fired at the close of the second hour
    client = Client()
    client.force_login(User.objects.get(email="ds@example.com"))
    page = client.get(reverse("alerts:list")).content.decode()
    assert f"{NOW - 2 * HOUR:%Y-%m-%d %H:%M}" in page and f"{NOW:%Y-%m-%d %H:%M}" not in page
