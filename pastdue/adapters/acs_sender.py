"""The ACS Email sender (Azure Communication Services): managed identity in Azure, a connection string where
one is given. The SDK is imported when a sender is made, so importing this module loads none."""

from __future__ import annotations

import base64

from pastdue.adapters.email import Email, EmailSender, SendFailed, Throttled


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
