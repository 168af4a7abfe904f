"""The daily digest per model: open incidents, what resolved, silences about to end, the noisiest
rules, and what was left to the digest (info, demoted or flapping alerts)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse

from core.emails import email_build
from monitoring.models import MLModel

from .. import clock
from ..models import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    DigestMark,
    Notification,
    NotificationKind,
    Silence,
    State,
)
from .links import absolute
from .recipients import recipients_resolve

DAY = timedelta(days=1)


def digest_context(*, model, now: datetime) -> dict | None:
    open_alerts = list(Alert.objects.filter(model=model, state=State.FIRING).select_related("rule").order_by("kind"))
    resolved = list(Alert.objects.filter(model=model, state=State.RESOLVED, resolved_at__gte=now - DAY))
    ending = list(Silence.objects.filter(model=model, ends_at__gt=now, ends_at__lte=now + DAY))
    held = list(AlertEvent.objects.filter(alert__model=model, state__in=["suppressed", "flapping"],
                                          created_at__gte=now - DAY).select_related("alert").order_by("-created_at")[:20])
    noisy = list(AlertRule.objects.filter(model=model, alerts__events__state__in=["firing", "resolved"],
                                          alerts__events__created_at__gte=now - 7 * DAY)
                 .annotate(flips=Count("alerts__events")).order_by("-flips")[:5])
    if not (open_alerts or resolved or ending or held):
        return None
    return {
        "model": model, "now": now, "open": open_alerts, "resolved": resolved, "ending": ending, "held": held,
        "noisy": noisy, "dashboard_url": absolute(reverse("monitoring:model", args=[model.slug])),
        "alerts_url": absolute(reverse("alerts:list") + f"?model={model.slug}"),
        "rules_url": absolute(reverse("alerts:rules", args=[model.slug])),
    }


def digests_send(*, now: datetime | None = None) -> int:
    """Write today's digest of each model with something to say, once a day from VIGIL_DIGEST_HOUR (UTC)."""
    now = now or clock.now()
    if now.hour < settings.VIGIL_DIGEST_HOUR:
        return 0
    written = 0
    for model in MLModel.objects.filter(alert_rules__isnull=False).distinct():
        try:
            with transaction.atomic():
                DigestMark.objects.create(model=model, day=now.date())
                context = digest_context(model=model, now=now)
                if context is None:
                    continue
                addresses = sorted({a for rule in model.alert_rules.filter(enabled=True) for a in recipients_resolve(rule=rule)})
                for address in addresses:
                    message = email_build(name="digest", to=[address], context={**context, "recipient": address})
                    Notification.objects.create(
                        model=model, kind=NotificationKind.DIGEST, channel=Channel.EMAIL, severity="info",
                        recipient=address, subject=message.subject, body_text=message.body,
                        body_html=message.alternatives[0][0], send_after=now,
                    )
                written += 1
        except IntegrityError:
            continue  # another worker wrote today's digest of this model
    return written
