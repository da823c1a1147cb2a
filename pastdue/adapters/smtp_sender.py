"""The SMTP sender (local runs against maildev, and the tests' SMTP catcher)."""

from __future__ import annotations

import contextlib
import smtplib
import threading
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from pastdue.adapters.email import Email, EmailSender, SendFailed


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
