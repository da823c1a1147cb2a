"""A rendered e-mail: what the notices produce and every sender delivers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Inline:
    """An image the HTML shows by its Content-ID (`<img src="cid:...">`): mail clients that strip `data:`
    images (Gmail) or break them (Outlook) show these."""

    content_id: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    operation_id: str  # deterministic: the notice id; the service deduplicates on it
    to: str
    subject: str
    text: str
    html: str
    inline: tuple[Inline, ...] = ()
    reply_to: str | None = None  # where a reply goes (the support address); the sender stays DoNotReply@
