"""core.emails: a template triplet rendered into one message and sent over real SMTP (aiosmtpd)."""

import email
import socket
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from core.emails import email_build, email_send

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def triplets(settings):
    """The test-only triplets under tests/core/templates/emails/, next to the project's."""
    engine = {**settings.TEMPLATES[0], "DIRS": [TEMPLATES, *settings.TEMPLATES[0]["DIRS"]]}
    settings.TEMPLATES = [engine, *settings.TEMPLATES[1:]]


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    yield inbox
    controller.stop()


def test_triplet_is_sent_over_smtp(triplets, smtp, settings):
    context = {"name": "Ada", "topic": "Drift & <income>", "urgent": True}
    assert email_send(name="greeting", to=["ds@example.com"], context=context) == 1

    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["ds@example.com"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "URGENT: Hello Ada, about Drift & <income>"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Drift & <income> needs a look." in text
    assert "<strong>Drift &amp; &lt;income&gt;</strong>" in html


def test_subject_is_one_line_and_headers_pass_through(triplets):
    message = email_build(name="greeting", to=["a@example.com"], context={"name": "Bo", "topic": "volume"},
                          from_email="alerts@example.com", headers={"X-Vigil-Alert": "7"})
    assert message.subject == "Hello Bo, about volume"
    assert message.from_email == "alerts@example.com" and message.extra_headers == {"X-Vigil-Alert": "7"}
    assert message.alternatives[0][1] == "text/html"
