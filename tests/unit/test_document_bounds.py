"""The account document is bounded by count as well as by time: a burst of settled charges and sent notices
hands the oldest to the archive at once, except what a late answer may still concern."""

from __future__ import annotations

from datetime import timedelta

from pastdue.domain.model import (
    DECLINED,
    ERROR,
    FAILED,
    PAID,
    QUEUED,
    REQUIRES_ACTION,
    SENT,
    SUCCEEDED,
    Attempt,
    AttemptSource,
    Charge,
    Notice,
    NoticeKind,
    NoticeStatus,
)
from pastdue.domain.money import Money
from pastdue.domain.retention import KEEP_SENT_COUNT, KEEP_SETTLED_COUNT, trim
from tests.unit.builders import T0, account


def _paid(n: int, outcomes=(DECLINED, SUCCEEDED)) -> Charge:
    at = T0 + timedelta(minutes=n)
    charge = Charge(
        f"ch-{n:03d}",
        "sub-0",
        Money(1000, "EUR"),
        at,
        status=PAID,
        paid=Money(1000, "EUR"),
        paid_at=at + timedelta(seconds=30),
    )
    charge.attempts = [
        Attempt(i + 1, f"ch-{n:03d}:{i + 1}", "tok", AttemptSource.RETRY, at, outcome)
        for i, outcome in enumerate(outcomes)
    ]
    return charge


def _notice(n: int, status: NoticeStatus = SENT) -> Notice:
    at = T0 + timedelta(minutes=n)
    return Notice(
        f"n-{n:03d}",
        NoticeKind.PAYMENT_RECEIVED,
        "a@example.com",
        "en-US",
        {},
        at,
        at,
        status=status,
        sent_at=at if status == SENT else None,
    )


def test_past_the_count_the_oldest_settled_charges_leave_at_once_and_the_archive_is_asked_after():
    acc = account()
    acc.charges = [_paid(n) for n in range(KEEP_SETTLED_COUNT + 15)]
    now = T0 + timedelta(hours=2)  # well within the ten days they would otherwise stay
    trim(acc, now)
    assert [c.charge_id for c in acc.charges] == [f"ch-{n:03d}" for n in range(15, KEEP_SETTLED_COUNT + 15)]
    assert [c.charge_id for c in acc.archive_charges] == [f"ch-{n:03d}" for n in range(15)]
    assert acc.archived_early_at == now


def test_a_settled_charge_a_late_answer_may_still_concern_never_leaves_early():
    acc = account()
    waiting = [_paid(0, (REQUIRES_ACTION,)), _paid(1, (ERROR, SUCCEEDED))]  # the customer may still confirm
    acc.charges = waiting + [_paid(n) for n in range(2, KEEP_SETTLED_COUNT + 12)]
    trim(acc, T0 + timedelta(hours=2))
    assert {c.charge_id for c in waiting} <= {c.charge_id for c in acc.charges}
    assert len(acc.archive_charges) == 12 and len(acc.charges) == KEEP_SETTLED_COUNT  # the others leave in their place
    assert all(c.charge_id not in ("ch-000", "ch-001") for c in acc.archive_charges)


def test_within_the_count_nothing_leaves_before_its_time():
    acc = account()
    acc.charges = [_paid(n) for n in range(KEEP_SETTLED_COUNT)]
    acc.outbox = [_notice(n) for n in range(KEEP_SENT_COUNT)]
    trim(acc, T0 + timedelta(hours=2))
    assert len(acc.charges) == KEEP_SETTLED_COUNT and acc.archive_charges == [] and acc.archived_early_at is None
    assert len(acc.outbox) == KEEP_SENT_COUNT and acc.archive_notices == []


def test_past_the_count_the_oldest_sent_notices_go_to_the_archive_and_unsent_ones_stay():
    acc = account()
    unsent = [_notice(900, QUEUED), _notice(901, FAILED)]
    acc.outbox = [_notice(n) for n in range(KEEP_SENT_COUNT + 30)] + unsent
    trim(acc, T0 + timedelta(hours=2))
    assert [n.notice_id for n in acc.archive_notices] == [f"n-{n:03d}" for n in range(30)]
    kept = [n.notice_id for n in acc.outbox]
    assert kept == [f"n-{n:03d}" for n in range(30, KEEP_SENT_COUNT + 30)] + ["n-900", "n-901"]
