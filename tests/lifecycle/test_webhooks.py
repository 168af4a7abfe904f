"""Deployment webhooks: signed with HMAC-SHA256, retried with backoff by a real Celery worker."""

import hashlib
import hmac
import json
import time

import pytest
from django.db import transaction

from lifecycle.models import Delivery, Event, EventKind
from lifecycle.services.policy import policy_update
from lifecycle.services.webhooks import delivery_create, signature

from .factories import binary_model, version
from .webhook_server import Receiver


def _wait(check, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_signature_is_hmac_sha256_of_timestamp_and_body():
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature(secret="s3cret", timestamp="1700000000", body=b"{}") == expected


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_failed_calls_are_retried_with_backoff_and_every_attempt_recorded(settings):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    settings.VIGIL_WEBHOOK_BACKOFF_SECONDS = 0.3
    model = binary_model()
    v1 = version(model, "v1", stage="production")
    with Receiver(fail_first=2) as receiver:
        policy_update(model=model, deployment_webhook=receiver.url, webhook_secret="s3cret")
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            with transaction.atomic():
                event = Event.objects.create(model=model, kind=EventKind.PROMOTION, version=v1, actor="test")
                delivery = delivery_create(event=event, url=receiver.url, payload={"production": "v1"})
            assert _wait(lambda: Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.DELIVERED)
    delivery.refresh_from_db()
    attempts = list(delivery.attempts.all())
    assert [a.status_code for a in attempts] == [503, 503, 200]
    assert "503" in attempts[0].error and attempts[2].error == ""
    assert len(receiver.calls) == 3
    for call in receiver.calls:
        stamp = call["headers"]["X-Vigil-Timestamp"]
        expected = hmac.new(b"s3cret", stamp.encode() + b"." + call["body"], hashlib.sha256).hexdigest()
        assert call["headers"]["X-Vigil-Signature"] == f"sha256={expected}"
        assert json.loads(call["body"]) == {"production": "v1"}


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_receiver_is_recorded_and_given_up_after_the_last_attempt(settings):
    from lifecycle.services.webhooks import MAX_ATTEMPTS, delivery_attempt

    model = binary_model()
    v1 = version(model, "v1", stage="production")
    event = Event.objects.create(model=model, kind=EventKind.PROMOTION, version=v1, actor="test")
    delivery = Delivery.objects.create(event=event, url="http://127.0.0.1:9/nothing", payload={})
    for _ in range(MAX_ATTEMPTS):
        assert delivery_attempt(delivery_id=delivery.pk, secret="") is False
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts.count() == MAX_ATTEMPTS and "ConnectionError" in delivery.attempts.first().error
