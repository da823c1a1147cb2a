"""The e-mail port: what a sender takes (a rendered Email) and the two ways it can refuse one. ACS Email sends
in Azure (adapters/acs_sender.py), SMTP locally and in tests (adapters/smtp_sender.py); the composition root
(pastdue/bootstrap.py) picks one by EMAIL_TRANSPORT."""

from __future__ import annotations

from abc import ABC, abstractmethod

from pastdue.notices.message import Email

__all__ = ["Email", "EmailSender", "SendFailed", "Throttled"]


class Throttled(Exception):
    def __init__(self, retry_after_seconds: float):
        super().__init__(f"throttled, retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class SendFailed(Exception):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


class EmailSender(ABC):
    @abstractmethod
    def send(self, email: Email) -> None:
        """Deliver or raise Throttled / SendFailed."""
