"""A processor's own invoices (Stripe Billing) in the pure core (domain/invoices.py): settled there when
settled here, only new money counted, voided or uncollectible there, and money that no charge owes."""

from __future__ import annotations

from dataclasses import replace

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import ACTIVE, OPEN, PAID, PAST_DUE, SUCCEEDED, WRITTEN_OFF, Account, Charge, Subscription
from pastdue.domain.money import Money
from pastdue.domain.schedule import next_action_at
from tests.unit.builders import POLICY, T0, account, days

EUR = "EUR"


def _invoice_failed(invoice="in_1", value=2000, paid_before=0, account_id="acct-1", sub="sub-0"):
    return ev.ChargeFailed(
        f"evt_f_{invoice}",
        sub,
        invoice,
        Money(value, EUR),
        None,
        T0,
        processor_invoice=True,
        processor_paid=Money(paid_before, EUR) if paid_before else None,
    )


def _with_invoice(account_id="acct-1", **kwargs) -> Account:
    acc = account()
    acc.account_id = account_id
    acc, _ = decide(acc, _invoice_failed(account_id=account_id, **kwargs), POLICY, T0)
    return acc


def _settlements(effects):
    return [e for e in effects if isinstance(e, ev.SettleInvoice)]


def test_a_transfer_that_settles_an_invoice_reserves_its_settlement_there_with_a_key_scoped_by_account():
    acc = _with_invoice()
    acc, effects = decide(acc, ev.PaymentReceived("tr-1", Money(2000, EUR), "TR-1"), POLICY, T0 + days(1))
    (settle,) = _settlements(effects)
    assert (settle.invoice, settle.action, settle.key, settle.partly_paid) == (
        "in_1",
        "paid_out_of_band",
        "acct-1:in_1:settle",
        False,
    )
    assert acc.charge_of("in_1").status == PAID
    # Until the processor answers, the account is due and every sweep sends it again (even while paused).
    assert next_action_at(acc, POLICY, T0 + days(1)) == T0 + days(1)
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(2))
    assert _settlements(effects) == [settle]
    paused = decide(acc, ev.DunningPaused(T0 + days(9), "call", "support"), POLICY, T0 + days(2))[0]
    assert _settlements(decide(paused, ev.SweepTick(), POLICY, T0 + days(3))[1]) == [settle]
    # The answer is recorded once; nothing more is due for it, and the charge may then be archived.
    acc, _ = decide(
        acc, ev.InvoiceSettledThere("in_1", settle.key, "paid_out_of_band", Money(2000, EUR)), POLICY, T0 + days(2)
    )
    settlement = acc.charge_of("in_1").settle_at_processor
    assert settlement is not None and settlement.outcome == "paid_out_of_band"
    assert not _settlements(decide(acc, ev.SweepTick(), POLICY, T0 + days(3))[1])
    (done,) = [h for h in acc.history if h["kind"] == "charge.settlement.done"]
    assert done["detail"]["outcome"] == "paid_out_of_band"
    # Our own marking's echo (invoice.paid, paid out of band) is no money.
    acc, _ = decide(acc, ev.ChargeSettled("evt_p", "in_1", Money(2000, EUR), "in_1", True), POLICY, T0 + days(2))
    assert acc.credit is None


def test_a_write_off_and_credit_settle_the_invoice_there_and_a_partly_paid_one_is_never_voided():
    acc = _with_invoice()
    acc, effects = decide(acc, ev.ChargeWrittenOff("in_1", "bankrupt", "support"), POLICY, T0 + days(1))
    (settle,) = _settlements(effects)
    assert (settle.action, settle.partly_paid) == ("write_off", False)
    partly = _with_invoice(paid_before=500, value=1500)
    partly, _ = decide(partly, ev.PaymentReceived("tr-2", Money(100, EUR), "TR-2"), POLICY, T0)
    partly, effects = decide(partly, ev.ChargeWrittenOff("in_1", "bankrupt", "support"), POLICY, T0 + days(1))
    assert _settlements(effects)[0].partly_paid is True
    # Credit on hand pays a new invoice at once: it is settled there as paid out of band.
    credited = account()
    credited.credit = Money(5000, EUR)
    credited, effects = decide(credited, _invoice_failed(), POLICY, T0)
    assert [s.action for s in _settlements(effects)] == ["paid_out_of_band"]


def test_a_billing_system_charge_named_like_an_invoice_is_not_one_and_one_stored_before_still_is():
    acc = account()
    acc.subscriptions["sub_x"] = Subscription("sub_x", "Stripe-named")
    looks = ev.ChargeFailed("evt_b", "sub_x", "in_billing_7", Money(900, EUR), "card_declined", T0)
    acc, _ = decide(acc, looks, POLICY, T0)
    assert acc.charge_of("in_billing_7").processor_invoice is False
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    (attempt,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert attempt.invoice is None  # paid with a PaymentIntent of ours, never as an invoice
    acc, effects = decide(acc, ev.PaymentReceived("tr-3", Money(900, EUR), "TR-3"), POLICY, T0 + days(1))
    assert not _settlements(effects)
    # A charge stored before the field: an `in_` charge on a `sub_` subscription was an invoice event's.
    before = Charge("in_old", "sub_x", Money(100, EUR), T0)
    assert before.is_processor_invoice and not Charge("INV-0001", "sub_x", Money(100, EUR), T0).is_processor_invoice


def test_an_invoice_partly_paid_before_it_failed_counts_only_the_new_money_and_makes_no_credit():
    acc = _with_invoice(paid_before=500, value=1500)  # 2,000 due, 500 paid there, 1,500 failed
    acc, _ = decide(acc, ev.ChargeSettled("evt_p", "in_1", Money(2000, EUR), "in_1"), POLICY, T0 + days(1))
    charge = acc.charge_of("in_1")
    assert charge.status == PAID and charge.paid == Money(1500, EUR) and acc.credit is None
    assert acc.subscriptions["sub-0"].state == ACTIVE


def test_an_invoice_paid_there_for_less_after_a_credit_note_is_no_longer_owed():
    acc = _with_invoice(value=2000)
    acc, _ = decide(acc, ev.ChargeSettled("evt_p", "in_1", Money(1200, EUR), "in_1"), POLICY, T0 + days(1))
    charge = acc.charge_of("in_1")
    assert charge.status == WRITTEN_OFF and charge.paid == Money(1200, EUR) and acc.balance().is_zero
    assert [h["kind"] for h in acc.history].count("charge.reduced") == 1


def test_an_invoice_paid_there_after_it_was_settled_here_is_credit_and_an_alert_once():
    acc = _with_invoice()
    acc, _ = decide(acc, ev.PaymentReceived("tr-1", Money(2000, EUR), "TR-1"), POLICY, T0 + days(1))
    paid = ev.ChargeSettled("evt_p", "in_1", Money(2000, EUR), "in_1")
    acc, _ = decide(acc, paid, POLICY, T0 + days(1))
    assert acc.credit == Money(2000, EUR)
    (alert,) = [h for h in acc.history if h["kind"] == "payment.unexpected"]
    assert alert["detail"]["reason"] == "paidAfterSettled" and alert["detail"]["amount"]["value"] == 2000
    acc, _ = decide(acc, replace(paid, event_id="evt_p2"), POLICY, T0 + days(1))  # the same payment again
    assert acc.credit == Money(2000, EUR)
    # The settlement then finds the invoice paid: nothing new, no second credit.
    settlement = acc.charge_of("in_1").settle_at_processor
    assert settlement is not None
    key = settlement.key
    acc, _ = decide(acc, ev.InvoiceSettledThere("in_1", key, "already_paid", Money(2000, EUR)), POLICY, T0 + days(1))
    assert acc.credit == Money(2000, EUR)


def test_a_settlement_that_finds_the_invoice_paid_there_makes_the_credit_and_the_event_is_then_an_echo():
    acc = _with_invoice()
    acc, effects = decide(acc, ev.ChargeWrittenOff("in_1", "goodwill", "support"), POLICY, T0 + days(1))
    (settle,) = _settlements(effects)
    acc, _ = decide(acc, ev.InvoiceSettledThere("in_1", settle.key, "already_paid", Money(2000, EUR)), POLICY, T0)
    assert acc.credit == Money(2000, EUR)
    acc, _ = decide(acc, ev.ChargeSettled("evt_p", "in_1", Money(2000, EUR), "in_1"), POLICY, T0 + days(1))
    assert acc.credit == Money(2000, EUR)


def test_our_own_payment_of_the_invoice_is_counted_so_its_echo_changes_nothing():
    acc = _with_invoice()
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    (attempt,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    assert attempt.invoice == "in_1"
    result = ev.AttemptResult("in_1", attempt.key, SUCCEEDED, None, Money(2000, EUR), "in_1")
    acc, _ = decide(acc, ev.AttemptsResolved((result,)), POLICY, T0 + days(1))
    acc, _ = decide(acc, ev.ChargeSettled("evt_p", "in_1", Money(2000, EUR), "in_1"), POLICY, T0 + days(1))
    assert acc.credit is None and not [h for h in acc.history if h["kind"] == "payment.unexpected"]
    assert not _settlements(decide(acc, ev.SweepTick(), POLICY, T0 + days(2))[1])  # paid there: nothing to settle


def test_a_second_payment_for_an_attempt_already_paid_is_credit_and_an_alert():
    acc = account()
    acc, _ = decide(acc, ev.ChargeFailed("evt_f", "sub-0", "INV-0001", Money(1000, EUR), None, T0), POLICY, T0)
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    (attempt,) = [e for e in effects if isinstance(e, ev.TryCharge)]
    first = ev.AttemptResult("INV-0001", attempt.key, SUCCEEDED, None, Money(1000, EUR), "pi_1")
    acc, _ = decide(acc, ev.AttemptsResolved((first,)), POLICY, T0 + days(1))
    acc, _ = decide(acc, ev.AttemptsResolved((first,), "evt_again"), POLICY, T0 + days(1))  # its echo: nothing
    assert acc.credit is None
    second = replace(first, reference="pi_2")
    acc, _ = decide(acc, ev.AttemptsResolved((second,), "evt_2"), POLICY, T0 + days(1))
    assert acc.credit == Money(1000, EUR)
    assert [h["detail"]["reason"] for h in acc.history if h["kind"] == "payment.unexpected"] == ["secondSuccess"]
    # And a late success of an archived charge (the service finds it there) is credit too, once.
    late = ev.PaymentUnexpected("evt_3", Money(700, EUR), "pi_3", "INV-0002", "sub-0", "archivedCharge")
    acc, _ = decide(acc, late, POLICY, T0 + days(2))
    acc, _ = decide(acc, late, POLICY, T0 + days(2))
    assert acc.credit == Money(1700, EUR)


def test_a_voided_invoice_is_no_longer_owed_and_an_uncollectible_one_stays_payable():
    acc = _with_invoice()
    acc, _ = decide(acc, ev.InvoiceStatusChanged("evt_u", "in_1", "uncollectible"), POLICY, T0 + days(1))
    assert acc.charge_of("in_1").status == OPEN and acc.subscriptions["sub-0"].state == PAST_DUE
    assert [h["kind"] for h in acc.history].count("charge.uncollectible") == 1
    acc, _ = decide(acc, ev.InvoiceStatusChanged("evt_v", "in_1", "void"), POLICY, T0 + days(2))
    assert acc.charge_of("in_1").status == WRITTEN_OFF and acc.balance().is_zero
    assert acc.subscriptions["sub-0"].state == ACTIVE
    (voided,) = [h for h in acc.history if h["kind"] == "charge.voided"]
    assert voided["detail"]["amount"]["value"] == 2000
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(30))
    assert not [e for e in effects if isinstance(e, (ev.TryCharge, ev.SettleInvoice))]  # no more dunning


def test_two_tenants_with_the_same_invoice_number_keep_their_own_settlement_keys():
    one = account()
    two = account()
    two.account_id = "acct-2"
    keys = []
    for acc in (one, two):
        acc, _ = decide(acc, ev.ChargeFailed("evt", "sub-0", "INV-0001", Money(1000, EUR), None, T0), POLICY, T0)
        acc.charges[0].processor_invoice = True  # (as an invoice event would mark it)
        acc, effects = decide(acc, ev.ChargeWrittenOff("INV-0001", "gone", "support"), POLICY, T0)
        keys.append(_settlements(effects)[0].key)
    assert keys == ["acct-1:INV-0001:settle", "acct-2:INV-0001:settle"]
