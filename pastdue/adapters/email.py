"""E-mail senders behind one port: ACS Email in Azure, SMTP locally (maildev)."""

from __future__ import annotations

import base64
import contextlib
import smtplib
import threading
from abc import ABC, abstractmethod
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from pastdue.notices.message import Email
from pastdue.settings import Settings

__all__ = ["AcsSender", "Email", "EmailSender", "SendFailed", "SmtpSender", "Throttled", "make_sender"]


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


class SmtpSender(EmailSender):
    """Local runs (maildev) and tests: one SMTP connection per thread, kept open between messages and opened
    again when the server has closed it (a message counts as sent only on the server's 250, so sending it
    again on a new connection after a disconnect never delivers it twice)."""

    def __init__(self, sender: str, host: str, port: int, display_name: str | None = None):
        self._sender = formataddr((display_name, sender)) if display_name else sender
        self._host, self._port = host, port
        self._local = threading.local()

    def send(self, email: Email) -> None:
        try:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = self._sender, email.to, email.subject
            if email.reply_to:
                message["Reply-To"] = email.reply_to
            message["Message-ID"] = make_msgid(idstring=email.operation_id.replace(":", "."))
            message["X-Operation-Id"] = email.operation_id
            message.set_content(email.text)
            message.add_alternative(email.html, subtype="html")
            if email.inline:
                # multipart/related: the HTML and the images it shows by Content-ID (the EPC QR code).
                html = message.get_payload()[-1]  # type: ignore[index]
                for image in email.inline:
                    maintype, subtype = image.content_type.split("/", 1)
                    html.add_related(  # type: ignore[union-attr]
                        image.data, maintype, subtype, cid=f"<{image.content_id}>", filename=image.filename
                    )
        except (ValueError, TypeError) as error:  # e.g. a line break in a header: no retry can help
            raise SendFailed(f"message cannot be built: {error}", permanent=True) from None
        try:
            try:
                self._connection(reuse=True).send_message(message)
            except (smtplib.SMTPServerDisconnected, ConnectionError, smtplib.SMTPResponseException) as error:
                # Closed while idle (the server timed the kept connection out: it answers 421 to the next
                # command, or is gone): a new connection, once. Any other answer is the message's own.
                if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code != 421:
                    raise
                self._connection(reuse=False).send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise SendFailed(f"recipient refused: {error}", permanent=True) from None
        except (OSError, smtplib.SMTPException) as error:
            self._close()
            raise SendFailed(f"smtp: {type(error).__name__}: {error}") from None

    def _connection(self, reuse: bool) -> smtplib.SMTP:
        smtp = getattr(self._local, "smtp", None)
        if smtp is None or not reuse:
            self._close()
            smtp = self._local.smtp = smtplib.SMTP(self._host, self._port, timeout=10)
        return smtp

    def _close(self) -> None:
        smtp, self._local.smtp = getattr(self._local, "smtp", None), None
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.close()


class AcsSender(EmailSender):
    def __init__(self, sender: str, endpoint: str | None = None, connection_string: str | None = None, **client_kwargs):
        from azure.communication.email import EmailClient

        if connection_string:
            self._client = EmailClient.from_connection_string(connection_string, **client_kwargs)
        elif endpoint is None:
            raise ValueError("ACS needs its endpoint (managed identity) or a connection string")
        else:
            from azure.identity import DefaultAzureCredential

            self._client = EmailClient(endpoint, DefaultAzureCredential(), **client_kwargs)
        self._sender = sender

    def send(self, email: Email) -> None:
        from azure.core.exceptions import HttpResponseError

        message: dict = {
            "senderAddress": self._sender,
            "recipients": {"to": [{"address": email.to}]},
            "content": {"subject": email.subject, "plainText": email.text, "html": email.html},
        }
        if email.reply_to:
            message["replyTo"] = [{"address": email.reply_to}]
        if email.inline:
            # Inline attachments: the HTML shows each by its Content-ID (`cid:`), as ACS supports them.
            message["attachments"] = [
                {
                    "name": image.filename,
                    "contentType": image.content_type,
                    "contentInBase64": base64.b64encode(image.data).decode(),
                    "contentId": image.content_id,
                }
                for image in email.inline
            ]
        try:
            poller = self._client.begin_send(message, operation_id=email.operation_id)
            result = poller.result()
        except HttpResponseError as error:
            status = error.status_code or 0
            if status == 429:
                raise Throttled(_retry_after(error)) from None
            raise SendFailed(f"acs: {status} {error.reason or ''}".strip(), permanent=400 <= status < 429) from None
        if (result or {}).get("status") not in ("Succeeded", None):
            raise SendFailed(f"acs: operation {result.get('status')}: {result.get('error')}")


def _retry_after(error) -> float:
    headers = getattr(getattr(error, "response", None), "headers", {}) or {}
    try:
        return max(1.0, float(headers.get("Retry-After", 60)))
    except ValueError:
        return 60.0


def make_sender(settings: Settings) -> EmailSender:
    if settings.email_transport == "smtp":
        return SmtpSender(settings.email_sender, settings.smtp_host, settings.smtp_port, settings.branding.sender_name)
    return AcsSender(settings.email_sender, settings.acs_endpoint, settings.acs_connection_string)
