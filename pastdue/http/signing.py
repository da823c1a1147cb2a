"""Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...].

The signed string binds the signature to what it authorises: the time, the method, the path (with
its query, if any) and the raw body, one per line: "<t>\n<METHOD>\n<path>\n<raw body>". A signed
request replayed to another path or with another method does not verify."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from pastdue.http.problems import Unauthorized

TOLERANCE_SECONDS = 300
MAX_HEADER = 2048
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes "²"
_DIGEST = re.compile(r"[0-9a-f]{64}")


def signed_string(timestamp: int | str, method: str, path: str, body: bytes) -> bytes:
    return f"{timestamp}\n{method.upper()}\n{path}\n".encode() + body


def sign(secret: str, method: str, path: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), signed_string(timestamp, method, path, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    header: str | None, method: str, path: str, body: bytes, secrets: tuple[str, ...], now: float | None = None
) -> None:
    """Raise Unauthorized unless one v1 matches one secret. Uses the real clock, never business time."""
    _verify("Webhook-Signature", header, secrets, lambda t: signed_string(t, method, path, body), now)


def verify_stripe(header: str | None, body: bytes, secrets: tuple[str, ...], now: float | None = None) -> None:
    """Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>"> (Stripe's documented
    scheme; v0 and other schemes are ignored). Several endpoint secrets are tried (rotation). Not the SDK's
    WebhookSignature.verify_header: it takes one secret per call and refuses only timestamps too old (one
    dated in the future passes); signatures it makes verify here (tests/unit/test_http_security.py)."""
    _verify("Stripe-Signature", header, secrets, lambda t: t.encode() + b"." + body, now)


def _verify(name: str, header: str | None, secrets: tuple[str, ...], signed, now: float | None) -> None:
    if not header:
        raise Unauthorized(f"missing {name} header")
    if len(header) > MAX_HEADER:
        raise Unauthorized(f"malformed {name} header")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1" and _DIGEST.fullmatch(value):
            signatures.append(value)
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp) or not signatures:
        raise Unauthorized(f"malformed {name} header")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise Unauthorized(f"{name} timestamp is outside the 300 s tolerance")
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed(timestamp), hashlib.sha256).hexdigest()
        # compare_digest on every candidate: no early exit that would leak timing.
        if any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            return
    raise Unauthorized(f"{name} does not match")
