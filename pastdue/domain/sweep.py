"""The daily sweep's transitions: retries, reminders, disable, deletion warnings, purge."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, NamedTuple

from pastdue.domain import events as ev
from pastdue.domain import retries, schedule
from pastdue.domain.codec import format_time
from pastdue.domain.history import RecordKind, record
from pastdue.domain.invoices import due_settlements
from pastdue.domain.model import DELETED, DISABLED, OPEN, PAST_DUE, RETRY, Account, NoticeKind, Subscription
from pastdue.domain.notice_queue import queue_notice
from pastdue.domain.policy import Calendar, Policy
from pastdue.domain.schedule import DAY
from pastdue.domain.settlement import cancel_deletion, combine, follows, new_attempt, settle_states, try_charge
from pastdue.domain.support import paused


def tick(account: Account, event: ev.SweepTick, policy: Policy, now: datetime) -> list[ev.Effect]:
    effects: list = due_settlements(account)  # processors' invoices settled here, not yet there
    if paused(account, now):
        return effects  # support paused dunning: no retry, reminder, disable or deletion until it ends
    if account.dunning_paused is not None:
        record(account, now, RecordKind.DUNNING_RESUMED, "system", pausedBy=account.dunning_paused.actor)
        account.dunning_paused = None
    settle_states(account, now, "system", reactivate_disabled=False)
    reserved = []
    for charge in account.charges:
        if charge.pending is not None:
            if not follows(charge.pending):  # a combined payment is sent again with its lead
                effects.append(try_charge(account, charge, now))  # an earlier run left no answer: same key
            continue
        if not schedule.retry_eligible(account, charge):
            continue
        cal = policy.for_plan(account.subscriptions[charge.subscription_id].plan)
        if retries.due(account, charge, cal, now) and account.payment_method is not None:
            charge.retry_steps_done += 1
            reserved.append((charge, new_attempt(charge, account.payment_method.token, RETRY, now)))
    if policy.combine_retries:
        combine(account, reserved)  # the day's retries on one card: one payment
    effects += [try_charge(account, charge, now) for charge, attempt in reserved if not follows(attempt)]
    _expiry_notices(account, policy, now)
    steps: list[Due] = []
    busy = _unanswered(account)  # (the steps below change subscriptions, never charges)
    for sub in account.subscriptions.values():
        if sub.state not in (DELETED, PAST_DUE, DISABLED):
            continue
        # An answer is outstanding: notices may go, but never disable or purge on a guess.
        unanswered = sub.subscription_id in busy
        if sub.state == DELETED and sub.purged_at is None and not unanswered:
            effects.append(ev.PurgeData(sub.subscription_id))
        elif sub.state in (PAST_DUE, DISABLED):
            effects += _advance(account, sub, policy.for_plan(sub.plan), now, unanswered, event, steps)
    _queue_one(account, policy, now, steps)
    return effects


def _unanswered(account: Account) -> set[str]:
    """The subscriptions with an open charge whose attempt is in flight (sent, no answer yet)."""
    return {c.subscription_id for c in account.charges if c.status == OPEN and c.pending is not None}


class Due(NamedTuple):
    """A notice step a subscription reached in this sweep: its kind, its id, and what it says of it."""

    kind: NoticeKind
    notice_id: str
    subscription_id: str
    params: dict


# The notice a subscription's step sends (a dict, not NoticeKind(kind): asked for every step of every sweep).
NOTICE_OF_STEP = {
    "reminder": NoticeKind.REMINDER,
    "final_notice": NoticeKind.FINAL_NOTICE,
    "deletion_warning": NoticeKind.DELETION_WARNING,
}
# Several subscriptions reaching notice steps in one sweep get one message, of the most pressing kind.
URGENCY = (
    NoticeKind.DELETION_WARNING,
    NoticeKind.SERVICE_CANCELLED,
    NoticeKind.FINAL_NOTICE,
    NoticeKind.REMINDER,
)


def _queue_one(account: Account, policy: Policy, now: datetime, steps: list[Due]) -> None:
    """One notice for the account's steps of this sweep: the total owed, the subscriptions it is about (each
    row of its table has its own state and deadline), the nearest suspension and deletion dates."""
    if not steps:
        return
    kind = min([s.kind for s in steps], key=URGENCY.index)
    merged: dict[str, Any] = {"balance": account.balance(), "step": ",".join([s.params["step"] for s in steps])}
    merged.update(_picked(steps))
    first = _first_retry(steps)
    if first is not None:
        merged.update(nextRetryAt=first["nextRetryAt"], retriesLeft=first.get("retriesLeft"))
    hard, code = False, None  # of the open charges: one refused for good; the newest one's decline code
    for charge in account.open_charges():
        hard = hard or charge.hard
        code = charge.decline_code or code
    if hard:
        merged["cardRefused"] = True  # the card on file cannot pay: the notice asks for another
    if code and account.payment_mode == "card":
        merged["declineCode"] = code
    about = [s.subscription_id for s in steps]
    queue_notice(
        account,
        now,
        kind,
        "+".join([s.notice_id for s in steps]),
        about[0] if len(about) == 1 else None,
        policy=policy,
        about=about,
        **merged,
    )


# What the steps say of their subscriptions, as the one notice says it of all: the nearest suspension and
# deletion, the longest past due, the fewest days left.
PICKED = (("cancellationDate", min), ("deletionDate", min), ("daysPastDue", max), ("daysLeft", min))


def _picked(steps: list[Due]) -> dict[str, Any]:
    """Each of PICKED (in its order) picked across the steps that say it; left out when none does."""
    picked: dict[str, Any] = {}
    for name, pick in PICKED:
        for step in steps:
            value = step.params.get(name)
            if value is not None:
                known = picked.get(name)
                picked[name] = value if known is None else pick(known, value)
    return picked


def _first_retry(steps: list[Due]) -> dict | None:
    """The params of the (first) step with the earliest next retry, None when no step has one."""
    first = None
    for step in steps:
        at = step.params.get("nextRetryAt")
        if at is not None and (first is None or at < first["nextRetryAt"]):
            first = step.params
    return first


def _expiry_notices(account: Account, policy: Policy, now: datetime) -> None:
    """Card-expiry pre-dunning: the due steps fold into one notice (the nearest to the expiry)."""
    due = [s for s in schedule.expiry_steps(account, policy.default) if s.due <= now]
    if not due:
        return
    ends, method = schedule.card_expires_at(account), account.payment_method
    if ends is None or method is None:
        return  # (no steps without a card on file)
    account.expiry_notified += [s.name for s in due]
    if now >= ends:
        return  # expired already: the failure notices take over
    days_left = max(1, math.ceil((ends - now) / DAY))  # 6 days 21 hours is "7 days"
    queue_notice(account, now, NoticeKind.CARD_EXPIRING, due[-1].name, expiryDate=ends - DAY, daysLeft=days_left)
    record(
        account,
        now,
        RecordKind.CARD_EXPIRING_NOTIFIED,
        "system",
        brand=method.brand,
        last4=method.last4,
        expiresAt=ends,
        daysLeft=days_left,
    )


def _advance(
    account: Account,
    sub: Subscription,
    cal: Calendar,
    now: datetime,
    unanswered: bool,
    event: ev.SweepTick,
    steps: list[Due],
) -> list:
    done = sub.steps_done
    due = [  # the steps not done yet that are due
        s
        for s in schedule.subscription_steps(sub, cal)
        if s.name not in done and s.due <= now and not (unanswered and s.kind in ("disable", "purge"))
    ]
    if not event.allow_purge and any(s.kind == "purge" for s in due):
        # Held by the run's deletion cap or a dry run: the purge stays due for a later run.
        due = [s for s in due if s.kind != "purge"]
        today = format_time(now)[:10]
        if event.dry_run and sub.dry_run_noted != today:  # once a day is enough to say it
            sub.dry_run_noted = today
            record(
                account,
                now,
                RecordKind.SUBSCRIPTION_DELETION_DRY_RUN,
                "system",
                sub.subscription_id,
                scheduledFor=sub.deletion_scheduled_at,
            )
    if not due:
        return []
    sub.steps_done += [s.name for s in due]
    final = due[-1]
    episode = f"e{sub.episode}"  # unique per past-due episode, even two that start on one date
    if final.kind == "disable":
        return _disable(account, sub, cal, now, steps)
    if final.kind == "purge":
        if account.balance(sub.subscription_id).is_zero:
            cancel_deletion(account, sub, now)  # paid while disabled (stored before it was cancelled at once)
            return []
        sub.state, sub.deleted_at = DELETED, now
        record(
            account,
            now,
            RecordKind.SUBSCRIPTION_DELETION_STARTED,
            "system",
            sub.subscription_id,
            scheduledFor=sub.deletion_scheduled_at,
        )
        return [ev.PurgeData(sub.subscription_id)]
    # Several notice steps due at once (a late run): send the latest, the others are superseded.
    for skipped in due[:-1]:
        record(account, now, RecordKind.NOTICE_SUPERSEDED, "system", sub.subscription_id, step=skipped.name)
    # What the account's one notice takes of this step (_queue_one): the account's total is its own.
    params: dict[str, Any] = {"step": final.name}
    if final.kind == "deletion_warning":
        deletion = sub.deletion_scheduled_at or now  # a warning step exists only once deletion is scheduled
        # Counted up, as the card-expiry notice counts: 6 days 11 hours left (a sweep 13 hours late) is "7 days".
        days_left = max(1, math.ceil((deletion - now) / DAY))
        params.update(deletionDate=sub.deletion_scheduled_at, daysLeft=days_left)
    else:
        since = sub.past_due_since or now  # notice steps exist only while past due
        params.update(cancellationDate=schedule.cancellation_date(sub, cal), daysPastDue=(now - since).days)
        open_charges = account.open_charges(sub.subscription_id) if final.kind == "reminder" else []
        if open_charges:
            next_retry, retries_left = retries.outlook(account, open_charges[0], cal, now)
            params.update(nextRetryAt=next_retry, retriesLeft=retries_left or None)
        if final.kind == "final_notice" and params["cancellationDate"] is not None:
            # What follows the suspension: the data is deleted delete_after_days later, on this date.
            params["deletionDate"] = params["cancellationDate"] + cal.delete_after_days * DAY
    steps.append(
        Due(NOTICE_OF_STEP[final.kind], f"{sub.subscription_id}:{episode}:{final.name}", sub.subscription_id, params)
    )
    return []


def _disable(account: Account, sub: Subscription, cal: Calendar, now: datetime, steps: list[Due]) -> list:
    if account.balance(sub.subscription_id).is_zero:
        return []  # never disable what is paid
    sub.state, sub.disabled_at = DISABLED, now
    # Counted from the real disable time, so a late sweep can only delete later, never earlier.
    sub.deletion_scheduled_at = now + cal.delete_after_days * DAY
    sub.steps_done = []
    record(
        account,
        now,
        RecordKind.SUBSCRIPTION_DISABLED,
        "system",
        sub.subscription_id,
        reason="grace period over: service cancelled, resources unavailable",
        deletionScheduledAt=sub.deletion_scheduled_at,
    )
    steps.append(
        Due(
            NoticeKind.SERVICE_CANCELLED,
            f"{sub.subscription_id}:e{sub.episode}:disabled",
            sub.subscription_id,
            {"step": "disable", "deletionDate": sub.deletion_scheduled_at},
        )
    )
    return []


def data_purged(account: Account, event: ev.DataPurged, policy: Policy, now: datetime) -> list[ev.Effect]:
    sub = account.subscriptions.get(event.subscription_id)
    if sub is None or sub.state != DELETED or sub.purged_at is not None:
        return []
    sub.purged_at = now
    record(
        account,
        now,
        RecordKind.SUBSCRIPTION_DATA_DELETED,
        "system",
        sub.subscription_id,
        itemsDeleted=event.items_deleted,
        disabledAt=sub.disabled_at,
    )
    queue_notice(
        account,
        now,
        NoticeKind.DATA_DELETED,
        f"{sub.subscription_id}:data_deleted",
        sub.subscription_id,
        policy=policy,
        balance=account.balance(),
        deletedBalance=account.balance(sub.subscription_id),
    )
    return []
