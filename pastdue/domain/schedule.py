"""When the sweep owes an account something: dunning steps and retry days, derived from state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pastdue.domain.codec import parse_time
from pastdue.domain.model import CARD, DELETED, DISABLED, OPEN, PAST_DUE, QUEUED, SENDING, Account, Charge, Subscription
from pastdue.domain.policy import Calendar, Policy

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Step:
    name: str
    due: datetime
    kind: str  # reminder | final_notice | disable | deletion_warning | purge


def subscription_steps(sub: Subscription, cal: Calendar) -> list[Step]:
    """The steps of the current episode, in time order; names are unique within an episode."""
    if sub.state == PAST_DUE and sub.past_due_since:
        start = sub.past_due_since
        steps = [Step(f"reminder:{d}", start + d * DAY, "reminder") for d in cal.reminder_days]
        grace = sub.grace_days * DAY  # what support added moves the final notice and the disable alike
        steps.append(Step(f"final:{cal.final_notice_day}", start + cal.final_notice_day * DAY + grace,
                          "final_notice"))
        steps.append(Step("disable", start + cal.disable_day * DAY + grace, "disable"))
        return sorted(steps, key=lambda s: s.due)
    if sub.state == DISABLED and sub.deletion_scheduled_at:
        end = sub.deletion_scheduled_at
        steps = [Step(f"warn:{d}", end - d * DAY, "deletion_warning") for d in cal.deletion_warning_days]
        steps.append(Step("purge", end, "purge"))
        return sorted(steps, key=lambda s: s.due)
    return []


def pending_steps(sub: Subscription, cal: Calendar) -> list[Step]:
    return [s for s in subscription_steps(sub, cal) if s.name not in sub.steps_done]


def cancellation_date(sub: Subscription, cal: Calendar) -> datetime | None:
    return sub.past_due_since + (cal.disable_day + sub.grace_days) * DAY if sub.past_due_since else None


def retry_eligible(account: Account, charge: Charge) -> bool:
    sub = account.subscriptions.get(charge.subscription_id)
    return (account.payment_mode == CARD and account.payment_method is not None
            and charge.status == OPEN and not charge.hard and charge.pending is None
            and sub is not None and sub.state == PAST_DUE and not _awaits_customer(account, charge))


def _awaits_customer(account: Account, charge: Charge) -> bool:
    """The bank wants the customer to authenticate this charge: no automatic retry on the same card."""
    waiting = charge.awaiting_action
    return waiting is not None and waiting.token == account.payment_method.token


def due_retry_index(charge: Charge, cal: Calendar, now: datetime) -> int | None:
    """The latest retry day that has come and not been used; earlier missed days are folded in."""
    due = [i for i, d in enumerate(cal.retry_days)
           if i >= charge.retry_steps_done and charge.failed_at + d * DAY <= now]
    return due[-1] if due else None


def summarise(account: Account, policy: Policy) -> None:
    """What support's lists query: the states, and the earliest disable and deletion to come."""
    account.states = sorted({s.state for s in account.subscriptions.values()})
    disables = [cancellation_date(s, policy.for_plan(s.plan)) for s in account.subscriptions.values()
                if s.state == PAST_DUE and s.past_due_since]
    deletions = [s.deletion_scheduled_at for s in account.subscriptions.values()
                 if s.state == DISABLED and s.deletion_scheduled_at]
    account.next_disable_at = min(disables, default=None)
    account.next_deletion_at = min(deletions, default=None)
    owed = account.balance()
    account.open_balance = None if owed.is_zero else owed


def next_action_at(account: Account, policy: Policy, now: datetime | None = None) -> datetime | None:
    if account.dunning_paused is not None and now is not None:
        until = parse_time(account.dunning_paused["until"])
        if until > now:
            return until  # support paused dunning: nothing is due before the pause ends
    times: list[datetime] = []
    for charge in account.charges:
        if charge.pending is not None:
            times.append(charge.pending.at)
        elif retry_eligible(account, charge):
            cal = policy.for_plan(account.subscriptions[charge.subscription_id].plan)
            rest = cal.retry_days[charge.retry_steps_done:]
            if rest:
                times.append(charge.failed_at + rest[0] * DAY)
    for sub in account.subscriptions.values():
        if sub.state == DELETED and sub.purged_at is None:
            times.append(sub.deleted_at)
        steps = pending_steps(sub, policy.for_plan(sub.plan))
        if steps:
            times.append(steps[0].due)
    return min(times) if times else None


def notices_due_at(account: Account) -> datetime | None:
    times = [n.next_try_at for n in account.outbox if n.status == QUEUED]
    times += [n.lease_until for n in account.outbox if n.status == SENDING and n.lease_until]
    return min(times) if times else None


def purges_due(account: Account, policy: Policy, now: datetime) -> int:
    """How many subscriptions a sweep now would start deleting (the run's deletion cap counts these)."""
    return sum(1 for sub in account.subscriptions.values() if sub.state == DISABLED and sub.deletion_scheduled_at
               and sub.deletion_scheduled_at <= now and not account.balance(sub.subscription_id).is_zero)
