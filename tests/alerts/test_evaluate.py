"""Evaluation on window conditions: one alert per fingerprint, grouping, backfills, inhibition,
silences, flapping, snoozes and severity lowering. The conditions are given (the health selector
that produces them is tested with the health findings); the clock is injected."""

from datetime import timedelta

import pytest
from django.core import mail

from alerts.models import Alert, AlertEvent, AlertRule, Notification, State
from alerts.services.evaluate import alerts_evaluate
from alerts.services.send import outbox_send_due
from alerts.services.silences import silence_create, silences_end_announce

from .factories import HOUR, NOW, hours, make_model

pytestmark = pytest.mark.django_db


def drift(pattern, feature, **kw):
    return hours("drift", pattern, feature=feature, metric="js", **kw)


def test_a_new_model_gets_the_default_rules_sent_to_its_subscribers():
    version = make_model()
    rules = AlertRule.objects.filter(model=version.model)
    assert {r.kind: r.severity for r in rules}.items() >= {"performance": "critical", "no_data": "critical",
                                                   "drift": "warning", "quality": "warning", "volume": "warning"}.items()
    assert all(r.recipients == ["subscribers"] for r in rules)


def test_drift_on_two_features_fires_two_alerts_in_one_message_naming_both():
    version = make_model()
    conds = drift("..xx", "income") + drift("..xx", "age") + drift("....", "debt")
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    firing = Alert.objects.filter(state=State.FIRING)
    assert sorted(a.features[0] for a in firing) == ["age", "income"]
    messages = Notification.objects.filter(channel="email")
    assert messages.count() == 1  # grouped: one message for the model and recipient
    message = messages.get()
    assert message.recipient == "ds@example.com" and message.alerts.count() == 2
    assert "FIRING loan-default" in message.subject
    assert "income" in message.body_text and "age" in message.body_text
    assert outbox_send_due(now=NOW) == 1 and len(mail.outbox) == 1
    # The same windows again: nothing new.
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    assert Notification.objects.count() == 1 and Alert.objects.count() == 2


def test_subject_has_severity_slug_verb_and_headline():
    version = make_model()
    conds = hours("performance", "xx", metric="accuracy", bad=0.62, low=0.78, high=1.0)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    subject = Notification.objects.get().subject
    assert subject == f"[Vigil] CRITICAL FIRING loan-default: accuracy 0.62 < 0.78 since {(NOW - HOUR):%-d %b}"


def test_a_resolved_headline_states_the_true_relation_not_the_breach():
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW,
                    conditions=hours("performance", "xx", metric="accuracy", bad=0.62, good=0.81, low=0.78, high=1.0))
    later = NOW + 2 * HOUR
    alerts_evaluate(version_id=version.id, now=later,
                    conditions=hours("performance", "..", metric="accuracy", bad=0.62, good=0.81, low=0.78, high=1.0,
                                     end=later))
    alert = Alert.objects.get()
    assert alert.state == State.RESOLVED
    # Learned band: not "accuracy 0.81 < 0.78" nor "> 1" but where the value now sits.
    assert alert.summary.endswith("accuracy 0.81 within 0.78–1")
    subject = Notification.objects.get(kind="resolved").subject
    assert subject.startswith("[Vigil] CRITICAL RESOLVED loan-default: accuracy 0.81 within 0.78–1")


def test_recovery_sends_one_resolved_message():
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=drift("xx", "income"))
    later = NOW + 2 * HOUR
    alerts_evaluate(version_id=version.id, now=later, conditions=drift("..", "income", end=later))
    resolved = Notification.objects.filter(kind="resolved")
    assert resolved.count() == 1 and "RESOLVED loan-default" in resolved.get().subject
    assert Alert.objects.get().state == State.RESOLVED


def test_backfill_is_evaluated_for_history_but_sends_nothing():
    version = make_model()
    old = NOW - timedelta(days=10)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=drift("xxxx....", "income", end=old))
    alert = Alert.objects.get()
    assert alert.state == State.RESOLVED
    states = list(alert.events.values_list("state", flat=True))
    assert states.count("firing") == 1 and states.count("resolved") == 1
    assert all("backfill" in e.note for e in alert.events.all())
    assert not Notification.objects.exists()


def test_no_data_inhibits_drift_and_quality_inhibits_drift_on_its_feature():
    version = make_model()
    conds = hours("no_data", "xx", bad=0, low=10, high=None) + drift("xx", "income")
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    message = Notification.objects.get()
    assert [a.kind for a in message.alerts.all()] == ["no_data"]
    assert AlertEvent.objects.filter(alert__kind="drift", note__contains="inhibited by no data").exists()

    other = make_model("churn", email="")
    conds = hours("quality", "xx", feature="age", metric="null_rate") + drift("xx", "age") + drift("xx", "income")
    alerts_evaluate(version_id=other.id, now=NOW, conditions=conds)
    sent = Notification.objects.get(model=other.model)
    assert sorted((a.kind, a.features[0]) for a in sent.alerts.all()) == [("drift", "income"), ("quality", "age")]


def test_drift_that_performance_does_not_feel_goes_out_lower_and_says_so():
    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(severity="critical")
    conds = drift("xx", "income") + hours("performance", "..", metric="accuracy", good=0.9, low=0.78, high=1.0)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    alert = Alert.objects.get(kind="drift")
    assert alert.severity == "warning" and "does not feel" in alert.note
    assert "WARNING FIRING" in Notification.objects.get().subject


def test_a_silence_holds_messages_and_its_end_is_announced_while_still_firing():
    version = make_model()
    silence_create(model=version.model, until=NOW + HOUR, reason="planned migration", kind="drift", now=NOW - HOUR)
    alerts_evaluate(version_id=version.id, now=NOW, conditions=drift("xx", "income"))
    assert Alert.objects.get().state == State.FIRING
    assert not Notification.objects.exists()
    assert silences_end_announce(now=NOW + 30 * 60 * timedelta(seconds=1)) == 0
    assert silences_end_announce(now=NOW + 2 * HOUR) == 1
    assert silences_end_announce(now=NOW + 3 * HOUR) == 0  # once
    message = Notification.objects.get()
    assert message.kind == "silence_ended" and "ended while 1 alert still fires" in message.body_text


def test_flapping_sends_one_notice_then_leaves_it_to_the_digest():
    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(for_windows=1)
    t = NOW
    for i, pattern in enumerate(["x", ".", "x", ".", "x", ".", "x"]):
        t = NOW + HOUR * i
        alerts_evaluate(version_id=version.id, now=t, conditions=drift(pattern, "income", end=t))
    kinds = list(Notification.objects.order_by("id").values_list("kind", flat=True))
    assert kinds.count("flapping") == 1
    assert kinds.index("flapping") == 3 and len(kinds) == 4  # firing, resolved, firing, then one flapping notice


def test_snooze_until_worse_holds_until_the_value_moves_further():
    from django.contrib.auth.models import User

    from alerts.services.actions import alert_snooze

    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=drift("xx", "income", bad=0.4))
    alert_snooze(alert=Alert.objects.get(), user=User.objects.get())
    t = NOW + HOUR
    alerts_evaluate(version_id=version.id, now=t, conditions=drift("x", "income", bad=0.38, end=t))
    assert not Notification.objects.filter(kind="worse").exists()
    t = NOW + 2 * HOUR
    alerts_evaluate(version_id=version.id, now=t, conditions=drift("x", "income", bad=0.5, end=t))
    assert Notification.objects.filter(kind="worse").count() == 1


def test_unjudged_windows_never_count():
    version = make_model()
    alerts_evaluate(version_id=version.id, now=NOW, conditions=drift("?x??", "income"))
    assert Alert.objects.get().state == State.NO_DATA
    assert not Notification.objects.exists()
    # An unjudged window neither counts nor breaks a run: two judged breaches fire.
    t = NOW + HOUR
    alerts_evaluate(version_id=version.id, now=t, conditions=drift("x", "income", end=t))
    assert Alert.objects.get().state == State.FIRING


def test_explicit_threshold_reads_the_value_not_the_learned_verdict():
    version = make_model()
    AlertRule.objects.filter(model=version.model, kind="drift").update(threshold={"op": ">", "value": 0.3})
    conds = drift("..", "income", good=0.35) + drift("xx", "age", bad=0.25)  # learned verdicts disagree
    alerts_evaluate(version_id=version.id, now=NOW, conditions=conds)
    assert [a.features for a in Alert.objects.filter(state=State.FIRING)] == [["income"]]
