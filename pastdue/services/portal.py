"""Use cases of the account admin and of support: pay now, reactivate, contacts."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from pastdue.adapters.gateway import GatewayUnavailable, OutcomeUnknown
from pastdue.adapters.store import HistoryPage
from pastdue.domain import events as ev
from pastdue.domain.model import (
    AUTHENTICATION_REQUIRED,
    KEY_DONE,
    KEY_PROCESSING,
    SETTLED,
    Account,
    PaymentMethod,
    SettledCharge,
)
from pastdue.domain.money import Money
from pastdue.domain.settlement import asked, follows
from pastdue.services.change import change
from pastdue.services.deps import AccountNotFound, Deps
from pastdue.services.effects import charge_all, run_effects

log = logging.getLogger("pastdue")
ROUNDS = 3
OUTCOME_UNKNOWN = "unknown"  # a pay-now's answer while a gateway answer is still unknown


@dataclass(frozen=True)
class PayNowAnswer:
    """What a pay-now came to: SETTLED, PAY_NOW_DECLINED or AUTHENTICATION_REQUIRED (model.py), or
    OUTCOME_UNKNOWN while a gateway answer is still unknown (the same key resumes it)."""

    outcome: str
    account: Account
    code: str | None = None  # the decline code
    settled: tuple[SettledCharge, ...] = ()
    # With AUTHENTICATION_REQUIRED: what Stripe.js needs to show the bank's challenge (read now, never kept).
    confirmation: dict | None = None


def request_hash(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def reserve_pay_now(
    deps: Deps,
    account_id: str,
    key: str,
    body_hash: str,
    method: PaymentMethod,
    actor: str,
    on_session: bool = True,
) -> Account:
    """Reserve what a pay-now will send under its key (one write), without sending it: pay_now with
    the same key and request sends it."""
    return change(deps, account_id, ev.PayNowRequested(key, body_hash, method, actor, on_session)).account


def pay_now(
    deps: Deps,
    account_id: str,
    key: str,
    body_hash: str,
    method: PaymentMethod,
    actor: str,
    account: Account | None = None,
    on_session: bool = True,
) -> PayNowAnswer:
    """Save the method and collect every outstanding charge now, once per Idempotency-Key. With the
    `account` the caller read, that is the one read: then the reserve write, the gateway calls (in
    parallel), the resolve write; the receipt goes out after the answer."""
    account, effects, _ = change(
        deps, account_id, ev.PayNowRequested(key, body_hash, method, actor, on_session), account=account
    )
    fresh = account.idempotency[key].status == KEY_PROCESSING  # not a replay of a key already answered
    # Rounds: attempts already in flight are answered first, then the new card pays what is left.
    for _ in range(ROUNDS):
        if account.idempotency[key].status != KEY_PROCESSING:
            break
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        results = charge_all(deps, account, tries, stop_on_decline_token=method.token)
        changed = change(deps, account_id, ev.PayNowCompleted(key, method, tuple(results), actor), account=account)
        account, effects, _ = changed
        if not any(isinstance(e, ev.TryCharge) for e in effects):
            account = run_effects(deps, changed).account
            break
    entry = account.idempotency[key]
    if entry.status != KEY_DONE or entry.response is None:
        return PayNowAnswer(OUTCOME_UNKNOWN, account)
    # The key keeps the outcome only (what was settled, or the decline code): a replay answers the same
    # outcome, with the account as it is now.
    outcome = entry.response
    if fresh and on_session and outcome.kind == SETTLED:
        card_has_paid(deps, account, method.token)
    confirmation = None
    if outcome.kind == AUTHENTICATION_REQUIRED:
        charge = account.charge(outcome.charge_id or "")
        waiting = charge.awaiting_action if charge else None
        if charge is not None and waiting is not None and waiting.reference:
            try:
                details = deps.gateway.confirmation(waiting.reference) or {}
            except OutcomeUnknown as unknown:
                # The outcome is written and stands: only what Stripe.js needs could not be read now (the
                # portal's confirmations read it again).
                log.warning("confirmation of %s not read: %s", waiting.reference, unknown)
                details = {}
            confirmation = {"chargeId": charge.charge_id, **details}
    return PayNowAnswer(outcome.kind, account, outcome.code, tuple(outcome.settled), confirmation)


def card_has_paid(deps: Deps, account: Account, token: str) -> None:
    """The admin's new card paid: the processor charges it from now on (its invoices and subscriptions),
    set after the answer (the admin does not wait for it). The payment stands whatever this answers: a
    failure is logged for operators, and the next card that pays sets the default again."""
    customer = account.gateway_customer_id

    def make_default() -> None:
        try:
            deps.gateway.make_default(token, customer)
        except (OutcomeUnknown, GatewayUnavailable) as error:  # the processor out of reach: a known failure
            log.error("the new card of account %s is not the processor's default yet: %s", account.account_id, error)
            deps.metrics.emit("pastdue_gateway_default_not_set", 1)
        except Exception:  # the money is taken: only the processor's default is behind
            log.exception("the new card of account %s could not be made the processor's default", account.account_id)
            deps.metrics.emit("pastdue_gateway_default_not_set", 1)

    if deps.later is not None:
        deps.later(make_default)
    else:
        make_default()


def payment_method(deps: Deps, account: Account, token: str) -> PaymentMethod:
    """The admin's new method, made usable for charges off-session: the processor's customer is
    created on first use, and the method attached to it as its default (raises UnknownToken)."""
    customer = linked_customer(deps, account)
    return deps.gateway.adopt(token, customer)


def linked_customer(deps: Deps, account: Account) -> str | None:
    customer = deps.gateway.ensure_customer(
        account.account_id, account.admin.email, account.admin.name, account.gateway_customer_id
    )
    if customer and customer != account.gateway_customer_id:
        change(deps, account.account_id, ev.GatewayCustomerLinked(customer))
    return customer


def start_setup(deps: Deps, account: Account) -> dict:
    """What the front end needs to collect a card (Stripe: a SetupIntent's client secret)."""
    return deps.gateway.start_setup(linked_customer(deps, account))


@dataclass(frozen=True)
class Confirmation:
    """A charge waiting for the customer to authenticate its payment, and what the processor's client
    library needs to show the bank's challenge (Stripe.js: the PaymentIntent's client secret)."""

    charge_id: str
    subscription_id: str
    amount: Money  # the payment's own (what the customer confirms), not what the charge owes now
    details: dict


def confirmations(deps: Deps, account: Account) -> list[Confirmation]:
    """Charges waiting for the customer to authenticate them."""
    found = []
    for charge in account.open_charges():
        waiting = charge.awaiting_action
        if waiting is None or not waiting.reference or follows(waiting):
            continue  # a combined payment is confirmed once, through its lead
        details = deps.gateway.confirmation(waiting.reference)
        if details is None:
            continue  # it no longer needs the customer (settled, failed or cancelled): its event follows
        found.append(Confirmation(charge.charge_id, charge.subscription_id, asked(account, charge, waiting), details))
    return found


def accounts_of_admin(deps: Deps, principal_id: str) -> list[Account]:
    """The accounts whose admin is this signed-in user, by id (how the portal finds them)."""
    return sorted(deps.store.by_admin_principal(principal_id), key=lambda a: a.account_id)


def find_account(deps: Deps, account_id: str) -> Account | None:
    return deps.store.get(account_id)


def history_page(
    deps: Deps, account_id: str, subscription_id: str | None, before: int | None, limit: int
) -> HistoryPage:
    page = deps.store.history(account_id, subscription_id, before, limit)
    if page is None:
        raise AccountNotFound(account_id)
    return page


def run_admin_request(deps: Deps, account_id: str, event) -> Account:
    """An admin's request from the portal (reactivate, change the contact, transfer the admin) decided and its
    effects run; the account as it is now."""
    return run_effects(deps, change(deps, account_id, event)).account
