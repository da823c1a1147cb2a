"""Use cases of the account admin and of support: pay now, reactivate, contacts."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from pastdue.domain import events as ev
from pastdue.domain.model import Account, PaymentMethod
from pastdue.services.unit import Deps, change, charge_all, run_effects
from pastdue.views import account_view

ROUNDS = 3


@dataclass(frozen=True)
class PayNowAnswer:
    status: int  # 200 settled, 402 declined, 503 outcome still unknown
    body: dict


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def update_payment(deps: Deps, account_id: str, key: str, body_hash: str, method: PaymentMethod,
                   actor: str) -> PayNowAnswer:
    """Save the method and collect every outstanding charge now, once per Idempotency-Key."""
    account, effects = change(deps, account_id, ev.PayNowRequested(key, body_hash, method, actor))
    # Rounds: attempts already in flight are answered first, then the new card pays what is left.
    for _ in range(ROUNDS):
        if account.idempotency[key]["status"] != "processing":
            break
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        results = charge_all(deps, tries, stop_on_decline_token=method.token)
        account, effects = change(deps, account_id, ev.PayNowCompleted(key, method, tuple(results), actor),
                                  finish=lambda decided: _keep_answer(decided, key))
        if not any(isinstance(e, ev.TryCharge) for e in effects):
            account = run_effects(deps, account, effects)
            break
    entry = account.idempotency[key]
    if entry["status"] != "done":
        return PayNowAnswer(503, {"detail": "the payment outcome is not known yet; "
                                            "retry with the same Idempotency-Key"})
    return PayNowAnswer(entry["response"]["status"], entry["response"])


def _keep_answer(account: Account, key: str) -> None:
    """The first answer is stored with the key, view included, so a replay returns exactly it."""
    response = account.idempotency[key].get("response")
    if response and response["status"] == 200 and "account" not in response:
        response["account"] = account_view(account)


def apply(deps: Deps, account_id: str, event) -> Account:
    account, effects = change(deps, account_id, event)
    return run_effects(deps, account, effects)
