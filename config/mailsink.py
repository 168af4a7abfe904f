"""The embedded mail sink of ``make run``: with no EMAIL_HOST, alert mail goes to a real SMTP
server (aiosmtpd) on 127.0.0.1 that keeps each message as a .eml file under var/mail/. Vigil's
notification log shows the same messages rendered, so a new user sees the emails there."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self, folder: Path):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 OK"


class MailSink:
    def __init__(self, folder: Path, port: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.controller = Controller(_Keep(folder), hostname="127.0.0.1", port=port)
        self.controller.start()

    def shutdown(self) -> None:
        self.controller.stop()


def start_mail_sink(folder: Path) -> MailSink:
    with socket.socket() as s:  # aiosmtpd cannot take port 0
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return MailSink(folder, port)
