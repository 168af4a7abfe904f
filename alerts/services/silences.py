"""Silences (who, why, until, what they match) and the announcement of their end."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from .. import clock
from ..models import Alert, AlertEvent, NotificationKind, Silence, State
from .notify import notifications_write


class SilenceInvalid(ValueError):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def silence_create(*, model, until: datetime, reason: str, rule=None, kind: str = "", user=None,
                   created_by_name: str = "", now: datetime | None = None) -> Silence:
    now = now or clock.now()
    errors: dict[str, list[str]] = {}
    if until <= now:
        errors["until"] = ["Must be in the future."]
    if not reason.strip():
        errors["reason"] = ["Say why (it is shown to whoever wonders why no mail came)."]
    if rule is not None and rule.model_id != model.id:
        errors["rule"] = ["This rule belongs to another model."]
    if errors:
        raise SilenceInvalid(errors)
    return Silence.objects.create(
        model=model, rule=rule, kind=kind, reason=reason.strip(), created_by=user,
        created_by_name=created_by_name or (user.get_username() if user else ""), starts_at=now, ends_at=until,
    )


def silence_end(*, silence: Silence, now: datetime | None = None) -> None:
    """End a silence now (its end is then announced like any other)."""
    now = now or clock.now()
    Silence.objects.filter(pk=silence.pk, ends_at__gt=now).update(ends_at=now)


def silences_end_announce(*, now: datetime | None = None) -> int:
    """For each silence that ended and was not yet announced: one message listing its alerts that
    still fire. Claimed with an atomic update so two workers announce it once."""
    now = now or clock.now()
    announced = 0
    for silence in Silence.objects.filter(ends_at__lte=now, end_announced_at__isnull=True).select_related("model"):
        with transaction.atomic():
            if Silence.objects.filter(pk=silence.pk, end_announced_at__isnull=True).update(end_announced_at=now) != 1:
                continue
            still = [a for a in Alert.objects.filter(model=silence.model, state=State.FIRING).select_related("rule")
                     if silence.matches(a) and a.acknowledged_at is None]
            for alert in still:
                AlertEvent.objects.create(alert=alert, state="silence_ended", value=alert.value,
                                          note=f"silence ended ({silence.reason}); still firing")
            if still:
                Alert.objects.filter(pk__in=[a.pk for a in still]).update(told_at=now)
                notifications_write(model=silence.model, kind=NotificationKind.SILENCE_ENDED, alerts=still, now=now)
                announced += 1
    return announced
