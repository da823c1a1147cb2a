"""An e-mail sender in memory (the port: pastdue/adapters/email.py): it records what it sent, and can be told
to throttle or fail the next sends."""

from __future__ import annotations

import threading
from collections import deque

from pastdue.adapters.email import EmailSender, SendFailed, Throttled
from pastdue.notices.message import Email


class MemorySender(EmailSender):
    """`sent` holds every e-mail delivered, in order. A header with a line break is refused for good, as the
    real senders refuse a message they cannot build; `fail_next` makes the next sends raise what a service
    answers (Throttled, or SendFailed), one each, delivering nothing."""

    def __init__(self) -> None:
        self.sent: list[Email] = []
        self._failures: deque[Throttled | SendFailed] = deque()
        self._lock = threading.Lock()

    def fail_next(self, *errors: Throttled | SendFailed) -> None:
        with self._lock:
            self._failures.extend(errors)

    def send(self, email: Email) -> None:
        if any("\r" in header or "\n" in header for header in (email.to, email.subject, email.reply_to or "")):
            raise SendFailed("message cannot be built: a line break in a header", permanent=True)
        with self._lock:
            if self._failures:
                raise self._failures.popleft()
            self.sent.append(email)
