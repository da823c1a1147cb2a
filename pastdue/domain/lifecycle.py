"""The lifecycle: decide(account, event, policy, now) -> (account, effects). Pure: no I/O, no clock."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from msgspec import structs

from pastdue.domain import (
    admin_events,
    failures,
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

# Each command and event, and the transition that decides on it: (account, it, policy, now) -> effects.
Handler = Callable[[Account, Any, Policy, datetime], "list[ev.Effect] | None"]
_HANDLERS: dict[type, Handler] = {
    ev.ChargeFailed: failures.charge_failed,
    ev.ProfileSet: admin_events.profile_set,
    ev.GatewayCustomerLinked: admin_events.gateway_customer_linked,
    ev.SubscriptionSet: admin_events.subscription_set,
    ev.AdminContactChanged: admin_events.contact_changed,
    ev.AdminTransferred: admin_events.admin_transferred,
    ev.EmailBounced: admin_events.email_bounced,
    ev.Reactivate: admin_events.reactivate,
    ev.SweepTick: sweep.tick,
    ev.DataPurged: sweep.data_purged,
    ev.AttemptsResolved: payments.attempts_resolved,
    ev.PayNowRequested: pay_now.pay_now_requested,
    ev.PayNowCompleted: pay_now.pay_now_completed,
    ev.PaymentReceived: payments.payment_received,
    ev.PaymentReversed: reversals.payment_reversed,
    ev.ChargeSettled: invoices.charge_settled,
    ev.InvoiceStatusChanged: invoices.invoice_status_changed,
    ev.InvoiceSettledThere: invoices.invoice_settled_there,
    ev.PaymentUnexpected: invoices.payment_unexpected,
    ev.ClaimNotices: outbox.claim,
    ev.NoticesSent: outbox.sent,
    ev.RunSucceeded: quarantine.run_succeeded,
    ev.NoticeResent: support.notice_resent,
    ev.DunningPaused: support.dunning_paused,
    ev.DunningResumed: support.dunning_resumed,
    ev.GraceExtended: support.grace_extended,
    ev.ChargeWrittenOff: support.charge_written_off,
}


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
    handler = _HANDLERS[type(event)]
    effects = list(handler(account, event, policy, now) or [])
    if not isinstance(event, ev.SweepTick):  # (the sweep sends every settlement still due itself)
        effects += invoices.new_settlements(account, settling)
    withdraw_stale(account, now)  # a notice waiting that this decision made untrue never goes
    trim(account, now)
    # A quarantined account is left out of the sweep and the drain until it is released.
    quarantined = account.quarantine is not None
    account.next_action_at = None if quarantined else schedule.next_action_at(account, policy, now)
    account.notices_due_at = None if quarantined else schedule.notices_due_at(account)
    schedule.summarise(account, policy)
    queued = sum(1 for n in account.outbox if n.notice_id not in known)
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
