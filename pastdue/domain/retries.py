"""When a failed charge is retried, by the reason it was declined (pure).

- insufficient funds: on the account's pay days (policy payDays, at payDayHour in the account's time zone),
  within the grace period: money tends to arrive on pay day, not on day 3;
- "try again later" (processing errors, the issuer unavailable): the next day, then the policy's
  retryDaysTryLater;
- authentication needed: never automatically (the customer confirms it in the portal);
- do-not-retry declines are hard (policy hardDeclineCodes, Stripe's advice code): never retried;
- any other decline: the policy's retryDays.
Whatever the reason, no charge, and no card across the account's charges, is tried more than
maxAttempts30Days times in any 30 days (the card networks allow about 15; past that the merchant pays per
attempt and its decline ratio climbs).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pastdue.domain.model import NOT_SENT, RETRY, SKIPPED, Account, Charge
from pastdue.domain.policy import Calendar

DAY = timedelta(days=1)
WINDOW = timedelta(days=30)
FUNDS = frozenset({"insufficient_funds", "card_velocity_exceeded", "withdrawal_count_limit_exceeded"})
TRY_LATER = frozenset(
    {"processing_error", "try_again_later", "issuer_not_available", "reenter_transaction", "approve_with_id"}
)
AUTHENTICATION = frozenset({"authentication_required"})
# Attempts that never reached the card: no try against the 30-day caps.
UNCOUNTED = (SKIPPED, NOT_SENT)


def retry_class(decline_code: str | None) -> str:
    """How a decline is retried: "funds" (pay days), "tryLater", "authentication" (never by itself) or
    "generic" (retryDays)."""
    if decline_code in FUNDS:
        return "funds"
    if decline_code in TRY_LATER:
        return "tryLater"
    if decline_code in AUTHENTICATION:
        return "authentication"
    return "generic"


def pay_days(start: datetime, end: datetime, cal: Calendar, zone: str) -> list[datetime]:
    """The pay-day times (payDays at payDayHour, local time of `zone`) strictly after `start`, before `end`."""
    tz = ZoneInfo(zone)
    local = start.astimezone(tz)
    year, month = local.year, local.month
    found: list[datetime] = []
    while True:
        for day in sorted(cal.pay_days):
            at = datetime(year, month, day, cal.pay_day_hour, tzinfo=tz)
            if at >= end:
                return found
            if at > start:
                found.append(at.astimezone(start.tzinfo))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def plan(account: Account, charge: Charge, cal: Calendar) -> tuple[datetime, ...]:
    """Every time this charge is to be retried, in order (the latest decline reason decides)."""
    return _plan(charge.decline_code, charge.failed_at, cal, account.time_zone)


@lru_cache(maxsize=4096)  # the sweep asks it several times a decision for the same charge
def _plan(decline_code: str | None, failed_at: datetime, cal: Calendar, zone: str) -> tuple[datetime, ...]:
    kind = retry_class(decline_code)
    if kind == "authentication":
        return ()
    if kind == "funds":
        # Not within the first 12 hours (the same money is not there yet), and not at the disable day.
        times = pay_days(failed_at + timedelta(hours=12), failed_at + cal.disable_day * DAY, cal, zone)
        if times:
            return tuple(times)
    days = cal.retry_days_try_later if kind == "tryLater" else cal.retry_days
    return tuple(failed_at + d * DAY for d in days)


def counts_within(account: Account, charge: Charge, token: str, now: datetime) -> tuple[int, int]:
    """Tries within the 30-day window, in one pass over the attempts: on this charge (a combined payment
    counts once on each charge it covered), and of this card (a combined payment is one try of the card,
    however many charges it covered)."""
    on_charge: set[str] = set()
    on_card: set[str] = set()
    for c in account.charges:
        for a in c.attempts:
            if now - a.at < WINDOW and a.outcome not in UNCOUNTED:
                payment = a.payment or f"{c.charge_id}:{a.key}"
                if c is charge:
                    on_charge.add(payment)
                if a.token == token:
                    on_card.add(payment)
    return len(on_charge), len(on_card)


def capped(account: Account, charge: Charge, token: str, cal: Calendar, now: datetime) -> bool:
    """The charge, or the card on all of the account's charges, has had its attempts for 30 days."""
    cap = cal.max_attempts_30_days
    if attempts_held(account) < cap:
        return False  # each attempt counts once at most: too few on the whole account to reach either cap
    on_charge, on_card = counts_within(account, charge, token, now)
    return on_charge >= cap or on_card >= cap


def attempts_held(account: Account) -> int:
    """Every attempt the account's charges hold, whenever and however it ended."""
    held = 0
    for c in account.charges:
        held += len(c.attempts)
    return held


def last_retry(charge: Charge) -> datetime:
    """When the charge was last retried by the sweep (its failure, if never)."""
    latest: datetime | None = None
    for a in charge.attempts:
        if a.source == RETRY and (latest is None or a.at > latest):
            latest = a.at
    return charge.failed_at if latest is None else latest


def due(account: Account, charge: Charge, cal: Calendar, now: datetime) -> bool:
    """A retry time has come since the last retry (missed ones fold into one) and the caps allow it."""
    method = account.payment_method
    if method is None:
        return False
    since = last_retry(charge)
    for at in plan(account, charge, cal):
        if since < at <= now:
            return not capped(account, charge, method.token, cal, now)
    return False


def next_time(account: Account, charge: Charge, cal: Calendar) -> datetime | None:
    since = last_retry(charge)
    return next((at for at in plan(account, charge, cal) if at > since), None)


def outlook(account: Account, charge: Charge, cal: Calendar, now: datetime) -> tuple[datetime | None, int]:
    """What the customer is told of the retries to come: the next automatic one and how many are left
    (none for a charge no retry can cure: a hard decline, an invoice payer, no card on file)."""
    if charge.hard or account.payment_mode != "card" or account.payment_method is None:
        return None, 0
    after = max(now, last_retry(charge))
    times = [at for at in plan(account, charge, cal) if at > after]
    return (times[0] if times else None), len(times)
