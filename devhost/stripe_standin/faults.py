"""Fault injection: the failures a test scripts for the next payment-intent requests (`state.faults`, or
POST /_standin/faults {"next": [...]}), taken one at a time in order:

- `drop`: the request is processed, then its connection is dropped without an answer;
- `500`: the request is processed, then answers 500 (saved under its idempotency key, replayed for it);
- `429`: refused before anything ran (a 429 `rate_limit`, nothing saved for the key);
- `lock_timeout`: a 429 with that code, refused before anything ran;
- `slow:<s>`: the request holds its idempotency key that long before executing;
- `processing`: the next confirm stays `processing` (settled later by a helper).

A fault applies to any payment-intent POST; with `create:`, `confirm:`, `cancel:` or `retrieve:` before it
(`create:slow:1.0`), only to that request (`retrieve:` GETs one by id).
"""

from __future__ import annotations

import time

from devhost.stripe_standin.state import State

# Refused before anything ran (a scripted fault), as Stripe answers them: 429s, nothing saved for the key.
REFUSALS = {
    "429": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests (scripted 429)."},
    "lock_timeout": {
        "type": "invalid_request_error",
        "code": "lock_timeout",
        "message": "Another request or a Stripe process is using this object right now (scripted lock "
        "timeout). Retry the request.",
    },
}
DROP = "drop"  # processed, then the connection is dropped
FAIL_AFTER = "500"  # processed, then answered 500


def next_fault(state: State, method: str, path: str) -> str | None:
    """The next scripted fault, if this request is one it targets: any payment-intent POST, or
    with a prefix only creates, confirms, cancels, or retrieves (`retrieve:` GETs one by id)."""
    if not path.startswith("/v1/payment_intents") or path.endswith("/search"):
        return None
    if method == "GET":
        kind = "retrieve"
    else:
        kind = "create" if path == "/v1/payment_intents" else path.rsplit("/", 1)[-1]
    with state.lock:
        if not state.faults:
            return None
        target, _, fault = (
            state.faults[0].partition(":")
            if state.faults[0].split(":")[0] in ("create", "confirm", "cancel", "retrieve")
            else ("", "", state.faults[0])
        )
        if (target and target != kind) or (not target and method != "POST"):
            return None
        state.faults.pop(0)
    if fault == "processing":
        state.processing_next += 1
        return None
    return fault


def hold(fault: str | None) -> None:
    """`slow:<s>`: executing (slowly), the request's idempotency key held meanwhile."""
    if fault and fault.startswith("slow:"):
        time.sleep(float(fault.split(":")[1]))


def failed_after_executing() -> tuple[int, dict]:
    """`500`: it ran, then failed on Stripe's side: the 500 is what the key answers now."""
    return 500, {"error": {"type": "api_error", "message": "scripted 500 after executing"}}
