"""The sender: claim one due outbox row with an atomic update, deliver it, record the attempt.

A row is claimed by ``UPDATE ... WHERE status = 'pending' AND send_after <= now`` (or a
``sending`` row whose claim outlived the lease: its sender died). Only the worker whose update
counted 1 sends it, so two workers never send the same message. A sender killed after the mail
server took the message but before it marked the row sent leaves the row ``sending``; after the
lease it is sent again: at most one resend, of that one message."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q

from .. import clock
from ..models import Channel, DeliveryAttempt, Notification, Status

MAX_ATTEMPTS = 8
BACKOFF = [30, 60, 120, 300, 600, 1800, 3600]  # seconds before attempt 2, 3, ...
SIGNATURE_HEADER = "X-Vigil-Signature"


def _lease() -> timedelta:
    return timedelta(seconds=settings.VIGIL_ALERT_SEND_LEASE_SECONDS)


def signature(body: bytes, secret: str) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body with the shared secret (as GitHub signs webhooks)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    return hmac.compare_digest(signature(body, secret), header or "")


def notification_claim(*, notification_id: int, now: datetime) -> str | None:
    """The claim token when this worker won the row, else None."""
    token = secrets.token_hex(8)
    won = Notification.objects.filter(
        Q(status=Status.PENDING, send_after__lte=now) | Q(status=Status.SENDING, claimed_at__lt=now - _lease()),
        pk=notification_id,
    ).update(status=Status.SENDING, claimed_at=now, claim=token)
    return token if won == 1 else None


def _deliver(n: Notification) -> int | None:
    if n.channel == Channel.EMAIL:
        message = EmailMultiAlternatives(n.subject, n.body_text, None, [n.recipient],
                                         headers={"X-Vigil-Notification": str(n.pk)})
        message.attach_alternative(n.body_html, "text/html")
        message.send()
        return None
    body = json.dumps(n.payload, sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Vigil-Alerts",
               "X-Vigil-Notification": str(n.pk)}
    if n.channel == Channel.WEBHOOK:
        headers[SIGNATURE_HEADER] = signature(body, settings.VIGIL_WEBHOOK_SECRET)
    response = requests.post(n.recipient, data=body, headers=headers, timeout=settings.VIGIL_WEBHOOK_TIMEOUT)
    response.raise_for_status()
    return response.status_code


def notification_send(*, notification_id: int, now: datetime | None = None) -> bool:
    """Claim and deliver one message; True when delivered by this call."""
    now = now or clock.now()
    token = notification_claim(notification_id=notification_id, now=now)
    if token is None:
        return False
    n = Notification.objects.get(pk=notification_id)
    attempt = DeliveryAttempt.objects.create(notification=n, started_at=clock.now())
    try:
        code = _deliver(n)
    except Exception as exc:  # SMTP, DNS, HTTP: each is retried with backoff and shown in the log
        code = getattr(getattr(exc, "response", None), "status_code", None)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(finished_at=clock.now(), status_code=code, error=error)
        attempts = n.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)]
        Notification.objects.filter(pk=n.pk, claim=token).update(
            status=Status.FAILED if failed else Status.PENDING, attempts=attempts, last_error=error,
            send_after=now + timedelta(seconds=delay),
        )
        return False
    DeliveryAttempt.objects.filter(pk=attempt.pk).update(finished_at=clock.now(), ok=True, status_code=code)
    Notification.objects.filter(pk=n.pk, claim=token).update(
        status=Status.SENT, sent_at=clock.now(), attempts=n.attempts + 1, last_error=""
    )
    return True


def outbox_due(*, now: datetime, limit: int = 500) -> list[int]:
    return list(
        Notification.objects.filter(
            Q(status=Status.PENDING, send_after__lte=now) | Q(status=Status.SENDING, claimed_at__lt=now - _lease())
        ).order_by("send_after", "id").values_list("pk", flat=True)[:limit]
    )


def outbox_send_due(*, now: datetime | None = None) -> int:
    """Send every due message (each claimed on its own); returns how many this call delivered."""
    now = now or clock.now()
    return sum(notification_send(notification_id=pk, now=now) for pk in outbox_due(now=now))
