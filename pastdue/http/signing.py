"""Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=...]."""

from __future__ import annotations

import hashlib
import hmac
import time

from pastdue.http.problems import Unauthorized

TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(header: str | None, body: bytes, secrets: tuple[str, ...], now: float | None = None) -> None:
    """Raise Unauthorized unless one v1 matches one secret. Uses the real clock, never business time."""
    if not header:
        raise Unauthorized("missing Webhook-Signature header")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise Unauthorized("malformed Webhook-Signature header")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise Unauthorized("Webhook-Signature timestamp is outside the 300 s tolerance")
    for secret in secrets:
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        # compare_digest on every candidate: no early exit that would leak timing.
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return
    raise Unauthorized("Webhook-Signature does not match")
