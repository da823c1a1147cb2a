"""The lifecycle: decide(account, event, policy, now) -> (account, effects). Pure: no I/O, no clock."""

from __future__ import annotations

import pickle
from datetime import datetime
from typing import assert_never

import msgspec
from msgspec import structs

from pastdue.domain import (
    account_events,
    charge_failures,
    invoices,
    outbox,
    pay_now,
    payments,
    quarantine,
    reversals,
    schedule,
    support,
    sweep,
)
from pastdue.domain import events as ev
from pastdue.domain.model import Account
from pastdue.domain.notice_queue import withdraw_stale
from pastdue.domain.policy import Policy
from pastdue.domain.retention import trim
from pastdue.domain.settlement import deletion_follows_balance


def _transition(account: Account, event: ev.Decidable, policy: Policy, now: datetime) -> list[ev.Effect]:
    """The transition that decides on each command and event; mypy checks each against its event's type,
    and that every kind of Decidable has one (assert_never)."""
    match event:
        case ev.SweepTick():  # first: the most frequent by far (every due account, every sweep)
            return sweep.tick(account, event, policy, now)
        case ev.ChargeFailed():
            return charge_failures.charge_failed(account, event, policy, now)
        case ev.ProfileSet():
            return account_events.profile_set(account, event, policy, now)
        case ev.GatewayCustomerLinked():
            return account_events.gateway_customer_linked(account, event, policy, now)
        case ev.SubscriptionSet():
            return account_events.subscription_set(account, event, policy, now)
        case ev.AdminContactChanged():
            return account_events.contact_changed(account, event, policy, now)
        case ev.AdminTransferred():
            return account_events.admin_transferred(account, event, policy, now)
        case ev.EmailBounced():
            return account_events.email_bounced(account, event, policy, now)
        case ev.Reactivate():
            return account_events.reactivate(account, event, policy, now)
        case ev.DataPurged():
            return sweep.data_purged(account, event, policy, now)
        case ev.AttemptsResolved():
            return payments.attempts_resolved(account, event, policy, now)
        case ev.PayNowRequested():
            return pay_now.pay_now_requested(account, event, policy, now)
        case ev.PayNowCompleted():
            return pay_now.pay_now_completed(account, event, policy, now)
        case ev.PaymentReceived():
            return payments.payment_received(account, event, policy, now)
        case ev.PaymentReversed():
            return reversals.payment_reversed(account, event, policy, now)
        case ev.ChargeSettled():
            return invoices.charge_settled(account, event, policy, now)
        case ev.InvoiceStatusChanged():
            return invoices.invoice_status_changed(account, event, policy, now)
        case ev.InvoiceSettledThere():
            return invoices.invoice_settled_there(account, event, policy, now)
        case ev.PaymentUnexpected():
            return invoices.payment_unexpected(account, event, policy, now)
        case ev.ClaimNotices():
            return outbox.claim(account, event, policy, now)
        case ev.NoticesSent():
            return outbox.sent(account, event, policy, now)
        case ev.RunSucceeded():
            return quarantine.run_succeeded(account, event, policy, now)
        case ev.NoticeResent():
            return support.notice_resent(account, event, policy, now)
        case ev.DunningPaused():
            return support.dunning_paused(account, event, policy, now)
        case ev.DunningResumed():
            return support.dunning_resumed(account, event, policy, now)
        case ev.GraceExtended():
            return support.grace_extended(account, event, policy, now)
        case ev.ChargeWrittenOff():
            return support.charge_written_off(account, event, policy, now)
        case _:
            assert_never(event)


def decide(account: Account, event: ev.Decidable, policy: Policy, now: datetime) -> tuple[Account, list[ev.Effect]]:
    """Apply one event to a copy of the account; return the new account and the effects to run."""
    return decide_in_place(_copy(account), event, policy, now)


def decide_in_place(
    account: Account, event: ev.Decidable, policy: Policy, now: datetime
) -> tuple[Account, list[ev.Effect]]:
    """decide() on the account itself, for a caller that owns it and keeps what it needs of the state
    before (services/change.change: the money it held); if this raises, the account is left half-changed and
    must be thrown away."""
    known = {n.notice_id for n in account.outbox}
    settling = invoices.pending_settlements(account)
    effects = list(_transition(account, event, policy, now))
    deletion_follows_balance(account, policy, now)  # whatever paid (or re-opened) it
    if not isinstance(event, ev.SweepTick):  # (the sweep sends every settlement still due itself)
        effects += invoices.new_settlements(account, settling)
    # What the decision left owed, summed once: nothing below changes an open charge (trim archives paid ones).
    owed = account.balance()
    withdraw_stale(account, now, owed)  # a notice waiting that this decision made untrue never goes
    trim(account, now, owed)
    # A quarantined account is left out of the sweep and the drain until it is released.
    quarantined = account.quarantine is not None
    account.next_action_at = None if quarantined else schedule.next_action_at(account, policy, now)
    account.notices_due_at = None if quarantined else schedule.notices_due_at(account)
    schedule.derive_query_fields(account, policy, owed)
    queued = len([n for n in account.outbox if n.notice_id not in known])
    if queued > 0:
        effects.append(ev.NoticesQueued(queued))
    return account, effects


_COPY_OUT, _COPY_IN = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(Account)


def _copy(account: Account) -> Account:
    """A deep copy through msgspec's MessagePack (three times faster than pickle on the hot path), except the
    history, whose records are never changed once written: a new list of the same records. The store's
    notes (etag, stored) are carried over as they are."""
    rest = structs.replace(account, history=[], stored=None, etag=None)
    try:
        clone = _COPY_IN.decode(_COPY_OUT.encode(rest))
    except UnicodeEncodeError:  # stored text holding a lone surrogate (refused at the door now, not always)
        clone = pickle.loads(pickle.dumps(rest, pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own object
    clone.history = list(account.history)
    clone.etag, clone.stored = account.etag, account.stored
    return clone
