"""Reads of the alerts app (pages, API, and the lifecycle app's promotion gate)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from monitoring.models import ModelVersion

from .models import Alert, AlertRule, Notification, Silence, State

# Versions that take traffic or log it: the ones whose silence is news.
LIVE_STAGES = ("production", "canary", "shadow")


def alerts_firing(*, version, severity: str | None = None) -> QuerySet[Alert]:
    """The version's alerts firing now (``severity``: only those of it). For the promotion gate."""
    found = Alert.objects.filter(version=version, state=State.FIRING)
    return found.filter(severity=severity) if severity else found


def alert_list(*, model=None, severity: str = "", state: str = "") -> QuerySet[Alert]:
    """Firing first, then the most recently changed; ok (never fired) alerts are not listed."""
    found = Alert.objects.exclude(state=State.OK).select_related("model", "rule", "version")
    if model is not None:
        found = found.filter(model=model)
    if severity:
        found = found.filter(severity=severity)
    if state:
        found = found.filter(state=state)
    firing_first = Case(When(state=State.FIRING, then=Value(0)), default=Value(1), output_field=IntegerField())
    return found.annotate(firing_first=firing_first).order_by("firing_first", "-updated_at", "-id")


def rule_list(*, model) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(model=model).order_by("id")


def silence_list(*, model=None) -> QuerySet[Silence]:
    found = Silence.objects.select_related("model", "rule")
    return found.filter(model=model) if model is not None else found


def notification_log(*, model=None, status: str = "") -> QuerySet[Notification]:
    found = Notification.objects.select_related("model")
    if model is not None:
        found = found.filter(model=model)
    if status:
        found = found.filter(status=status)
    return found.order_by("-created_at", "-id")


def versions_live() -> list[int]:
    """Ids of the versions in a live stage whose model has an enabled rule."""
    return list(ModelVersion.objects.filter(stage__in=LIVE_STAGES, model__alert_rules__enabled=True)
                .values_list("id", flat=True).distinct().order_by("id"))
