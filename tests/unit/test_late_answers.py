"""Answers that come late or out of turn: money the processor took is always applied, once."""

from __future__ import annotations

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import DECLINED, OPEN, PAID, PROCESSING, AttemptSource
from pastdue.domain.money import Money
from tests.unit.builders import POLICY, T0, VISA, account, apply, days, failed


def _retry(value=1500):
    acc, _ = decide(account(), failed("ch-1", value=value), POLICY, T0)
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    (retry,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    return acc, retry


def _answer(acc, retry, outcome, code=None, amount=None, reference="pi_1", event_id=None, at=days(1)):
    result = ev.AttemptResult(retry.charge_id, retry.key, outcome, code, amount, reference)
    return decide(acc, ev.AttemptsResolved((result,), event_id), POLICY, T0 + at)[0]


def test_a_success_after_a_recorded_decline_is_applied_and_flagged_once():
    acc, retry = _retry()
    acc = _answer(acc, retry, DECLINED, "generic_decline")
    assert acc.charge("ch-1").status == OPEN
    acc = _answer(acc, retry, "succeeded", amount=Money(1500, "EUR"), event_id="evt_late", at=days(2))
    assert acc.charge("ch-1").status == PAID and acc.balance().is_zero
    (paid,) = [h for h in acc.history if h["kind"] == "charge.succeeded"]
    assert paid["detail"]["unexpected"] is True and paid["detail"]["previousOutcome"] == DECLINED
    again = _answer(acc, retry, "succeeded", amount=Money(1500, "EUR"), event_id="evt_late2", at=days(2))
    assert again.charge("ch-1").paid == Money(1500, "EUR") and again.credit is None  # applied once


def test_a_success_after_an_error_answer_is_applied_too():
    acc, retry = _retry()
    acc = _answer(acc, retry, "error", "processing_error")
    acc = _answer(acc, retry, "succeeded", amount=Money(1500, "EUR"), at=days(2))
    assert acc.charge("ch-1").status == PAID


def test_a_processing_answer_keeps_the_payment_reference_and_the_attempt_in_flight():
    acc, retry = _retry()
    acc = _answer(acc, retry, PROCESSING, reference="pi_42")
    attempt = acc.charge("ch-1").attempts[-1]
    assert attempt.outcome is None and attempt.reference == "pi_42"
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(2))
    (resume,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert (resume.key, resume.reference, resume.resume) == (retry.key, "pi_42", True)


def test_a_new_attempt_after_an_authentication_request_supersedes_its_payment():
    acc, retry = _retry()
    acc = _answer(acc, retry, "requires_action", "authentication_required", reference="pi_wait")
    from tests.unit.builders import VISA

    acc, effects = decide(acc, ev.PayNowRequested("key-1", "h", VISA, "user:1"), POLICY, T0 + days(2))
    (pay,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert pay.supersedes == (("ch-1", retry.key, "pi_wait"),) and pay.on_session and not pay.resume


def _updater(acc, at, key="stripe:evt_1"):
    from tests.unit.builders import VISA

    return decide(acc, ev.PayNowRequested(key, "h", VISA, "stripe:card-updater", on_session=False), POLICY, at)


def test_the_card_updater_does_not_charge_while_support_paused_dunning():
    acc, _ = decide(account(), failed("ch-1", value=900), POLICY, T0)
    acc, _ = decide(acc, ev.DunningPaused(T0 + days(10), "customer on holiday", "support:1"), POLICY, T0)
    acc, effects = _updater(acc, T0 + days(1))
    assert not [e for e in effects if isinstance(e, ev.TryCharge)]
    assert [h["detail"]["reason"] for h in acc.history if h["kind"] == "charge.not_tried"] == ["dunningPaused"]
    acc, effects = _updater(acc, T0 + days(11), key="stripe:evt_2")  # the pause is over: it pays
    assert [e.charge_id for e in effects if isinstance(e, ev.TryCharge)] == ["ch-1"]


def test_the_card_updater_respects_the_cards_30_day_attempt_cap_but_the_admin_may_pay():
    acc, _ = decide(account(), failed("ch-1", value=900), POLICY, T0)
    charge = acc.charge_of("ch-1")
    from pastdue.domain.settlement import new_attempt

    for n in range(POLICY.default.max_attempts_30_days):
        new_attempt(charge, "tok_visa", AttemptSource.RETRY, T0 + days(n * 0.1))
        charge.attempts[-1].outcome = DECLINED
    acc, effects = _updater(acc, T0 + days(2))
    assert not [e for e in effects if isinstance(e, ev.TryCharge)]
    assert [h["detail"]["reason"] for h in acc.history if h["kind"] == "charge.not_tried"] == ["attemptCap"]
    from tests.unit.builders import VISA

    acc, effects = decide(acc, ev.PayNowRequested("key-admin", "h", VISA, "user:1"), POLICY, T0 + days(2))
    assert [e.charge_id for e in effects if isinstance(e, ev.TryCharge)] == ["ch-1"]


def test_a_pay_now_resumed_after_its_charge_left_the_document_finishes_without_it():
    # The key waited (an answer unknown) while the charge was settled otherwise and archived: resuming
    # the key neither fails nor charges anything again.
    acc, effects = apply(account(), failed("ch-1"))
    acc, effects = apply(acc, ev.PayNowRequested("key-00000009", "h", VISA, "user:1", True))
    assert [type(e).__name__ for e in effects] == ["TryCharge"]
    acc.charges = []  # settled and archived meanwhile
    acc, effects = apply(acc, ev.PayNowCompleted("key-00000009", VISA, (), "user:1"))
    entry = acc.idempotency["key-00000009"]
    assert effects == [] and entry.status == "done" and entry.response.settled == []


def test_attempts_never_sent_count_toward_no_cap_and_say_nothing_of_the_card():
    from pastdue.domain.model import NOT_SENT
    from pastdue.domain.settlement import new_attempt

    acc, _ = decide(account(), failed("ch-1", value=30), POLICY, T0)
    charge = acc.charge_of("ch-1")
    for n in range(POLICY.default.max_attempts_30_days + 2):
        new_attempt(charge, "tok_visa", AttemptSource.RETRY, T0 + days(n * 0.1))
        charge.attempts[-1].outcome = NOT_SENT
    acc, effects = _updater(acc, T0 + days(2))
    assert [e.charge_id for e in effects if isinstance(e, ev.TryCharge)] == ["ch-1"]
    assert not [h for h in acc.history if h["kind"] == "charge.not_tried"]


def test_a_charge_refused_before_sending_leaves_the_new_cards_answer_to_the_next_charge():
    from dataclasses import replace

    from pastdue.domain.model import NOT_SENT, SETTLED, SUCCEEDED

    # A card charge alone (below Stripe's minimum), and a Stripe Billing invoice, paid as itself: two payments.
    invoice = replace(failed("in_2", "sub-1", 4900), processor_invoice=True)
    acc, _ = apply(account(subs=2), failed("INV-0001", "sub-0", 30), invoice)
    acc, effects = apply(acc, ev.PayNowRequested("key-00000010", "h", VISA, "user:1", True))
    keys = {e.charge_id: e.key for e in effects if isinstance(e, ev.TryCharge)}
    results = (
        ev.AttemptResult("INV-0001", keys["INV-0001"], NOT_SENT, "amount_too_small", invalid=True),
        ev.AttemptResult("in_2", keys["in_2"], SUCCEEDED, None, Money(4900, "EUR"), "in_2"),
    )
    acc, effects = apply(acc, ev.PayNowCompleted("key-00000010", VISA, results, "user:1"))
    entry = acc.idempotency["key-00000010"]
    assert not [e for e in effects if isinstance(e, ev.TryCharge)] and entry.response.kind == SETTLED
    assert [c.charge_id for c in entry.response.settled] == ["in_2"]
    assert acc.payment_method == VISA and acc.balance() == Money(30, "EUR")
    assert not [h for h in acc.history if h["kind"] == "payment.method.declined"]


def test_an_answer_for_a_pay_now_whose_sender_stopped_long_ago_gets_its_own_receipt():
    from pastdue.domain.model import SUCCEEDED

    acc, _ = apply(account(), failed("INV-0001", value=700))
    acc, effects = apply(acc, ev.PayNowRequested("stripe:evt_9", "h", VISA, "stripe:card-updater", False))
    (attempt,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    answer = ev.AttemptResult("INV-0001", attempt.key, SUCCEEDED, None, Money(700, "EUR"), "pi_9")
    soon, _ = apply(acc, ev.AttemptsResolved((answer,)), at=T0 + days(0.001))
    assert [n.kind for n in soon.outbox].count("payment_received") == 0  # the pay-now's one receipt covers it
    acc, _ = apply(acc, ev.AttemptsResolved((answer,)), at=T0 + days(1))  # the sweep sent it a day later
    assert [n.kind for n in acc.outbox].count("payment_received") == 1
