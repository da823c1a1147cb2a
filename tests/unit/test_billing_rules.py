"""Billing rules that each guard a specific way of getting money, notices or deletions wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pastdue.domain import events as ev
from pastdue.domain import outbox
from pastdue.domain.codec import format_time
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import (
    ACTIVE,
    DECLINED,
    DELETED,
    DISABLED,
    FAILED,
    INVOICE,
    PAID,
    PAST_DUE,
    QUEUED,
    REQUIRES_ACTION,
    SUCCEEDED,
    AttemptOutcome,
    NoticeKind,
)
from pastdue.domain.money import Money
from pastdue.domain.notice_queue import queue_notice
from pastdue.notices.alerts import alerts
from pastdue.notices.render import render
from tests.unit.builders import POLICY, T0, VISA, account, apply, days, deliver, failed, notice_kinds

SWEEP_HOUR = timedelta(hours=1)


def tick(acc, day: float):
    return decide(acc, ev.SweepTick(), POLICY, T0 + days(day) + SWEEP_HOUR)


def answer(acc, effects, day: float, outcome: AttemptOutcome = DECLINED, code: str | None = "card_declined"):
    results = tuple(ev.AttemptResult(e.charge_id, e.key, outcome, code) for e in effects if isinstance(e, ev.TryCharge))
    return decide(acc, ev.AttemptsResolved(results), POLICY, T0 + days(day) + SWEEP_HOUR)[0] if results else acc


def walk(acc, first: int, last: int, sent: list | None = None):
    """Daily sweeps, every retry declined (soft); returns the account and the days a charge was tried. With
    `sent`, each day's notices are delivered and added to it."""
    tried = []
    for day in range(first, last + 1):
        if sent is not None:
            acc, out = deliver(acc, T0 + days(day))
            sent += out
        acc, effects = tick(acc, day)
        if any(isinstance(e, ev.TryCharge) for e in effects):
            tried.append(day)
        acc = answer(acc, effects, day)
    return acc, tried


def test_the_cancellation_date_in_every_notice_is_the_day_the_subscription_is_disabled():
    acc, _ = apply(account(), failed())
    sent: list = []
    acc, _ = walk(acc, 0, 30, sent)
    disabled_on = acc.subscriptions["sub-0"].disabled_at.date()
    promised = [n.params["cancellationDate"] for n in sent if "cancellationDate" in n.params]
    assert len(promised) == 6  # payment failed, four reminders, the final notice
    assert {p[:10] for p in promised} == {disabled_on.isoformat()}


def test_a_hard_decline_on_a_sweep_retry_stops_retries_and_tells_the_admin():
    acc, _ = apply(account(), failed())
    acc, effects = tick(acc, 1)
    acc = answer(acc, effects, 1, code="expired_card")  # the card expired during dunning
    charge = acc.charges[0]
    assert charge.hard and charge.decline_code == "expired_card"
    assert notice_kinds(acc) == ["payment_failed", "card_declined_for_good"]
    assert [a["kind"] for a in alerts(acc)] == ["pastDue", "cardRefused"]
    acc, tried = walk(acc, 2, 29)
    assert tried == []


def test_a_failure_without_a_decline_code_is_soft_and_retried():
    acc, _ = apply(account(), failed(code=None))
    assert not acc.charges[0].hard
    _, tried = walk(acc, 1, 29)
    assert tried == [1, 3, 5, 7, 14, 21]


def test_a_repeated_soft_report_never_makes_a_hard_decline_retryable():
    acc, _ = apply(account(), failed(code="stolen_card"), failed(event_id="evt-again", code="card_declined"))
    assert acc.charges[0].hard
    _, tried = walk(acc, 1, 29)
    assert tried == []


def test_a_retry_after_a_partial_transfer_asks_only_for_what_is_still_owed():
    acc, _ = apply(account(), failed(value=1000), ev.PaymentReceived("pay-1", Money(400, "EUR"), "part"))
    acc, effects = tick(acc, 1)
    tries = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert [t.amount for t in tries] == [Money(600, "EUR")]
    acc = answer(acc, effects, 1, outcome=SUCCEEDED, code=None)
    assert acc.charges[0].status == PAID and acc.charges[0].paid == Money(1000, "EUR") and acc.credit is None


def test_what_a_processor_took_for_a_charge_settled_meanwhile_becomes_credit():
    acc, _ = apply(account(subs=2), failed("ch-1", "sub-0", 1000))
    acc, effects = decide(acc, ev.PayNowRequested("key-1", "h", VISA, "user:1"), POLICY, T0)
    # A transfer settles the charge while the card attempt is at the processor.
    acc, _ = decide(acc, ev.PaymentReceived("pay-1", Money(1000, "EUR"), "transfer"), POLICY, T0)
    results = tuple(
        ev.AttemptResult(e.charge_id, e.key, SUCCEEDED, None, e.amount) for e in effects if isinstance(e, ev.TryCharge)
    )
    acc, _ = decide(acc, ev.PayNowCompleted("key-1", VISA, results, "user:1"), POLICY, T0)
    assert acc.charges[0].paid == Money(1000, "EUR")
    assert acc.credit == Money(1000, "EUR")  # 2,000 taken for 1,000 owed: the rest is the customer's
    credited = [h for h in acc.history if h["kind"] == "credit.added"]
    assert credited and credited[0]["detail"]["reason"] == "overpayment"
    # The credit pays the next failed charge before any card is asked.
    acc, _ = decide(acc, failed("ch-2", "sub-1", 700), POLICY, T0 + days(1))
    assert acc.charge_of("ch-2").status == PAID and acc.credit == Money(300, "EUR")


def test_portal_alerts_speak_the_admins_language():
    acc, _ = apply(account(locale="fr-FR"), failed(value=123456))
    (alert,) = alerts(acc)
    assert alert["message"].startswith("Nous n’avons pas pu débiter votre moyen de paiement pour Sub 0.")
    assert "1\u202f234,56\u00a0€" in alert["message"]


def test_the_same_notice_id_is_queued_once():
    acc = account()
    assert queue_notice(acc, T0, NoticeKind.REMINDER, "sub-0:e1:reminder:3", "sub-0") is True
    assert queue_notice(acc, T0 + days(1), NoticeKind.REMINDER, "sub-0:e1:reminder:3", "sub-0") is False
    assert [n.notice_id for n in acc.outbox] == ["sub-0:e1:reminder:3"]


def test_a_failed_send_is_retried_with_backoff_then_ends_failed_with_its_reason():
    acc, _ = apply(account(), failed())
    notice_id, now, waits = acc.outbox[0].notice_id, T0, []
    for _ in range(outbox.MAX_TRIES):
        acc, _ = decide(acc, ev.ClaimNotices(10, "claim"), POLICY, now)
        result = ev.SendResult(notice_id, "failed", "smtp: connection refused")
        acc, _ = decide(acc, ev.NoticesSent("claim", (result,)), POLICY, now)
        notice = acc.outbox[0]
        if notice.status == QUEUED:
            waits.append(notice.next_try_at - now)
            assert notice.last_error == "smtp: connection refused" and acc.notices_due_at == notice.next_try_at
            now = notice.next_try_at
    assert waits == [timedelta(minutes=2**n) for n in range(1, outbox.MAX_TRIES)]
    assert acc.outbox[0].status == FAILED and acc.outbox[0].last_error == "smtp: connection refused"
    assert [h["detail"]["tries"] for h in acc.history if h["kind"] == "notice.failed"] == [outbox.MAX_TRIES]


def test_reactivating_one_subscription_leaves_the_other_paid_disabled_one_alone():
    acc, _ = apply(account(INVOICE, subs=2), failed("ch-0", "sub-0", 500), failed("ch-1", "sub-1", 700))
    acc, _ = walk(acc, 1, 31)
    assert {s.state for s in acc.subscriptions.values()} == {DISABLED}
    # Paid by a path that does not reactivate: an attempt whose answer was unknown, then succeeded.
    for charge in acc.charges:
        charge.status, charge.paid = PAID, charge.amount
    acc, _ = decide(acc, ev.Reactivate("sub-0", "user:1"), POLICY, T0 + days(32))
    assert acc.subscriptions["sub-0"].state == ACTIVE
    assert acc.subscriptions["sub-1"].state == DISABLED


def test_invoice_payers_who_still_have_a_card_on_file_get_no_card_retries():
    acc, _ = apply(account(INVOICE), failed())
    acc.payment_method = VISA  # switched from card to invoice: the old card stays on file
    _, tried = walk(acc, 1, 29)
    assert tried == []


def test_the_calendar_counts_from_the_failure_not_from_the_report():
    occurred = T0 - days(2)
    acc, _ = decide(account(), failed(at=occurred), POLICY, T0)
    assert acc.subscriptions["sub-0"].past_due_since == occurred and acc.charges[0].failed_at == occurred
    assert acc.next_action_at == occurred + days(1)


def test_a_disabled_subscription_paid_off_is_never_purged():
    acc, _ = apply(account(), failed())
    acc, _ = walk(acc, 1, 30)
    sub = acc.subscriptions["sub-0"]
    assert sub.state == DISABLED
    deletion = sub.deletion_scheduled_at
    assert deletion is not None
    # Pay-now answered "unknown", then the sweep learns it succeeded: paid, still disabled.
    acc.charges[0].attempts[-1].outcome = None
    acc, effects = tick(acc, 31)
    acc = answer(acc, effects, 31, outcome=SUCCEEDED, code=None)
    assert acc.balance().is_zero and acc.subscriptions["sub-0"].state == DISABLED
    # The deletion is off the moment it is paid: nothing shows a deletion that will not come.
    assert acc.subscriptions["sub-0"].deletion_scheduled_at is None and acc.next_deletion_at is None
    (cancelled,) = [r for r in acc.history if r["kind"] == "subscription.deletion.cancelled"]
    assert cancelled["detail"]["reason"] == "balance paid" and cancelled["subscriptionId"] == "sub-0"
    acc, effects = decide(acc, ev.SweepTick(), POLICY, deletion + SWEEP_HOUR)
    assert not [e for e in effects if isinstance(e, ev.PurgeData)]
    assert acc.subscriptions["sub-0"].state == DISABLED and acc.subscriptions["sub-0"].purged_at is None
    acc, effects = decide(acc, ev.SweepTick(), POLICY, deletion + days(200))
    assert not [e for e in effects if isinstance(e, ev.PurgeData)]
    assert acc.subscriptions["sub-0"].state != DELETED


def _paid_while_disabled():
    """sub-0 disabled on day 30, then paid on day 31 by a path that does not reactivate it; and the deletion
    date it had."""
    acc, _ = apply(account(), failed())
    acc, _ = walk(acc, 1, 30)
    deletion = acc.subscriptions["sub-0"].deletion_scheduled_at
    assert deletion is not None
    acc.charges[0].attempts[-1].outcome = None
    acc, effects = tick(acc, 31)
    return answer(acc, effects, 31, outcome=SUCCEEDED, code=None), deletion


def test_a_paid_disabled_subscription_stored_with_its_deletion_date_is_still_never_purged():
    """A document an earlier release stored (its deletion date kept after the payment): the sweep that finds
    the purge due cancels it instead."""
    acc, deletion = _paid_while_disabled()
    acc.subscriptions["sub-0"].deletion_scheduled_at = deletion  # as stored before the deletion was cancelled at once
    acc.history = [r for r in acc.history if r["kind"] != "subscription.deletion.cancelled"]
    acc, effects = decide(acc, ev.SweepTick(), POLICY, deletion + SWEEP_HOUR)
    assert not [e for e in effects if isinstance(e, ev.PurgeData)]
    assert acc.subscriptions["sub-0"].state == DISABLED and acc.subscriptions["sub-0"].deletion_scheduled_at is None
    assert [r["kind"] for r in acc.history].count("subscription.deletion.cancelled") == 1


def test_a_disabled_subscription_owed_again_is_deleted_a_full_period_later_with_its_warnings_never_sooner():
    """Paid while disabled (deletion off), then the payment is lost in a dispute: owed again. Its deletion is
    scheduled anew 90 days from then, warned 30, 7 and 1 days before, with notice ids of their own."""
    acc, first_deletion = _paid_while_disabled()
    assert acc.subscriptions["sub-0"].deletion_scheduled_at is None
    lost = ev.PaymentReversed("dp-1", ev.ReversalKind.DISPUTE_LOST, "dp_1", "pi_1", "ch-1", "sub-0", Money(1000, "EUR"))
    again = T0 + days(40) + SWEEP_HOUR
    acc, _ = decide(acc, lost, POLICY, again)
    sub = acc.subscriptions["sub-0"]
    assert sub.state == DISABLED and acc.balance("sub-0") == Money(1000, "EUR")
    assert sub.deletion_scheduled_at == again + days(POLICY.default.delete_after_days) > first_deletion
    (scheduled,) = [r for r in acc.history if r["kind"] == "subscription.deletion.scheduled"]
    assert scheduled["detail"]["reason"] == "owed again"
    sent: list = []
    purged_on = None
    for day in range(41, 141):
        acc, out = deliver(acc, T0 + days(day))
        sent += out
        acc, effects = tick(acc, day)
        if [e for e in effects if isinstance(e, ev.PurgeData)]:
            purged_on = day
            break
    assert purged_on == 130  # 90 days after the debt came back, never on the first date (day 120)
    warnings = [n for n in sent if n.kind == "deletion_warning"]
    assert [n.created_at for n in warnings] == [T0 + days(d) + SWEEP_HOUR for d in (100, 123, 129)]
    assert len({n.notice_id for n in warnings}) == 3


def test_a_second_episode_starting_on_the_same_date_gets_its_own_reminders():
    """Invoice 1 fails and is paid; invoice 2 is reported with the same due date: its reminders go."""
    acc, _ = apply(account(INVOICE), failed("inv-1"))
    acc, _ = tick(acc, 3)
    assert notice_kinds(acc) == ["invoice_overdue", "reminder"]
    acc, _ = decide(acc, ev.PaymentReceived("pay-1", Money(1000, "EUR"), "INV-1"), POLICY, T0 + days(4))
    assert acc.subscriptions["sub-0"].state == ACTIVE
    acc, _ = decide(acc, failed("inv-2", at=T0), POLICY, T0 + days(5))
    assert acc.subscriptions["sub-0"].state == PAST_DUE
    acc, _ = tick(acc, 5)
    assert notice_kinds(acc) == ["invoice_overdue", "reminder", "payment_received", "invoice_overdue", "reminder"]
    assert len({n.notice_id for n in acc.outbox}) == len(acc.outbox)


def test_a_processor_event_is_applied_once_and_settles_an_authentication_request():
    acc, _ = apply(account(), failed())
    acc, effects = tick(acc, 1)
    (attempt,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    waiting = ev.AttemptResult(
        attempt.charge_id, attempt.key, REQUIRES_ACTION, "authentication_required", reference="pi_1"
    )
    acc, _ = decide(acc, ev.AttemptsResolved((waiting,)), POLICY, T0 + days(1))
    assert acc.charges[0].awaiting_action is not None and notice_kinds(acc)[-1] == "confirm_payment"
    assert [a["kind"] for a in alerts(acc)] == ["pastDue", "confirmPayment"]
    _, tried = walk(acc, 2, 29)
    assert tried == []  # never retried automatically on the card that needs its customer
    paid = ev.AttemptResult(attempt.charge_id, attempt.key, SUCCEEDED, None, Money(1000, "EUR"), "pi_1")
    once, _ = decide(acc, ev.AttemptsResolved((paid,), "evt_1"), POLICY, T0 + days(2))
    assert once.charges[0].status == PAID and once.subscriptions["sub-0"].state == ACTIVE
    again, _ = decide(once, ev.AttemptsResolved((paid,), "evt_1"), POLICY, T0 + days(2))
    assert again == once
    late, _ = decide(once, ev.AttemptsResolved((waiting,), "evt_0"), POLICY, T0 + days(2))
    assert late.charges[0].status == PAID and late.charges[0].attempts[-1].outcome == "succeeded"


def test_an_invoice_payer_needs_bank_details_given_now_or_kept_from_before():
    from pastdue.domain.errors import MissingRemittance
    from pastdue.domain.model import INVOICE, Account

    blank = Account("acct-2", account().admin)
    with pytest.raises(MissingRemittance):
        decide(blank, ev.ProfileSet(blank.admin, INVOICE, "EUR", None, None), POLICY, T0)
    invoiced = account(mode=INVOICE)  # its remittance is kept: a profile update need not repeat it
    updated, _ = decide(invoiced, ev.ProfileSet(invoiced.admin, INVOICE, "EUR", None, None), POLICY, T0)
    assert updated.remittance == invoiced.remittance


def test_a_debt_re_opened_while_suspended_gives_the_date_to_keep_the_data_not_a_suspension_already_past():
    acc, _ = _paid_while_disabled()
    lost = ev.PaymentReversed("dp-1", ev.ReversalKind.DISPUTE_LOST, "dp_1", "pi_1", "ch-1", "sub-0", Money(1000, "EUR"))
    acc, _ = decide(acc, lost, POLICY, T0 + days(40) + SWEEP_HOUR)
    (notice,) = [n for n in acc.outbox if n.notice_id.endswith("~dispute_lost~1000:failed")]
    (row,) = notice.params["openCharges"]
    assert notice.params.get("cancellationDate") is None  # no suspension ahead: it is suspended already
    assert row["state"] == "disabled" and row["deleteAt"] == format_time(
        acc.subscriptions["sub-0"].deletion_scheduled_at
    )
    text = render(notice).text
    assert "we'll suspend the service" not in text and "Suspended; to keep its data, pay by" in text


def _asked_to_confirm(acc):
    (notice,) = [n for n in acc.outbox if n.kind == "confirm_payment"]
    return notice, render(notice).text


def test_a_confirmation_the_sweep_learns_of_names_the_pay_nows_card_not_the_one_on_file():
    """The pay-now's sender stopped; the sweep sends its payment again (same key) and hears the bank asks to
    confirm: the notice names the card the admin gave, which is not on file until its answers are in."""
    acc, _ = apply(account(subs=2), failed("ch-1", "sub-0", 1000), failed("ch-2", "sub-1", 2000, at=T0 + days(0.01)))
    assert acc.payment_method is not None and acc.payment_method.last4 != VISA.last4
    acc, _ = decide(acc, ev.PayNowRequested("k-1", "h", VISA, "user:1"), POLICY, T0 + days(1))
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1) + SWEEP_HOUR)
    (resent,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert resent.token == VISA.token
    results = (ev.AttemptResult(resent.charge_id, resent.key, REQUIRES_ACTION, "authentication_required"),)
    acc, _ = decide(acc, ev.AttemptsResolved(results), POLICY, T0 + days(1) + SWEEP_HOUR)
    notice, text = _asked_to_confirm(acc)
    assert notice.params["card"] == {"brand": VISA.brand, "last4": VISA.last4}
    assert f"(card Visa\u00a0••••\u00a0{VISA.last4})" in text and "“Sub 0” and “Sub 1”" in text


def test_a_confirmation_asks_for_what_the_bank_asks_even_after_a_transfer_paid_part_of_it():
    acc, _ = apply(account(subs=2), failed("ch-1", "sub-0", 1000), failed("ch-2", "sub-1", 2000, at=T0 + days(0.01)))
    acc, effects = decide(acc, ev.PayNowRequested("k-1", "h", VISA, "user:1"), POLICY, T0 + days(1))
    (sent,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    acc, _ = decide(acc, ev.PaymentReceived("tr-1", Money(500, "EUR"), "INV-1"), POLICY, T0 + days(1))
    results = (ev.AttemptResult(sent.charge_id, sent.key, REQUIRES_ACTION, "authentication_required"),)
    acc, _ = decide(acc, ev.PayNowCompleted("k-1", VISA, results, "user:1"), POLICY, T0 + days(1))
    notice, text = _asked_to_confirm(acc)
    assert sent.amount == Money(3000, "EUR") == Money(**notice.params["amount"])
    assert "confirm the payment of €30.00" in text and "The total due on your account is €25.00." in text


def test_a_deletion_warning_waiting_to_go_is_withdrawn_when_the_deletion_is_cancelled():
    acc, _ = apply(account(subs=2), failed("ch-1", "sub-0", 1000))
    acc, _ = walk(acc, 1, 84)
    acc, _ = apply(acc, failed("ch-2", "sub-1", 2000, at=T0 + days(85)), at=T0 + days(85))
    acc, _ = deliver(acc, T0 + days(85) + SWEEP_HOUR)
    acc, _ = walk(acc, 85, 90)  # sub-0's 30-day warning is queued on day 90
    (warning,) = [n for n in acc.outbox if n.kind == "deletion_warning" and n.status == "queued"]
    acc, _ = decide(acc, ev.ChargeWrittenOff("ch-1", "goodwill", "support"), POLICY, T0 + days(90) + 2 * SWEEP_HOUR)
    assert acc.subscriptions["sub-0"].deletion_scheduled_at is None and not acc.balance().is_zero  # sub-1 owes
    acc, sent = deliver(acc, T0 + days(90) + 3 * SWEEP_HOUR)
    assert "deletion_warning" not in [n.kind for n in sent]
    assert next(n for n in acc.outbox if n.notice_id == warning.notice_id).status == "withdrawn"
