"""Settling a processor's invoice there, on the in-memory repository: reserved by the decision that settled
the charge here, carried out after the write, and sent again by the sweep while the processor is away."""

from __future__ import annotations

from pastdue.adapters.gateway import InvoiceSettled, OutcomeUnknown, SandboxGateway
from pastdue.domain import events as ev
from pastdue.domain.money import Money
from pastdue.services.billing import record_event
from pastdue.services.sweep import run_sweep
from tests.support.stored import stored
from tests.unit.builders import T0, account, clock_of, days
from tests.unit.test_use_cases_in_memory import world


class Away(SandboxGateway):
    """A processor with invoices that cannot be reached until `back` is set."""

    back = False
    calls: list = []

    def settle_invoice(self, invoice_id, action, idempotency_key, partly_paid) -> InvoiceSettled:
        self.calls.append((invoice_id, action, idempotency_key))
        if not self.back:
            raise OutcomeUnknown("stripe: APIConnectionError")
        return InvoiceSettled("paid_out_of_band", Money(0, "EUR"))


def test_a_settlement_the_processor_did_not_answer_is_sent_again_by_the_sweep_with_its_key():
    deps, store, _ = world(Away)
    Away.calls = []
    store.create(account())
    invoice = ev.ChargeFailed("evt_f", "sub-0", "in_1", Money(2000, "EUR"), None, T0, processor_invoice=True)
    assert record_event(deps, "acct-1", invoice) == "processed"
    assert record_event(deps, "acct-1", ev.PaymentReceived("tr-1", Money(2000, "EUR"), "TR-1")) == "processed"
    assert Away.calls == [("in_1", "paid_out_of_band", "acct-1:in_1:settle")]
    held = stored(store, "acct-1")
    assert held.charge_of("in_1").settlement_pending is not None and held.next_action_at is not None
    Away.back = True
    clock_of(deps).at = T0 + days(1)
    run_sweep(deps, budget_seconds=30)
    assert Away.calls[1:] == [("in_1", "paid_out_of_band", "acct-1:in_1:settle")]
    settled = stored(store, "acct-1").charge_of("in_1")
    assert settled.settlement_pending is None
    assert settled.settle_at_processor is not None and settled.settle_at_processor.outcome == "paid_out_of_band"
    clock_of(deps).at = T0 + days(2)
    run_sweep(deps, budget_seconds=30)
    assert len(Away.calls) == 2  # answered: never sent again
