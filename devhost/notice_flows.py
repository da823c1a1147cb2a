"""Every notice kind as production queues it: accounts taken through the real domain (decide) on a simulated
clock, one sweep a day, with the gateway's answers played by a script. What each flow queued is what the
gallery renders and what the notice tests read: never a hand-made parameter dict.

Flows: two subscriptions of different amounts failing and never paid (payment failed, reminders, final
notice, service disabled, deletion warnings, data deleted with money still owed), a hard decline on a
retry, a bank asking for authentication, a new card paying everything after the disable, an invoice
payer, a write-off of a disabled subscription then its reactivation, an admin e-mail change, a card about
to expire, two subscriptions failing a week apart, transfers paying part of, exactly or more than what is
owed, an invoice payer suspended on both subscriptions who pays one of them (one back, one still
suspended), an invoice payer suspended and deleted, a card refused for good after insufficient funds, an
invoice payer paying more than is owed after a deletion, and a card payer paying everything (a deleted, a
suspended and a past-due subscription) with a new card the bank asks them to confirm.

Each flow sends its notices as production does: right after each call or webhook, and once a sweep's work
is done. `Flow.inbox` is every message it sent, in order, with the event that sent it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import (
    CARD,
    INVOICE,
    REQUIRES_ACTION,
    SENDING,
    SUCCEEDED,
    Account,
    Admin,
    Notice,
    PaymentMethod,
    PaymentMode,
    Remittance,
    Subscription,
)
from pastdue.domain.money import Money
from pastdue.policy import shipped

START = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = shipped()


@dataclass
class Flow:
    name: str
    account: Account
    now: datetime = START
    # Every message the flow sent, in order, as it went (its parameters then), with the event that sent it.
    inbox: list[tuple[str, Notice]] = field(default_factory=list)
    # The latest message of each kind it sent (with everything owed by then: both subscriptions' rows).
    notices: dict[str, Notice] = field(default_factory=dict)
    events: int = 0  # events the flow applied that sent their notices (each numbers the messages it sent)

    def apply(self, event, deliver: bool = True) -> list:
        """The event decided; then, as production does right after answering a call or a webhook, its
        notices sent."""
        self.account, effects = decide(self.account, event, POLICY, self.now)
        if deliver:
            self.deliver(type(event).__name__)
        return effects

    def deliver(self, event: str) -> list[Notice]:
        """A drain now, through the real outbox (claim, then sent): what it sent joins the inbox."""
        self.account, _ = decide(self.account, ev.ClaimNotices(1000, "flow"), POLICY, self.now)
        sending = sorted(
            (n for n in self.account.outbox if n.status == SENDING and n.claim_id == "flow"), key=lambda n: n.created_at
        )
        results = tuple(ev.SendResult(n.notice_id, "sent") for n in sending)
        self.account, _ = decide(self.account, ev.NoticesSent("flow", results), POLICY, self.now)
        self.events += 1
        for notice in sending:  # (decide works on a copy: these keep what they were sent with)
            self.inbox.append((f"#{self.events} {event} {self.now:%Y-%m-%d}", notice))
            self.notices[notice.kind] = notice
        return sending

    def sweep(self, answer=("declined", "generic_decline"), hard: bool = False, purge: bool = True) -> None:
        """One day later, a sweep; its retries answered `answer` (with `hard`, the processor says never to
        try the card again: Stripe's advice code do_not_try_again); what it deletes, deleted (unless not
        `purge`: the data deletion fails, and the next sweep runs it again); then its notices sent (the sweep
        drains once its work is done)."""
        self.now += DAY
        effects = self.apply(ev.SweepTick(), deliver=False)
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        if tries:
            outcome, code = answer
            self.apply(
                ev.AttemptsResolved(
                    tuple(
                        ev.AttemptResult(
                            t.charge_id,
                            t.key,
                            outcome,
                            code,
                            t.amount if outcome == "succeeded" else None,
                            f"pi_{t.key}",
                            hard=hard,
                            detail={"adviceCode": "do_not_try_again"} if hard else {},
                        )
                        for t in tries
                    )
                ),
                deliver=False,
            )
            effects += self.apply(ev.SweepTick(), deliver=False)
        for deletion in (e for e in effects if isinstance(e, ev.PurgeData) and purge):
            self.apply(ev.DataPurged(deletion.subscription_id, 3), deliver=False)
        self.deliver("SweepTick")


def _account(locale: str, mode: PaymentMode = CARD, card: PaymentMethod | None = None) -> Account:
    account = Account(
        "acct-1042",
        Admin("oid-ada", "ada@example.com", "Ada Lovelace", locale),
        payment_mode=mode,
        payment_method=(card or PaymentMethod("pm_visa", "visa", "0341", 12, 2030)) if mode == CARD else None,
        remittance=Remittance("FR7630006000011234567890189", "AGRIFRPP", "INV-1042") if mode == INVOICE else None,
        time_zone="Europe/Paris",
    )
    account.subscriptions["sub-prod"] = Subscription("sub-prod", "Production")
    account.subscriptions["sub-stage"] = Subscription("sub-stage", "Staging")
    return account


def _failed(flow: Flow, sub: str, charge: str, value: int, code: str | None = "card_declined") -> None:
    """The billing system reports the failure, with the charge's invoice page in the portal."""
    invoice = f"https://portal.example.com/billing/acct-1042/invoices/{charge}"
    flow.apply(ev.ChargeFailed(f"evt-{charge}", sub, charge, Money(value, "EUR"), code, flow.now, invoice_url=invoice))


def flows(locale: str) -> list[Flow]:
    never_paid = Flow("never-paid", _account(locale))
    _failed(never_paid, "sub-prod", "ch-prod-1", 123456)
    _failed(never_paid, "sub-stage", "ch-stage-1", 2345)
    for _ in range(125):
        never_paid.sweep()

    hard = Flow("hard-decline", _account(locale))
    _failed(hard, "sub-prod", "ch-prod-1", 4999)
    hard.sweep(("declined", "stolen_card"))

    sca = Flow("authentication", _account(locale))
    _failed(sca, "sub-prod", "ch-prod-1", 4999)
    sca.sweep(("requires_action", "authentication_required"))

    paid_late = Flow("paid-after-disable", _account(locale))
    _failed(paid_late, "sub-prod", "ch-prod-1", 4999)
    _failed(paid_late, "sub-stage", "ch-stage-1", 1250)
    for _ in range(31):
        paid_late.sweep()
    new_card = PaymentMethod("pm_mastercard", "mastercard", "4444", 8, 2031)
    effects = paid_late.apply(ev.PayNowRequested("pay-1", "h", new_card, "user:oid-ada"))
    results = tuple(
        ev.AttemptResult(t.charge_id, t.key, SUCCEEDED, None, t.amount, f"pi_{t.key}")
        for t in effects
        if isinstance(t, ev.TryCharge)
    )
    paid_late.apply(ev.PayNowCompleted("pay-1", new_card, results, "user:oid-ada"))

    invoice = Flow("invoice-payer", _account(locale, mode=INVOICE))
    _failed(invoice, "sub-prod", "inv-2027-03", 123456, None)
    _failed(invoice, "sub-stage", "inv-2027-03-s", 2345, None)

    # Support writes off a disabled subscription's charge; the admin then reactivates it.
    written_off = Flow("write-off-then-reactivate", _account(locale))
    _failed(written_off, "sub-prod", "ch-prod-1", 4999)
    _failed(written_off, "sub-stage", "ch-stage-1", 1250)
    for _ in range(31):
        written_off.sweep()
    written_off.apply(ev.ChargeWrittenOff("ch-stage-1", "goodwill after an outage", "support:oid-sam"))
    written_off.apply(ev.Reactivate("sub-stage", "user:oid-ada"))

    contact = Flow("admin-change", _account(locale))
    contact.apply(ev.AdminContactChanged("grace.hopper@example.com", locale, "user:oid-ada"))

    expiring = Flow("card-expiring", _account(locale, card=PaymentMethod("pm_visa", "visa", "1881", 4, 2027)))
    for _ in range(30):
        expiring.sweep()

    # Two subscriptions a week apart: one sweep reaches one's final notice and the other's reminder.
    staggered = Flow("staggered", _account(locale))
    _failed(staggered, "sub-prod", "ch-prod-1", 4999)
    for _ in range(7):
        staggered.sweep()
    _failed(staggered, "sub-stage", "ch-stage-1", 1250)
    for _ in range(21):
        staggered.sweep()

    # Invoice payers paying by transfer: a part of what is owed, exactly what is owed, more than is owed.
    transfers = []
    for name, value in (("transfer-partial", 50_000), ("transfer-exact", 125_801), ("transfer-overpaid", 130_000)):
        flow = Flow(name, _account(locale, mode=INVOICE))
        _failed(flow, "sub-prod", "inv-2027-03", 123456, None)
        _failed(flow, "sub-stage", "inv-2027-03-s", 2345, None)
        for _ in range(4):
            flow.sweep()
        flow.apply(ev.PaymentReceived(f"tr-{name}", Money(value, "EUR"), "VIR-2027-0412"))
        transfers.append(flow)

    # An invoice payer suspended on both subscriptions pays Production's invoice only: Production comes
    # back, Staging stays suspended with its data kept until the deletion date.
    partly_back = Flow("paid-one-still-suspended", _account(locale, mode=INVOICE))
    _failed(partly_back, "sub-prod", "inv-2027-03", 123456, None)
    _failed(partly_back, "sub-stage", "inv-2027-03-s", 2345, None)
    for _ in range(31):
        partly_back.sweep()
    partly_back.apply(ev.PaymentReceived("tr-prod", Money(123456, "EUR"), "VIR-2027-0501"))

    # An invoice payer who never pays: suspended, then deleted.
    invoice_unpaid = Flow("invoice-never-paid", _account(locale, mode=INVOICE))
    _failed(invoice_unpaid, "sub-prod", "inv-2027-03", 123456, None)
    _failed(invoice_unpaid, "sub-stage", "inv-2027-03-s", 2345, None)
    for _ in range(125):
        invoice_unpaid.sweep()

    # Insufficient funds; the pay-day retry is declined for the same reason, and the processor says never to
    # try the card again: refused for good.
    funds = Flow("funds-declined-for-good", _account(locale))
    _failed(funds, "sub-prod", "ch-prod-1", 4999, "insufficient_funds")
    funds.sweep(("declined", "insufficient_funds"), hard=True)  # April 1, a pay day: the retry

    # An invoice payer's Staging, unpaid since April 3, is deleted on August 1; Production's invoice of July 20
    # is past due. On August 2 a transfer of more than both: Staging's debt settled (its data deleted),
    # Production active, the rest kept as credit.
    late_transfer = Flow("transfer-after-deletion", _account(locale, mode=INVOICE))
    for _ in range(3):
        late_transfer.sweep()  # to April 3
    _failed(late_transfer, "sub-stage", "inv-2027-04-s", 2345, None)
    for _ in range(108):
        late_transfer.sweep()  # to July 20
    _failed(late_transfer, "sub-prod", "inv-2027-07", 4999, None)
    for _ in range(13):
        late_transfer.sweep()  # to August 2
    late_transfer.apply(ev.PaymentReceived("tr-late", Money(7500, "EUR"), "VIR-2027-0802"))

    paid_deleted = _paid_after_deletion(locale)
    return [
        never_paid,
        hard,
        sca,
        paid_late,
        invoice,
        written_off,
        contact,
        expiring,
        staggered,
        *transfers,
        partly_back,
        invoice_unpaid,
        funds,
        late_transfer,
        paid_deleted,
    ]


def _paid_after_deletion(locale: str) -> Flow:
    """Three subscriptions at three stages, paid at once with a new card the bank asks the admin to confirm.

    Staging fails on April 3 and is never paid: suspended on May 3, deleted on August 1 (that day's data
    deletion fails). Test fails on June 10 and is suspended on July 10; Production fails on July 20. On
    August 1 the admin pays everything with a new card; the bank asks them to confirm, and they do: one
    receipt, Staging's debt settled (its data deleted), Test paid but still suspended (a payment confirmed
    later does not reactivate it), Production active. The next day's sweep deletes Staging's data: that
    notice asks for nothing."""
    flow = Flow("paid-after-deletion", _account(locale))
    flow.account.subscriptions["sub-test"] = Subscription("sub-test", "Test")
    for _ in range(3):
        flow.sweep()  # to April 3
    _failed(flow, "sub-stage", "ch-stage-1", 2345)
    for _ in range(68):
        flow.sweep()  # to June 10
    _failed(flow, "sub-test", "ch-test-1", 900)
    for _ in range(40):
        flow.sweep()  # to July 20
    _failed(flow, "sub-prod", "ch-prod-1", 4999)
    for _ in range(11):
        flow.sweep()  # to July 31
    flow.sweep(purge=False)  # August 1: Staging deleted, its data deletion fails
    new_card = PaymentMethod("pm_mastercard", "mastercard", "4444", 8, 2031)
    effects = flow.apply(ev.PayNowRequested("pay-1", "h", new_card, "user:oid-ada"))
    tries = [t for t in effects if isinstance(t, ev.TryCharge)]  # one payment for all three
    asked = tuple(
        ev.AttemptResult(t.charge_id, t.key, REQUIRES_ACTION, "authentication_required", None, f"pi_{t.key}")
        for t in tries
    )
    flow.apply(ev.PayNowCompleted("pay-1", new_card, asked, "user:oid-ada"))
    confirmed = tuple(ev.AttemptResult(t.charge_id, t.key, SUCCEEDED, None, t.amount, f"pi_{t.key}") for t in tries)
    flow.apply(ev.AttemptsResolved(confirmed, "evt_confirmed"))  # Stripe's event once the admin confirmed
    flow.sweep()  # August 2: Staging's data deleted
    return flow


def notices(locale: str) -> dict[str, tuple[str, Notice]]:
    """Each notice kind, as the first flow that queued it has it: kind -> (flow, notice)."""
    found: dict[str, tuple[str, Notice]] = {}
    for flow in flows(locale):
        for kind, notice in flow.notices.items():
            found.setdefault(kind, (flow.name, notice))
    return found
