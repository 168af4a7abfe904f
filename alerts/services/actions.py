"""What a reader does to an alert: acknowledge it (no reminders), snooze it until it gets worse."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from .. import clock
from ..models import Alert, AlertEvent, State


class NotFiring(ValueError):
    pass


@transaction.atomic
def alert_acknowledge(*, alert: Alert, user, now: datetime | None = None) -> Alert:
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.state != State.FIRING:
        raise NotFiring("Only a firing alert can be acknowledged.")
    alert.acknowledged_at, alert.acknowledged_by = now or clock.now(), user
    alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    AlertEvent.objects.create(alert=alert, state="acknowledged", note=f"by {user.get_username()}", value=alert.value)
    return alert


@transaction.atomic
def alert_snooze(*, alert: Alert, user) -> Alert:
    """Nothing more is sent about this firing alert unless its value gets further past the threshold."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.state != State.FIRING:
        raise NotFiring("Only a firing alert can be snoozed.")
    alert.snoozed_value = alert.value
    alert.save(update_fields=["snoozed_value"])
    AlertEvent.objects.create(alert=alert, state="snoozed", value=alert.value,
                              note=f"until worse than {alert.value:.3g}, by {user.get_username()}")
    return alert
