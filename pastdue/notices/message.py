"""A rendered e-mail: what the notices produce and every sender delivers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    operation_id: str  # deterministic: the notice id; the service deduplicates on it
    to: str
    subject: str
    text: str
    html: str
