"""What the account document keeps, and for how long: the rest is forgotten or handed to the archive."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.domain.codec import format_time
from pastdue.domain.model import (
    DECLINED,
    FAILED,
    NOT_SENT,
    PAID,
    REQUIRES_ACTION,
    SENT,
    SKIPPED,
    SUCCEEDED,
    WITHDRAWN,
    Account,
    Charge,
)
from pastdue.domain.money import Money

# How long the account document remembers what it needs to decide (docs/design.md, "Storage").
# Event ids: beyond the 3 days in which Stripe (and the billing system) deliver an event again.
# How long archived history, settled charges and processed event ids are kept by default (7 years: what
# bookkeeping laws commonly ask): the setting HISTORY_RETENTION_DAYS and the Bicep parameter default to it.
DEFAULT_RETENTION_DAYS = 2557
PROCESSED_EVENTS_KEEP = timedelta(days=10)
# Paid charges stay in the document this long (a late answer or a late report may still concern them),
# then move to the archive; one whose customer was asked to authenticate a payment stays longer, as
# the customer may still confirm it. A failure reported later than this is checked against the archive.
SETTLED_KEEP = timedelta(days=10)
SETTLED_KEEP_AUTHENTICATION = timedelta(days=35)
KEEP_SENT_NOTICES = timedelta(days=10)
# ...and by count, so that a burst of events (hundreds a day) cannot grow the document towards Cosmos's
# 2 MB item limit: past these, the oldest settled charges and sent notices go to the archive at once.
KEEP_SETTLED_COUNT = 40
KEEP_SENT_COUNT = 40
KEEP_FAILED_NOTICES = timedelta(days=90)
DONE = (SENT, WITHDRAWN)  # notices kept for their ids only
KEEP_IDEMPOTENCY = timedelta(days=7)


def settled_keep(charge: Charge) -> timedelta:
    asked = any(a.outcome == REQUIRES_ACTION for a in charge.attempts)
    return SETTLED_KEEP_AUTHENTICATION if asked else SETTLED_KEEP


def trim(account: Account, now: datetime, balance: Money | None = None) -> None:
    """Keep the document to what decisions need: everything else is forgotten after its time, or handed
    to the archive (settled charges; the history is archived by the store itself). `balance`: the account's,
    when the caller has it (archiving paid charges does not change it)."""
    forget = format_time(now - PROCESSED_EVENTS_KEEP)
    recent = {k: at for k, at in account.processed_events.items() if at >= forget}
    if len(recent) < len(account.processed_events):
        account.processed_events = recent
    settled = [
        c
        for c in account.charges
        if c.status == PAID and c.pending is None and c.paid_at is not None and c.settlement_pending is None
    ]
    if settled:
        _archive_settled(account, settled, now)
    if account.expiry_notified:  # only the card on file's steps matter: a new card starts again
        token = account.payment_method.token if account.payment_method else None
        prefix = f"{token}:"
        account.expiry_notified = [n for n in account.expiry_notified if token and n.startswith(prefix)]
    # A withdrawn notice is kept (its id only) and archived like a sent one.
    outbox = [
        n
        for n in account.outbox
        if not (n.status in DONE and now - (n.sent_at or n.created_at) >= KEEP_SENT_NOTICES)
        and not (n.status == FAILED and now - n.created_at >= KEEP_FAILED_NOTICES)
    ]
    sent = [n for n in outbox if n.status in DONE]
    if len(sent) > KEEP_SENT_COUNT:
        sent.sort(key=lambda n: (n.sent_at or n.created_at, n.notice_id))
        leaving = {id(n) for n in sent[:-KEEP_SENT_COUNT]}
        account.archive_notices += [n for n in outbox if id(n) in leaving]
        outbox = [n for n in outbox if id(n) not in leaving]
    for notice in outbox:
        if notice.status in DONE and notice.params:
            # A sent notice is kept for its id only (never queued twice): no parameters, no address.
            notice.params, notice.to, notice.claim_id = {}, "", None
    account.outbox = outbox
    if account.asked is not None and (account.balance() if balance is None else balance).is_zero:
        account.asked = None  # nothing owed: a later notice asks afresh
    if account.idempotency:
        account.idempotency = {k: v for k, v in account.idempotency.items() if now - v.at < KEEP_IDEMPOTENCY}


def _archive_settled(account: Account, settled: list[Charge], now: datetime) -> None:
    """The settled charges past their time, or past the count, leave the document for the archive."""
    old = [c for c in settled if now - _paid(c) >= settled_keep(c)]
    # Past the count, the oldest settled charges no answer can still concern (every attempt has its final
    # word) leave early; the archive is then asked about any failure reported again for a while.
    early = sorted((c for c in settled if c not in old and _final(c)), key=lambda c: (c.paid_at, c.charge_id))
    early = early[: max(0, len(settled) - len(old) - KEEP_SETTLED_COUNT)]
    if early:
        old += early
        account.archived_early_at = now
    if old:
        leaving = {id(c) for c in old}
        account.charges = [c for c in account.charges if id(c) not in leaving]
        account.archive_charges += old


def _paid(charge: Charge) -> datetime:
    return charge.paid_at or charge.failed_at  # every settled charge has its paid_at


def _final(charge: Charge) -> bool:
    """Every attempt of the charge has an answer no later one can change (an error or an authentication
    asked may still turn into money taken)."""
    return all(a.outcome in (SUCCEEDED, DECLINED, SKIPPED, NOT_SENT) for a in charge.attempts)
