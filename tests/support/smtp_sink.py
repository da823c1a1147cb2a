"""A real SMTP server (aiosmtpd) that records what it receives, by operation id."""

from __future__ import annotations

import threading
from collections import Counter
from email import message_from_bytes

from aiosmtpd.controller import Controller

from tests.support.stack import free_port


class Sink:
    def __init__(self):
        self.received: Counter = Counter()
        self.recipients: list[str] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content)
        with self.lock:
            self.received[message["X-Operation-Id"]] += 1
            self.recipients.append(message["To"])
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port
