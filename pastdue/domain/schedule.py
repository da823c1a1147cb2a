"""When the sweep owes an account something: dunning steps and retry days, derived from state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pastdue.domain import retries
from pastdue.domain.model import (
    ACTIVE,
    CARD,
    DELETED,
    DISABLED,
    OPEN,
    PAST_DUE,
    QUEUED,
    SENDING,
    Account,
    Charge,
    Subscription,
    SubscriptionState,
)
from pastdue.domain.money import Money
from pastdue.domain.policy import Calendar, Policy

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Step:
    name: str
    due: datetime
    kind: str  # reminder | final_notice | disable | deletion_warning | purge


def subscription_steps(sub: Subscription, cal: Calendar) -> tuple[Step, ...]:
    """The steps of the current episode, in time order; names are unique within an episode."""
    if sub.state not in (PAST_DUE, DISABLED):
        return ()  # none while active or deleted (asked of every subscription: no cache lookup for these)
    return _steps(sub.state, sub.past_due_since, sub.grace_days, sub.deletion_scheduled_at, cal)


@lru_cache(maxsize=4096)  # the sweep asks this several times a decision, for the same few episodes
def _steps(
    state: str, since: datetime | None, grace_days: int, deletion_at: datetime | None, cal: Calendar
) -> tuple[Step, ...]:
    if state == PAST_DUE and since:
        steps = [Step(f"reminder:{d}", since + d * DAY, "reminder") for d in cal.reminder_days]
        grace = grace_days * DAY  # what support added moves the final notice and the disable alike
        steps.append(Step(f"final:{cal.final_notice_day}", since + cal.final_notice_day * DAY + grace, "final_notice"))
        steps.append(Step("disable", since + cal.disable_day * DAY + grace, "disable"))
        return tuple(sorted(steps, key=lambda s: s.due))
    if state == DISABLED and deletion_at:
        steps = [Step(f"warn:{d}", deletion_at - d * DAY, "deletion_warning") for d in cal.deletion_warning_days]
        steps.append(Step("purge", deletion_at, "purge"))
        return tuple(sorted(steps, key=lambda s: s.due))
    return ()


def next_step(sub: Subscription, cal: Calendar) -> Step | None:
    """The first step of the episode not done yet (None: all done, or none)."""
    for step in subscription_steps(sub, cal):
        if step.name not in sub.steps_done:
            return step
    return None


def card_expires_at(account: Account) -> datetime | None:
    """When the card on file stops working: the first instant after its expiry month (UTC)."""
    method = account.payment_method
    return None if method is None else _month_after(method.exp_year, method.exp_month)


@lru_cache(maxsize=1024)  # asked twice a decision for the same card
def _month_after(exp_year: int, exp_month: int) -> datetime | None:
    if not 1 <= exp_month <= 12:
        return None
    year, month = (exp_year + 1, 1) if exp_month == 12 else (exp_year, exp_month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def expiry_steps(account: Account, cal: Calendar) -> list[Step]:
    """Card-expiry pre-dunning: a notice `expiryNoticeDays` before the card expires, for card payers with an
    active subscription; each once for this card (a new card, or new dates, starts again)."""
    method = account.payment_method
    if account.payment_mode != CARD or method is None or not _any_active(account):
        return []
    steps = _expiry_steps(method.token, method.exp_year, method.exp_month, cal)
    return [s for s in steps if s.name not in account.expiry_notified]


def _any_active(account: Account) -> bool:
    """One of the account's subscriptions is active."""
    return ACTIVE in [sub.state for sub in account.subscriptions.values()]  # (a list: cheaper than any(...) here)


@lru_cache(maxsize=4096)  # asked twice a decision (the tick, then the next action) for the same card
def _expiry_steps(token: str, exp_year: int, exp_month: int, cal: Calendar) -> tuple[Step, ...]:
    ends = _month_after(exp_year, exp_month)
    if ends is None:
        return ()
    prefix = f"{token}:{exp_year:04d}-{exp_month:02d}"
    return tuple(
        sorted(
            (Step(f"{prefix}:{d}", ends - d * DAY, "expiry_notice") for d in cal.expiry_notice_days),
            key=lambda s: s.due,
        )
    )


def cancellation_date(sub: Subscription, cal: Calendar) -> datetime | None:
    """When a past-due subscription is suspended unless paid; None for one that is not past due (suspended or
    deleted already: no suspension ahead, though its past-due date stays on it)."""
    if sub.state != PAST_DUE or sub.past_due_since is None:
        return None
    return sub.past_due_since + days(cal.disable_day + sub.grace_days)


@lru_cache(maxsize=1024)  # `n * DAY` multiplies in microseconds: several times slower than this look-up
def days(n: int) -> timedelta:
    """n days."""
    return n * DAY


def retry_eligible(account: Account, charge: Charge) -> bool:
    sub = account.subscriptions.get(charge.subscription_id)
    return (
        account.payment_mode == CARD
        and account.payment_method is not None
        and charge.status == OPEN
        and not charge.hard
        and charge.pending is None
        and sub is not None
        and sub.state == PAST_DUE
        and not _awaits_customer(account, charge)
    )


def _awaits_customer(account: Account, charge: Charge) -> bool:
    """The bank wants the customer to authenticate this charge: no automatic retry on the same card."""
    waiting = charge.awaiting_action
    method = account.payment_method
    return waiting is not None and method is not None and waiting.token == method.token


def derive_query_fields(account: Account, policy: Policy, balance: Money | None = None) -> None:
    """What support's lists query: the states, and the earliest disable and deletion to come, and what is
    owed (`balance`: the account's, when the caller has it)."""
    states: set[SubscriptionState] = set()
    disables: list[datetime] = []
    deletions: list[datetime] = []
    for s in account.subscriptions.values():  # one pass
        states.add(s.state)
        if s.state == PAST_DUE and s.past_due_since:
            if (at := cancellation_date(s, policy.for_plan(s.plan))) is not None:
                disables.append(at)
        elif s.state == DISABLED and s.deletion_scheduled_at:
            deletions.append(s.deletion_scheduled_at)
    account.states = sorted(states)
    account.next_disable_at = min(disables) if disables else None
    account.next_deletion_at = min(deletions) if deletions else None
    owed = account.balance() if balance is None else balance
    account.open_balance = None if owed.is_zero else owed


def next_action_at(account: Account, policy: Policy, now: datetime | None = None) -> datetime | None:
    # A processor's invoice settled here and not yet there is due until the processor answers (not dunning:
    # a pause does not hold it).
    settling = [s.at for c in account.charges if (s := c.settlement_pending) is not None]
    if account.dunning_paused is not None and now is not None:
        until = account.dunning_paused.until
        if until > now:
            return min([until, *settling])  # support paused dunning: nothing else is due before it ends
    times: list[datetime] = settling
    for charge in account.charges:
        pending = charge.pending
        if pending is not None:
            times.append(pending.at)
        elif retry_eligible(account, charge):
            cal = policy.for_plan(account.subscriptions[charge.subscription_id].plan)
            upcoming = retries.next_time(account, charge, cal)
            if upcoming is not None:
                times.append(upcoming)
    expiry = expiry_steps(account, policy.default)
    expires = card_expires_at(account)
    if expiry and expires is not None and expiry[0].due < expires:
        times.append(expiry[0].due)
    for sub in account.subscriptions.values():
        if sub.state == DELETED and sub.purged_at is None and sub.deleted_at is not None:
            times.append(sub.deleted_at)
        elif sub.state in (PAST_DUE, DISABLED):  # (the others have no steps)
            step = next_step(sub, policy.for_plan(sub.plan))
            if step is not None:
                times.append(step.due)
    return min(times) if times else None


def notices_due_at(account: Account) -> datetime | None:
    """The first queued notice's time, or the first lease of one being sent to end (one pass)."""
    queued: list[datetime] = []
    leased: list[datetime] = []
    for n in account.outbox:
        if n.status == QUEUED:
            queued.append(n.next_try_at)
        elif n.status == SENDING and n.lease_until:
            leased.append(n.lease_until)
    times = queued + leased
    return min(times) if times else None


def purges_due(account: Account, policy: Policy, now: datetime) -> int:
    """How many subscriptions a sweep now would start deleting (the run's deletion cap counts these)."""
    return sum(
        1
        for sub in account.subscriptions.values()
        if sub.state == DISABLED
        and sub.deletion_scheduled_at
        and sub.deletion_scheduled_at <= now
        and not account.balance(sub.subscription_id).is_zero
    )
