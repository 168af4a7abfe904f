"""Reminders: a critical alert that still fires and nobody acknowledged is mailed again, every
``VIGIL_ALERT_REMINDER_HOURS`` after readers were last told. Acknowledging, snoozing, a silence,
resolving (and flapping or demotion, which leave an alert to the digest) stop them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from .. import clock
from ..models import Alert, AlertEvent, NotificationKind, State
from .notify import _suppression, notifications_write, silences_active


def reminders_due(*, now: datetime) -> list[Alert]:
    hours = settings.VIGIL_ALERT_REMINDER_HOURS
    if hours <= 0:
        return []
    return list(Alert.objects.filter(
        state=State.FIRING, severity="critical", acknowledged_at__isnull=True, snoozed_value__isnull=True,
        flapping=False, told_at__lte=now - timedelta(hours=hours), rule__enabled=True,
    ).select_related("rule", "model"))


def reminders_send(*, now: datetime | None = None) -> int:
    """Write the due reminders to the outbox, one message per model and recipient; returns how many
    models were reminded of something. Each alert is claimed with an atomic update of ``told_at``
    (from the value read), in the transaction that writes its message: two workers remind once."""
    now = now or clock.now()
    per_model: dict[int, list[Alert]] = defaultdict(list)
    for alert in reminders_due(now=now):
        per_model[alert.model_id].append(alert)
    reminded = 0
    for alerts in per_model.values():
        model = alerts[0].model
        with transaction.atomic():
            firing = list(Alert.objects.filter(model=model, state=State.FIRING).select_related("rule"))
            silences = silences_active(model_id=model.id, now=now)
            claimed = []
            for alert in alerts:
                if _suppression(alert, [a for a in firing if a.pk != alert.pk], silences):
                    continue  # silenced or held by an inhibitor: nothing to remind of now
                if Alert.objects.filter(pk=alert.pk, state=State.FIRING, acknowledged_at__isnull=True,
                                        told_at=alert.told_at).update(told_at=now) == 1:
                    claimed.append(alert)
                    AlertEvent.objects.create(alert=alert, state="reminded", value=alert.value,
                                              note="still firing, not acknowledged: reminder sent")
            if claimed:
                notifications_write(model=model, kind=NotificationKind.REMINDER, alerts=claimed, now=now)
                reminded += 1
    return reminded
