"""Small helpers the transitions share: history, notices, settling and reactivating."""

from __future__ import annotations

from datetime import datetime, timedelta

from pastdue.domain.codec import dump, format_time, parse_time
from pastdue.domain.events import TryCharge
from pastdue.domain.model import (
    ACTIVE,
    DECLINED,
    DISABLED,
    FAILED,
    OPEN,
    PAID,
    PAST_DUE,
    REQUIRES_ACTION,
    SENT,
    SKIPPED,
    SUCCEEDED,
    Account,
    Attempt,
    Charge,
    Notice,
)
from pastdue.domain.money import Money

# How long the account document remembers what it needs to decide (docs/design.md, "Storage").
# Event ids: beyond the 3 days in which Stripe (and the billing system) deliver an event again.
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
KEEP_IDEMPOTENCY = timedelta(days=7)
# Rows of the "what is owed" table a notice carries; more than this are summed into the total only.
NOTICE_CHARGE_ROWS = 10


def record(account: Account, now: datetime, kind: str, actor: str,
           subscription_id: str | None = None, **detail) -> None:
    account.history_seq += 1
    account.history.append({"seq": account.history_seq, "at": format_time(now), "kind": kind, "actor": actor,
                            "detail": dump(detail), "subscriptionId": subscription_id})


def queue_notice(account: Account, now: datetime, kind: str, notice_id: str,
                 subscription_id: str | None = None, to: str | None = None, **params) -> bool:
    """Queue once: a notice id already in the outbox (or in its history) is never queued again. It goes to
    the admin, or to `to` (the address a change of contact left)."""
    if any(n.notice_id == notice_id for n in account.outbox):
        return False
    sub = account.subscriptions.get(subscription_id) if subscription_id else None
    base = {"accountId": account.account_id, "paymentMode": account.payment_mode, "timeZone": account.time_zone,
            "adminName": account.admin.name,
            "subscriptionName": sub.display_name if sub else None}
    if account.payment_method:
        base["card"] = {"brand": account.payment_method.brand, "last4": account.payment_method.last4}
    if account.remittance:
        base["remittance"] = dump(account.remittance)
    if kind not in ("admin_email_changed", "admin_email_replaced"):
        base["openCharges"] = owed_rows(account)
    if kind == "payment_received":
        # A receipt a customer keeps: when, with what (the card, or the transfer's reference), and its number.
        base.update(paidAt=now, receiptNumber=receipt_number(account.account_id, notice_id))
        if "transferReference" not in params and "card" in base:
            base["paidCard"] = base["card"]
    notice = Notice(notice_id, kind, to or account.admin.email, account.admin.locale,
                    dump({**base, **params}), now, now, subscription_id)
    account.outbox.append(notice)
    record(account, now, "notice.queued", "system", subscription_id, noticeId=notice_id, notice=kind)
    return True


def receipt_number(account_id: str, notice_id: str) -> str:
    """A receipt's number: short, stable for the same receipt (a resend shows the same one), unique per account."""
    import hashlib

    return "R-" + hashlib.sha256(f"{account_id}/{notice_id}".encode()).hexdigest()[:10].upper()


def owed_rows(account: Account) -> list[dict]:
    """The account's open charges as the rows of a notice's table (oldest first), what each is for."""
    rows = []
    for charge in account.open_charges()[:NOTICE_CHARGE_ROWS]:
        sub = account.subscriptions.get(charge.subscription_id)
        rows.append({"subscriptionName": sub.display_name if sub else charge.subscription_id,
                     "amount": dump(charge.outstanding), "since": format_time(charge.failed_at),
                     "state": sub.state if sub else None})
    return rows


def paid_for(account: Account, paid: dict[str, Money]) -> list[dict]:
    """What a receipt's payment went to: per subscription, the amount and where it stands now
    (active again, still disabled, or deleted, with the date its data was deleted)."""
    rows = []
    for subscription_id, amount in paid.items():
        sub = account.subscriptions.get(subscription_id)
        rows.append({"subscriptionName": sub.display_name if sub else subscription_id, "amount": dump(amount),
                     "state": sub.state if sub else None,
                     "deletedAt": format_time(sub.deleted_at) if sub and sub.deleted_at else None})
    return rows


def pay(account: Account, charge: Charge, amount: Money, now: datetime) -> Money:
    """Apply up to `amount` to the charge; return what is left over."""
    applied = amount.min(charge.outstanding)
    charge.paid = (charge.paid or Money.zero(charge.amount.currency)) + applied
    if charge.outstanding.is_zero:
        charge.status, charge.paid_at = PAID, now
    return amount - applied


def settle_states(account: Account, now: datetime, actor: str, reactivate_disabled: bool,
                  only: str | None = None) -> list[str]:
    """Past-due subscriptions with nothing owed are active again; disabled ones too when asked
    (all of them, or `only` the one named)."""
    restored = []
    for sub in account.subscriptions.values():
        if only is not None and sub.subscription_id != only:
            continue
        if sub.state not in (PAST_DUE, DISABLED) or not account.balance(sub.subscription_id).is_zero:
            continue
        if sub.state == DISABLED and not reactivate_disabled:
            continue
        was = sub.state
        sub.state = ACTIVE
        sub.past_due_since = sub.disabled_at = sub.deletion_scheduled_at = None
        sub.steps_done = []
        record(account, now, "subscription.reactivated" if was == DISABLED else "subscription.recovered",
               actor, sub.subscription_id, previous=was)
        restored.append(sub.subscription_id)
    return restored


def apply_credit(account: Account, charge: Charge, now: datetime) -> None:
    if account.credit and account.credit.value > 0 and charge.status == OPEN:
        before = account.credit
        account.credit = pay(account, charge, account.credit, now)
        record(account, now, "credit.applied", "system", charge.subscription_id, chargeId=charge.charge_id,
               amount=before - account.credit, credit=account.credit)


def settled_keep(charge: Charge) -> timedelta:
    asked = any(a.outcome == REQUIRES_ACTION for a in charge.attempts)
    return SETTLED_KEEP_AUTHENTICATION if asked else SETTLED_KEEP


def seen(account: Account, event_id: str, now: datetime) -> None:
    account.processed_events[event_id] = format_time(now)


def trim(account: Account, now: datetime) -> None:
    """Keep the document to what decisions need: everything else is forgotten after its time, or handed
    to the archive (settled charges; the history is archived by the store itself)."""
    forget = format_time(now - PROCESSED_EVENTS_KEEP)
    if any(at < forget for at in account.processed_events.values()):
        account.processed_events = {k: at for k, at in account.processed_events.items() if at >= forget}
    settled = [c for c in account.charges if c.status == PAID and c.pending is None and c.paid_at is not None]
    old = [c for c in settled if now - c.paid_at >= settled_keep(c)]
    # Past the count, the oldest settled charges no answer can still concern (every attempt has its final
    # word) leave early; the archive is then asked about any failure reported again for a while.
    early = sorted((c for c in settled if c not in old and _final(c)), key=lambda c: (c.paid_at, c.charge_id))
    early = early[:max(0, len(settled) - len(old) - KEEP_SETTLED_COUNT)]
    if early:
        old += early
        account.archived_early_at = now
    if old:
        leaving = {id(c) for c in old}
        account.charges = [c for c in account.charges if id(c) not in leaving]
        account.archive_charges += old
    if account.expiry_notified:  # only the card on file's steps matter: a new card starts again
        token = account.payment_method.token if account.payment_method else None
        account.expiry_notified = [n for n in account.expiry_notified if token and n.startswith(f"{token}:")]
    outbox = [n for n in account.outbox
              if not (n.status == SENT and n.sent_at is not None and now - n.sent_at >= KEEP_SENT_NOTICES)
              and not (n.status == FAILED and now - n.created_at >= KEEP_FAILED_NOTICES)]
    sent = sorted((n for n in outbox if n.status == SENT), key=lambda n: (n.sent_at or n.created_at, n.notice_id))
    if len(sent) > KEEP_SENT_COUNT:
        leaving = {id(n) for n in sent[:-KEEP_SENT_COUNT]}
        account.archive_notices += [n for n in outbox if id(n) in leaving]
        outbox = [n for n in outbox if id(n) not in leaving]
    for notice in outbox:
        if notice.status == SENT and notice.params:
            # A sent notice is kept for its id only (never queued twice): no parameters, no address.
            notice.params, notice.to, notice.claim_id = {}, "", None
    account.outbox = outbox
    account.idempotency = {k: v for k, v in account.idempotency.items()
                           if now - parse_time(v["at"]) < KEEP_IDEMPOTENCY}


def _final(charge: Charge) -> bool:
    """Every attempt of the charge has an answer no later one can change (an error or an authentication
    asked may still turn into money taken)."""
    return all(a.outcome in (SUCCEEDED, DECLINED, SKIPPED) for a in charge.attempts)


def new_attempt(charge: Charge, token: str, source: str, now: datetime, on_session: bool = False) -> Attempt:
    n = len(charge.attempts) + 1
    attempt = Attempt(n, f"{charge.charge_id}:{n}", token, source, now, amount=charge.outstanding,
                      on_session=on_session or None)
    charge.attempts.append(attempt)
    return attempt


def try_charge(charge: Charge, now: datetime) -> TryCharge:
    """The gateway call for the charge's attempt in flight. One reserved in an earlier decision is a
    resume (its payment may exist at the processor); a payment still waiting for the customer on the
    attempt before is superseded (cancelled first)."""
    pending = charge.pending
    earlier = charge.attempts[-2] if len(charge.attempts) > 1 else None
    supersedes = (earlier.key, earlier.reference) if earlier is not None and earlier.reference \
        and earlier.outcome == REQUIRES_ACTION else None
    return TryCharge(charge.charge_id, pending.key, pending.token, pending.amount or charge.outstanding,
                     charge.subscription_id, reference=pending.reference, resume=pending.at < now,
                     on_session=bool(pending.on_session), supersedes=supersedes)


def add_credit(account: Account, amount: Money, now: datetime, actor: str, reason: str,
               subscription_id: str | None = None, **detail) -> None:
    """Money taken that no charge owes any more is kept as credit, and the history says so."""
    account.credit = (account.credit or Money.zero(amount.currency)) + amount
    record(account, now, "credit.added", actor, subscription_id, amount=amount, reason=reason,
           credit=account.credit, **detail)
    for charge in account.open_charges():
        if charge.pending is None:  # a charge being collected right now keeps its own attempt
            apply_credit(account, charge, now)
