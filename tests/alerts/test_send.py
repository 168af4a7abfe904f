"""Delivery from the outbox to a real SMTP server and real HTTP endpoints: exactly once under
races, at most one resend after a killed sender, retries with backoff, signed webhooks."""

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.db import connection

from alerts.models import AlertRule, DeliveryAttempt, Notification, Status
from alerts.services.evaluate import alerts_evaluate
from alerts.services.send import SIGNATURE_HEADER, outbox_send_due, signature, signature_valid
from tests.threads import run_threads

from .factories import NOW, hours, make_model
from .smtp import free_port, start_sink

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sink(settings):
    sink, controller = start_sink(settings)
    yield sink
    sink.release.set()
    controller.stop()


def _outbox(n: int) -> list[Notification]:
    version = make_model()
    return [
        Notification.objects.create(model=version.model, kind="firing", channel="email", recipient=f"r{i}@example.com",
                                    subject=f"[Vigil] message {i}", body_text=f"text {i}", body_html=f"<p>{i}</p>",
                                    send_after=NOW)
        for i in range(n)
    ]


@pytest.mark.django_db(transaction=True)
def test_two_senders_racing_send_each_message_once(sink):
    _outbox(30)
    sent = run_threads(lambda: outbox_send_due(now=NOW), lambda: outbox_send_due(now=NOW))
    assert sum(sent) == 30
    assert sorted(sink.subjects()) == sorted(f"[Vigil] message {i}" for i in range(30))
    assert Notification.objects.filter(status=Status.SENT).count() == 30
    assert DeliveryAttempt.objects.count() == 30


SENDER = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from datetime import datetime
from alerts.services.send import outbox_send_due
outbox_send_due(now=datetime.fromisoformat(sys.argv[2]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_send_resends_only_that_message_once(sink, settings):
    messages = _outbox(4)
    held = messages[1]
    # The server has message 1's content but has not said 250 when the sender dies.
    sink.hold = lambda m: m["Subject"] == held.subject
    env = {**os.environ, "EMAIL_BACKEND": settings.EMAIL_BACKEND, "EMAIL_HOST": "127.0.0.1",
           "EMAIL_PORT": str(settings.EMAIL_PORT)}
    sender = subprocess.Popen([sys.executable, "-c", SENDER, connection.settings_dict["NAME"], NOW.isoformat()],
                              cwd=ROOT, env=env)
    try:
        assert sink.holding.wait(60), "the sender never reached the held message"
        sender.send_signal(signal.SIGKILL)
        sender.wait(30)
    finally:
        sink.release.set()
    assert Notification.objects.get(pk=held.pk).status == Status.SENDING
    # Before the lease runs out nobody touches the dead sender's claim ...
    assert outbox_send_due(now=NOW + timedelta(seconds=5)) == 2
    assert Notification.objects.get(pk=held.pk).status == Status.SENDING
    # ... after it, the message is sent again: once.
    later = NOW + timedelta(seconds=settings.VIGIL_ALERT_SEND_LEASE_SECONDS + 1)
    assert outbox_send_due(now=later) == 1
    assert outbox_send_due(now=later + timedelta(hours=1)) == 0
    counts = {m.subject: sink.subjects().count(m.subject) for m in messages}
    assert counts == {messages[0].subject: 1, held.subject: 2, messages[2].subject: 1, messages[3].subject: 1}
    assert Notification.objects.filter(status=Status.SENT).count() == 4


class Receiver(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((self.path, dict(self.headers), body))
        if Receiver.fail_first > 0:
            Receiver.fail_first -= 1
            self.send_response(503)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.received, Receiver.fail_first = [], 0
    server = HTTPServer(("127.0.0.1", free_port()), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.django_db
def test_webhooks_are_signed_and_retried_with_backoff(receiver, settings):
    settings.VIGIL_WEBHOOK_SECRET = "s3cret"
    version = make_model(email="")
    AlertRule.objects.filter(model=version.model, kind="drift").update(webhook=f"{receiver}/hook", recipients=[])
    Receiver.fail_first = 1
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "xx", feature="income"))
    assert outbox_send_due(now=NOW) == 0
    n = Notification.objects.get(channel="webhook")
    assert n.status == Status.PENDING and n.attempts == 1 and "503" in n.last_error
    assert n.send_after == NOW + timedelta(seconds=30)  # backoff before the second attempt
    assert outbox_send_due(now=NOW + timedelta(seconds=10)) == 0
    assert outbox_send_due(now=NOW + timedelta(minutes=5)) == 1
    attempts = list(n.attempt_log.values_list("ok", "status_code"))
    assert attempts == [(False, 503), (True, 200)]
    path, headers, body = Receiver.received[-1]
    assert signature_valid(body, headers[SIGNATURE_HEADER], "s3cret")
    assert not signature_valid(body, headers[SIGNATURE_HEADER], "other")
    assert headers[SIGNATURE_HEADER] == signature(body, "s3cret")
    payload = json.loads(body)
    assert payload["model"] == "loan-default" and payload["alerts"][0]["features"] == ["income"]


@pytest.mark.django_db
def test_slack_format_posts_text(receiver):
    version = make_model(email="")
    AlertRule.objects.filter(model=version.model, kind="drift").update(
        webhook=f"{receiver}/slack", webhook_format="slack", recipients=[])
    alerts_evaluate(version_id=version.id, now=NOW, conditions=hours("drift", "xx", feature="income"))
    assert outbox_send_due(now=NOW) == 1
    _, _, body = Receiver.received[-1]
    assert "FIRING loan-default" in json.loads(body)["text"]


@pytest.mark.django_db
def test_smtp_failure_is_retried_and_visible(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    (n,) = _outbox(1)
    assert outbox_send_due(now=NOW) == 0
    n.refresh_from_db()
    assert n.status == Status.PENDING and n.attempts == 1 and n.last_error
    assert n.attempt_log.get().ok is False
