"""The demo seed leaves loan-default with alerts made by the real pipeline (analysis, then evaluation):
the concept shift firing and mailed to the demo users, the null spike (the day before yesterday)
fired, mailed, resolved and mailed again."""

import pytest
from django.core import mail
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_seed_demo_leaves_loan_default_firing_and_resolved(live_server):
    from alerts.models import Alert, AlertEvent, Notification, Subscription

    call_command("seed_demo", url=live_server.url, scale=0.25, days=30)
    alerts = Alert.objects.filter(model__slug="loan-default", version__stage="production")
    states = sorted(alerts.values_list("rule__name", "features", "state"))
    # The concept shift (the last 7 UTC days) fires the daily realised-performance and concept-drift
    # rules on every matured window of it, whatever the hour the seed runs.
    firing = alerts.filter(state="firing", kind__in=("performance", "concept_drift"), rule__granularity="day")
    assert sorted(firing.values_list("kind", flat=True)) == ["concept_drift", "performance"], states
    # Nothing holds them: no data gap or volume collapse fires at the end of the seed.
    assert not alerts.filter(state="firing", kind="no_data").exists(), states
    assert not [a for a in alerts.filter(state="firing", kind="volume") if a.value < a.expected[0]], states
    assert not AlertEvent.objects.filter(alert__in=firing, note__startswith="inhibited").exists()

    users = {"admin@example.com", "scientist@example.com", "agent@example.com"}
    assert set(Subscription.objects.filter(model__slug="loan-default").values_list("user__email", flat=True)) == users
    told = Notification.objects.filter(model__slug="loan-default", kind="firing", channel="email",
                                       alerts__in=firing).distinct()
    assert {n.recipient for n in told} == users and {n.status for n in told} == {"sent"}
    for message in told:
        assert set(message.alerts.values_list("kind", flat=True)) >= {"performance", "concept_drift"}
    mailed = [m for m in mail.outbox if m.subject in {n.subject for n in told}]
    assert sorted(to for m in mailed for to in m.to) == sorted(users), [m.subject for m in mail.outbox]
    for m in mailed:
        assert m.subject.startswith("[Vigil] CRITICAL FIRING loan-default: accuracy")
        assert "accuracy" in m.body and "concept drift" in m.body

    # The null spike in employment_years (the day before yesterday) came and went, and the demo
    # users were told both: the seed replays the hour after its day closed (FIRING), then the real
    # now sees yesterday's window clean (RESOLVED). Yesterday has closed whatever the hour.
    spike = alerts.get(kind="quality", features=["employment_years"], rule__name="Data quality (daily)")
    assert spike.state == "resolved", states
    assert set(AlertEvent.objects.filter(alert=spike).values_list("state", flat=True)) >= {"firing", "resolved"}
    for kind, verb in (("firing", "FIRING"), ("resolved", "RESOLVED")):
        about = Notification.objects.filter(alerts=spike, kind=kind, channel="email")
        assert sorted(about.values_list("recipient", flat=True)) == sorted(users), (kind, list(about.values()))
        assert set(about.values_list("status", flat=True)) == {"sent"}
        for n in about:
            assert f"{verb} loan-default" in n.subject and "employment_years" in n.body_text, n.subject
            delivered = [m for m in mail.outbox if m.subject == n.subject and m.to == [n.recipient]]
            assert len(delivered) == 1, (n.subject, [m.subject for m in mail.outbox])
    for n in Notification.objects.filter(alerts=spike, kind="resolved"):
        assert "employment_years" in n.subject, n.subject
