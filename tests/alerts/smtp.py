"""A real SMTP server (aiosmtpd) for the alerts tests, and the settings that send to it."""

from __future__ import annotations

import email
import socket
import threading
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """Collects every message; ``hold`` (a predicate on the message) makes the server wait before
    answering 250, so a test can kill a sender after the server has the message."""

    def __init__(self):
        self.messages: list[Message] = []
        self.lock = threading.Lock()
        self.hold = None
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.messages.append(message)
        if self.hold is not None and self.hold(message):
            self.hold = None
            self.holding.set()
            while not self.release.is_set():
                import asyncio

                await asyncio.sleep(0.05)
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            return [str(email.header.make_header(email.header.decode_header(m["Subject"]))) for m in self.messages]

    def text(self, i: int) -> str:
        message = self.messages[i]
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
        return ""


def start_sink(settings) -> tuple[Sink, Controller]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    return sink, controller
