"""Every notice kind as production queues it: accounts taken through the real domain (decide) on a simulated
clock, one sweep a day, with the gateway's answers played by a script. What each flow queued is what the
gallery renders and what the notice tests read: never a hand-made parameter dict.

Flows: two subscriptions of different amounts failing and never paid (payment failed, reminders, final
notice, service disabled, deletion warnings, data deleted with money still owed), a hard decline on a
retry, a bank asking for authentication, a new card paying everything after the disable, an invoice
payer, a write-off of a disabled subscription then its reactivation, an admin e-mail change, a card about
to expire, two subscriptions failing a week apart, transfers paying part of, exactly or more than what is
owed, an invoice payer suspended on both subscriptions who pays one of them (one back, one still
suspended), an invoice payer suspended and deleted.

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

    def sweep(self, answer=("declined", "generic_decline")) -> None:
        """One day later, a sweep; its retries answered `answer`; what it deletes, deleted; then its notices
        sent (the sweep drains once its work is done)."""
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
                        )
                        for t in tries
                    )
                ),
                deliver=False,
            )
            effects += self.apply(ev.SweepTick(), deliver=False)
        for purge in (e for e in effects if isinstance(e, ev.PurgeData)):
            self.apply(ev.DataPurged(purge.subscription_id, 3), deliver=False)
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
    ]


def notices(locale: str) -> dict[str, tuple[str, Notice]]:
    """Each notice kind, as the first flow that queued it has it: kind -> (flow, notice)."""
    found: dict[str, tuple[str, Notice]] = {}
    for flow in flows(locale):
        for kind, notice in flow.notices.items():
            found.setdefault(kind, (flow.name, notice))
    return found
