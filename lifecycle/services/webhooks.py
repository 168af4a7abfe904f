"""Signed webhook calls (deployment, retraining): one row per call, one per attempt.

The body is signed with HMAC-SHA256 over ``<timestamp>.<body>`` with the model's secret, sent as
``X-Vigil-Signature: sha256=<hex>`` with ``X-Vigil-Timestamp``, so a receiver can check both the
sender and the freshness (a replayed call carries an old timestamp).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests
from django.db import transaction
from django.utils import timezone

from lifecycle.models import Attempt, Delivery, Event

TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 6


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``timestamp.body`` under ``secret``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def delivery_create(*, event: Event, url: str, payload: dict) -> Delivery:
    """Record a call to make and send it from a Celery task once the change has committed."""
    from lifecycle.tasks import deliver_webhook_task

    delivery = Delivery.objects.create(event=event, url=url, payload=payload)
    transaction.on_commit(lambda: deliver_webhook_task.delay(delivery.pk))
    return delivery


def delivery_attempt(*, delivery_id: int, secret: str) -> bool:
    """One attempt: POST the signed payload, record it; True when delivered (2xx) or already done."""
    delivery = Delivery.objects.get(pk=delivery_id)
    if delivery.status == Delivery.Status.DELIVERED:
        return True
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Vigil-Timestamp": stamp, "X-Vigil-Delivery": str(delivery.pk)}
    if secret:
        headers["X-Vigil-Signature"] = "sha256=" + signature(secret=secret, timestamp=stamp, body=body)
    number = delivery.attempts.count() + 1
    began = time.perf_counter()
    status_code, error = None, ""
    try:
        response = requests.post(delivery.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}: {response.text[:200]}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    Attempt.objects.create(delivery=delivery, number=number, status_code=status_code, error=error,
                           duration_ms=(time.perf_counter() - began) * 1000)
    ok = not error
    if ok:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DELIVERED, delivered_at=timezone.now())
    elif number >= MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.FAILED)
    return ok
