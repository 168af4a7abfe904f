"""Ratings of alerts and each rule's precision; a rule that keeps crying wolf is demoted to the digest."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q

from .. import clock
from ..models import Alert, AlertEvent, AlertRule, Feedback, Verdict

PERIOD = timedelta(days=90)
PRECISION_FLOOR = 0.5
MIN_RATINGS = 5


def rule_precision(*, rule: AlertRule, now: datetime | None = None) -> dict:
    """``{"ratings", "useful", "precision"}`` over the last 90 days; "expected change" counts as
    neither right nor wrong (the alert was true, the change intended), so it is left out."""
    now = now or clock.now()
    counts = Feedback.objects.filter(rule=rule, created_at__gte=now - PERIOD).aggregate(
        useful=Count("id", filter=Q(verdict=Verdict.USEFUL)),
        false=Count("id", filter=Q(verdict=Verdict.FALSE_ALARM)),
    )
    rated = counts["useful"] + counts["false"]
    return {"ratings": rated, "useful": counts["useful"], "precision": counts["useful"] / rated if rated else None}


@transaction.atomic
def feedback_record(*, alert: Alert, verdict: str, rater: str, user=None, now: datetime | None = None) -> Feedback:
    """Record (or change) ``rater``'s rating of the alert, then demote the rule when its precision
    over 90 days is under the floor with enough ratings."""
    if verdict not in Verdict.values:
        raise ValueError(f"verdict must be one of {', '.join(Verdict.values)}")
    now = now or clock.now()
    feedback, _ = Feedback.objects.update_or_create(
        alert=alert, rater=rater, defaults={"verdict": verdict, "rule_id": alert.rule_id, "user": user, "created_at": now},
    )
    AlertEvent.objects.create(alert=alert, state="feedback", note=f"{rater}: {Verdict(verdict).label}")
    rule = AlertRule.objects.select_for_update().get(pk=alert.rule_id)
    stats = rule_precision(rule=rule, now=now)
    if rule.demoted_at is None and stats["ratings"] >= MIN_RATINGS and stats["precision"] < PRECISION_FLOOR:
        rule.demoted_at = now
        rule.save(update_fields=["demoted_at"])
    return feedback
