"""Support's actions on the pure core: each bounded by the policy, each in the history with who and why."""

from __future__ import annotations

import pytest

from pastdue.domain import events as ev
from pastdue.domain.errors import Conflict, InvalidEvent
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import DECLINED, FAILED
from tests.unit.builders import POLICY, T0, account, days, failed, notice_kinds

SUPPORT = "support:oid-s"


def _tick(acc, at):
    acc, effects = decide(acc, ev.SweepTick(), POLICY, at)
    answers = tuple(
        ev.AttemptResult(e.charge_id, e.key, DECLINED, "card_declined") for e in effects if isinstance(e, ev.TryCharge)
    )
    if answers:
        acc, _ = decide(acc, ev.AttemptsResolved(answers), POLICY, at)
    return acc


def test_a_pause_stops_retries_and_reminders_until_it_ends_and_says_who_and_why():
    acc, _ = decide(account(), failed(), POLICY, T0)
    acc, _ = decide(acc, ev.DunningPaused(T0 + days(10), "customer in hospital", SUPPORT), POLICY, T0 + days(1))
    assert acc.next_action_at == T0 + days(10)
    for day in range(1, 10):
        acc = _tick(acc, T0 + days(day))
    assert notice_kinds(acc) == ["payment_failed"] and acc.charges[0].attempts == []
    (paused,) = [h for h in acc.history if h["kind"] == "dunning.paused"]
    assert paused["actor"] == SUPPORT and paused["detail"]["reason"] == "customer in hospital"
    acc = _tick(acc, T0 + days(10))  # the pause is over: what came due is done once
    assert notice_kinds(acc) == ["payment_failed", "reminder"] and len(acc.charges[0].attempts) == 1
    assert acc.dunning_paused is None and acc.history[-1]["kind"] != "dunning.paused"
    with pytest.raises(InvalidEvent):
        decide(acc, ev.DunningPaused(T0 + days(60), "too long", SUPPORT), POLICY, T0 + days(10))


def test_a_grace_extension_moves_the_disable_date_within_the_policy_bound():
    acc, _ = decide(account(), failed(), POLICY, T0)
    acc, _ = decide(acc, ev.GraceExtended("sub-0", 10, "waiting for a PO", SUPPORT), POLICY, T0 + days(5))
    assert acc.next_disable_at == T0 + days(40)
    acc = _tick(acc, T0 + days(31))
    assert acc.subscriptions["sub-0"].state == "pastDue"  # the old disable date passed: still running
    acc = _tick(acc, T0 + days(40))
    assert acc.subscriptions["sub-0"].state == "disabled"
    extended = [h for h in acc.history if h["kind"] == "subscription.grace.extended"][0]
    assert extended["actor"] == SUPPORT and extended["detail"]["disableOn"].startswith("2026-02-14")
    fresh, _ = decide(account(), failed(), POLICY, T0)
    fresh, _ = decide(fresh, ev.GraceExtended("sub-0", 20, "r", SUPPORT), POLICY, T0)
    with pytest.raises(InvalidEvent):
        decide(fresh, ev.GraceExtended("sub-0", 11, "r", SUPPORT), POLICY, T0)  # 31 > 30 in all


def test_a_write_off_clears_the_balance_restores_the_service_and_tells_the_admin():
    acc, _ = decide(account(subs=2), failed("ch-1", "sub-0", 700), POLICY, T0)
    acc, _ = decide(acc, failed("ch-2", "sub-1", 300), POLICY, T0)
    acc, _ = decide(acc, ev.ChargeWrittenOff("ch-1", "goodwill after an outage", SUPPORT), POLICY, T0 + days(2))
    assert acc.balance().value == 300 and acc.charge_of("ch-1").status == "writtenOff"
    assert acc.subscriptions["sub-0"].state == "active" and acc.subscriptions["sub-1"].state == "pastDue"
    assert notice_kinds(acc)[-1] == "charge_written_off"
    (entry,) = [h for h in acc.history if h["kind"] == "charge.written_off"]
    assert entry["detail"]["amount"] == {"value": 700, "currency": "EUR"} and entry["actor"] == SUPPORT
    with pytest.raises(InvalidEvent):
        decide(acc, ev.ChargeWrittenOff("ch-1", "again", SUPPORT), POLICY, T0 + days(2))


def test_a_charge_being_collected_cannot_be_written_off():
    acc, _ = decide(account(), failed(), POLICY, T0)
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    assert any(isinstance(e, ev.TryCharge) for e in effects)
    with pytest.raises(Conflict):
        decide(acc, ev.ChargeWrittenOff("ch-1", "r", SUPPORT), POLICY, T0 + days(1))


def test_a_failed_notice_is_queued_again_once_and_only_a_failed_one():
    acc, _ = decide(account(), failed(), POLICY, T0)
    acc.outbox[0].status, acc.outbox[0].tries = FAILED, 6
    acc, _ = decide(acc, ev.NoticeResent("ch-1:failed", SUPPORT), POLICY, T0 + days(1))
    assert (acc.outbox[0].status, acc.outbox[0].tries) == ("queued", 0)
    assert acc.notices_due_at == T0 + days(1) and acc.history[-1]["actor"] == SUPPORT
    with pytest.raises(Conflict):
        decide(acc, ev.NoticeResent("ch-1:failed", SUPPORT), POLICY, T0 + days(1))


def test_resend_resume_and_transfer_keep_the_reason_when_one_is_given_and_write_none_without():
    from pastdue.domain.model import Admin

    acc, _ = decide(account(), failed(), POLICY, T0)
    acc.outbox[0].status = FAILED
    acc, _ = decide(acc, ev.NoticeResent("ch-1:failed", SUPPORT, "mailbox fixed"), POLICY, T0 + days(1))
    assert acc.history[-1]["kind"] == "notice.resent" and acc.history[-1]["detail"]["reason"] == "mailbox fixed"
    acc, _ = decide(acc, ev.DunningPaused(T0 + days(5), "asked", SUPPORT), POLICY, T0 + days(1))
    acc, _ = decide(acc, ev.DunningResumed(SUPPORT, "paid by phone"), POLICY, T0 + days(2))
    assert (acc.history[-1]["kind"], acc.history[-1]["detail"]) == ("dunning.resumed", {"reason": "paid by phone"})
    count = len(acc.history)
    acc, _ = decide(acc, ev.DunningResumed(SUPPORT, "again"), POLICY, T0 + days(2))  # not paused: nothing
    assert len(acc.history) == count
    new = Admin("oid-2", "bea@example.com", "Bea", "fr-FR")
    acc, _ = decide(acc, ev.AdminTransferred(new, SUPPORT, "Ada left"), POLICY, T0 + days(3))
    transferred = next(h for h in reversed(acc.history) if h["kind"] == "admin.transferred")
    assert transferred["detail"]["reason"] == "Ada left" and acc.admin.principal_id == "oid-2"
    acc, _ = decide(acc, ev.AdminTransferred(Admin("oid-3", "c@example.com", "C"), SUPPORT), POLICY, T0 + days(4))
    transferred = next(h for h in reversed(acc.history) if h["kind"] == "admin.transferred")
    assert "reason" not in transferred["detail"]
