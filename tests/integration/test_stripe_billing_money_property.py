"""Money is never lost, doubled or given to another tenant, through the app's own services and Stripe Billing.

Where tests/integration/test_stripe_money_property.py drives the pure core and the gateway directly, this one
drives the services the host runs: the sweep (run_sweep), the billing system's events (record_event: card
charges failed, bank transfers received), pay-now (portal.pay_now, a new card and Idempotency-Key each time) and
every Stripe event through the webhook's handler (stripe_events.handle_event; an event it refuses as too early
is delivered again later, as Stripe does). The accounts live in the in-memory repository; the gateway is the
real StripeGateway (the official SDK over HTTP) against the strict stand-in; the clock is fixed and moved by
the story.

Two or three tenants share one Stripe account. Each has its Stripe customer and saved card (Stripe's default,
which Stripe Billing's own retries use), card charges of the billing system numbered per tenant (every tenant
has an INV-0000) and Stripe Billing invoices (per-customer numbers; their subscription is the tenant's
`sub_...` subscription here). Hypothesis draws what happens then: sweeps days later, Stripe's own retries of
an invoice, bank transfers (which settle charges here, and so must settle their invoices at Stripe out of
band), pay-now with a new card, refunds in part or whole and refunds that fail, disputes won, lost or left open,
invoices voided or marked uncollectible at Stripe, the billing system's own payments naming another tenant,
Stripe's events delivered in order, in reverse, twice or with some held back, hours passing (Stripe forgets
idempotency keys after 24 hours), scripted faults on the PaymentIntent requests, `processing` payments
settled either way, and the customer's 3-D Secure passed or failed.

When the story ends everything still open is let to finish, then for each tenant:
- what Stripe took from the tenant's customer for pastdue's charges (the app's PaymentIntents and Stripe
  Billing's payments of the invoices dunned here) + what was transferred + what came back from refunds that
  failed == what was applied to charges (archived ones too) + credit, to the cent;
- what the account recorded as given back == what Stripe refunded (net of failed refunds) or lost in disputes
  of those payments;
- one PaymentIntent at most per attempt, and every debit the app made is known to the account;
- the account names no PaymentIntent, invoice, refund or dispute of another customer, and the billing system's
  own payments are nobody's;
- an invoice's card payments at Stripe are counted by its charge here (a payment after the charge was settled
  here is credit); an invoice settled here is no longer open at Stripe, and one open at Stripe is dunned here.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.stripe_standin import State, StripeError, StripeStandIn
from pastdue.adapters import stripe_gateway
from pastdue.adapters.memory import MemoryAccounts, MemoryClock, MemoryCustomerData
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain import events as ev
from pastdue.domain.codec import load
from pastdue.domain.model import CARD, OPEN, SUCCEEDED, Account, Admin, Charge
from pastdue.domain.money import Money
from pastdue.policy import shipped
from pastdue.services import effects, portal
from pastdue.services.billing import put_account, put_subscription, record_event
from pastdue.services.deps import Deps
from pastdue.services.stripe_events import EventTooEarly, handle_event
from pastdue.services.sweep import run_sweep

KEY = "sk_test_billing_property"
T0 = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
CARDS = ["pm_card_visa", "pm_card_chargeCustomerFail", "pm_card_chargeDeclinedInsufficientFunds"]
NEW_CARDS = ["pm_card_visa", "pm_card_chargeCustomerFail", "pm_card_authenticationRequired"]
FAULTS = ["create:drop", "create:500", "429", "processing", "retrieve:drop"]
AUTHENTICATION = ("authentication_required", "payment_intent_authentication_failure")

amount = st.integers(50, 3000)
pick = st.integers(0, 7)
sweep = st.tuples(st.just("sweep"), st.integers(1, 3))
retry = st.tuples(st.just("retry"), pick)
transfer = st.tuples(st.just("transfer"), st.one_of(st.none(), st.integers(1, 2500)))  # None: what is owed now
pay_now = st.tuples(st.just("pay_now"), st.sampled_from(NEW_CARDS))
refund = st.tuples(st.just("refund"), st.tuples(pick, st.one_of(st.none(), st.integers(1, 2000))))
dispute = st.tuples(st.just("dispute"), st.tuples(pick, st.sampled_from(["lost", "won", None]), st.booleans()))
events = st.tuples(st.just("events"), st.sampled_from(["in_order", "reverse", "twice", "drop_some"]))
# What moves money comes up more often than the rest (one_of draws its branches alike).
step = st.one_of(
    sweep,
    sweep,
    retry,
    st.tuples(st.just("hosted_page"), pick),
    transfer,
    transfer,
    pay_now,
    refund,
    refund,
    st.tuples(st.just("fail_refund"), pick),
    dispute,
    dispute,
    st.tuples(st.just("close_dispute"), st.tuples(pick, st.sampled_from(["lost", "won"]))),
    st.tuples(st.just("invoice_status"), st.tuples(pick, st.sampled_from(["void", "mark_uncollectible"]))),
    st.tuples(st.just("billing_payment"), st.integers(100, 2000)),
    events,
    events,
    st.tuples(st.just("hours"), st.sampled_from([1, 12, 25, 49])),
    st.tuples(st.just("fault"), st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3)),
    st.tuples(st.just("settle"), st.booleans()),
    st.tuples(st.just("authenticate"), st.booleans()),
)


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn(KEY) as running:
        yield running


@pytest.fixture(scope="module", autouse=True)
def quick_and_in_order():
    """Timing is not what is tested here: requests are paced at 1000 a second instead of Stripe's 25 (the
    stand-in has no rate limit) and a 429 is waited on for 10 ms instead of a second. One account's charges
    are sent one after the other, so that a scripted fault meets the same request each time Hypothesis
    replays a story."""
    quick = {"PER_ENDPOINT_PER_SECOND": 1000, "SEARCH_PER_SECOND": 1000, "RATE_LIMITED_PAUSE": 0.01}
    before = {name: getattr(stripe_gateway, name) for name in quick}
    parallel = effects.PARALLEL_CHARGES
    for name, value in quick.items():
        setattr(stripe_gateway, name, value)
    effects.PARALLEL_CHARGES = 1
    yield
    for name, value in before.items():
        setattr(stripe_gateway, name, value)
    effects.PARALLEL_CHARGES = parallel


class World:
    """One story: the tenants' accounts in memory, their one Stripe account (the stand-in, emptied), and the
    time they all live in."""

    def __init__(self, standin: StripeStandIn, tenants: list[tuple[str, list[int], list[int], bool]]):
        self.standin = standin
        self.clock = MemoryClock(T0)
        # A Stripe account of this story only; its clock is the story's (key expiry, search lag, `created`).
        standin.state = State(KEY, webhook_url="http://127.0.0.1:9/unused", delivery="manual")
        standin._disputes, standin._paid_off_stripe = {}, {}
        standin.clock = lambda: self.clock.at.timestamp()
        self.store = MemoryAccounts()
        self.deps = Deps(
            store=self.store,
            customer_data=MemoryCustomerData(),
            gateway=StripeGateway(KEY, standin.url, max_network_retries=0),
            policy=shipped(),
            clock=self.clock,
            after_notices_queued=None,
            later=None,
        )
        self.billing_payments: set[str] = set()  # the billing system's own PaymentIntents
        self.log: list[str] = []
        self.tenants = [Tenant(self, t, *tenant) for t, tenant in enumerate(tenants)]

    @property
    def now(self) -> datetime:
        return self.clock.at

    def later(self, delta: timedelta) -> None:
        self.clock.at += delta

    def sweep(self) -> None:
        summary = run_sweep(self.deps, budget_seconds=60, workers=1)
        assert not summary.get("accountsFailed"), summary  # a visit that raised is a bug the bulkhead hid

    def deliver(self, mode: str = "in_order") -> None:
        state = self.standin.state
        held, state.held_events = state.held_events, []
        if mode == "reverse":
            held.reverse()
        if mode == "drop_some":  # lost deliveries: Stripe sends them again later
            state.held_events, held = held[::2], held[1::2]
        for event in held * (2 if mode == "twice" else 1):
            try:
                answer = handle_event(
                    self.deps, event["id"], event["type"], event["data"]["object"], event.get("created")
                )
            except EventTooEarly:
                if event not in state.held_events:
                    state.held_events.append(event)  # answered 503: delivered again later
                continue
            self.log.append(f"{event['type']} {event['data']['object'].get('id')}: {answer}")

    def intents(self, status: str, **only) -> list[dict]:
        return [
            pi
            for pi in self.standin.state.payment_intents.values()
            if pi["status"] == status and all(pi["metadata"].get(k) for k in only)
        ]

    def play(self, action: str, arg, tenant_index: int) -> None:
        tenant = self.tenants[tenant_index % len(self.tenants)]
        standin = self.standin
        if action == "sweep":
            self.later(timedelta(days=arg))
            self.sweep()
        elif action == "events":
            self.deliver(arg)
        elif action == "hours":
            self.later(timedelta(hours=arg))
        elif action == "fault":
            standin.state.faults.extend(arg)
        elif action == "settle":
            for pi in self.intents("processing"):
                standin.settle(pi["id"], succeed=arg)
        elif action == "authenticate":
            # The customer on the bank's page, for pastdue's own payments (an invoice's is confirmed on
            # Stripe's hosted page, which pays the invoice: not modelled here).
            for pi in self.intents("requires_action", attempt=True) + self.intents(
                "requires_payment_method", attempt=True
            ):
                if pi["status"] == "requires_action" or (pi["last_payment_error"] or {}).get("code") in AUTHENTICATION:
                    standin.authenticate(pi["id"], succeed=arg)
        else:
            getattr(tenant, action)(arg)

    def finish(self) -> None:
        """Let everything end: no more faults, processing payments settled, every event delivered (the
        refused ones again once they may be taken), sweeps on the days after."""
        state = self.standin.state
        state.faults, state.processing_next = [], 0
        for _ in range(4):
            for pi in self.intents("processing"):
                self.standin.settle(pi["id"], succeed=True)
            self.later(timedelta(minutes=3))
            self.deliver()
            self.later(timedelta(days=1))
            self.sweep()
        for _ in range(3):
            self.later(timedelta(minutes=3))
            self.deliver()
        assert not state.held_events, [(e["type"], e["data"]["object"]["id"]) for e in state.held_events]


class Tenant:
    """One tenant: its account here, its customer, card, subscription and invoices at Stripe."""

    def __init__(self, world: World, t: int, card: str, charges: list[int], invoices: list[int], heard: bool):
        self.world, self.account_id = world, f"tenant-{t}"
        deps, standin = world.deps, world.standin
        gateway = deps.gateway
        customer = gateway.ensure_customer(self.account_id, f"admin{t}@example.com", "Ada", None)
        assert customer is not None
        self.customer: str = customer
        method = gateway.adopt(standin.set_up_card(self.customer, card), self.customer)
        gateway.make_default(method.token, self.customer)  # the billing system's card: Stripe's default
        self.subscription = standin.create_subscription(self.customer)["id"]  # Stripe Billing's, pastdue's id too
        admin = Admin(f"oid-{t}", f"admin{t}@example.com", "Ada")
        put_account(
            deps,
            self.account_id,
            ev.ProfileSet(admin, CARD, "EUR", method, None, gateway_customer_id=self.customer),
        )
        put_subscription(deps, self.account_id, ev.SubscriptionSet("sub-0", "Seats", "default"))
        put_subscription(deps, self.account_id, ev.SubscriptionSet(self.subscription, "Plan", "default"))
        self.transferred, self.paid_now = 0, 0
        for i, value in enumerate(charges):  # the billing system's card charges, numbered per tenant
            failed = ev.ChargeFailed(
                f"evt-f{i}", "sub-0", f"INV-{i:04d}", Money(value, "EUR"), "card_declined", world.now
            )
            assert record_event(deps, self.account_id, failed) == "processed"
        self.invoices = [
            standin.create_invoice(self.customer, value, subscription=self.subscription)["id"] for value in invoices
        ]
        if heard:  # Stripe's first failures delivered at once (else they wait, for whatever comes first)
            world.deliver()

    # --- what happens to this tenant ----------------------------------------------------------------
    def _chosen(self, items: list, n: int):
        return items[n % len(items)] if items else None

    def _payments(self) -> list[dict]:
        """The succeeded PaymentIntents of the tenant's customer: pastdue's, Stripe Billing's, the billing
        system's own."""
        return sorted(
            (
                pi
                for pi in self.world.standin.state.payment_intents.values()
                if pi["customer"] == self.customer and pi["status"] == "succeeded"
            ),
            key=lambda pi: pi["id"],
        )

    def _charge_of(self, pi: dict) -> dict:
        return self.world.standin.state.charges[pi["latest_charge"]]

    def retry(self, n: int) -> None:
        """Stripe Billing's own retry (Smart Retries) of an open invoice, with the customer's default card."""
        invoices = [i for i in self.invoices if self.world.standin.state.invoices[i]["status"] == "open"]
        invoice = self._chosen(invoices, n)
        if invoice is not None:
            self.world.standin.retry_invoice(invoice)

    def hosted_page(self, n: int) -> None:
        """The customer pays an open invoice on Stripe's hosted page with a card that works (perhaps while a
        transfer for it is on its way)."""
        standin = self.world.standin
        invoice = self._chosen([i for i in self.invoices if standin.state.invoices[i]["status"] == "open"], n)
        if invoice is None:
            return
        card = standin.state.setup_intents[standin.set_up_card(self.customer, "pm_card_visa")]["payment_method"]
        with standin.state.lock:
            standin.handle("POST", f"/v1/invoices/{invoice}/pay", {"payment_method": card, "off_session": "false"})

    def transfer(self, value: int | None) -> None:
        """A bank transfer received: of `value`, or of what the account owes now (None)."""
        if value is None:
            value = self.account().balance().value
            if value <= 0:
                return
        self.transferred += value
        received = ev.PaymentReceived(f"tr-{self.transferred}-{value}", Money(value, "EUR"), f"TR-{value}")
        assert record_event(self.world.deps, self.account_id, received) == "processed"

    def pay_now(self, card: str) -> None:
        deps = self.world.deps
        self.paid_now += 1
        method = deps.gateway.adopt(self.world.standin.set_up_card(self.customer, card), self.customer)
        key = f"pay-{self.paid_now:04d}-{card}"
        portal.pay_now(deps, self.account_id, key, key, method, f"user:oid-{self.account_id}")

    def refund(self, arg) -> None:
        n, value = arg
        refundable = [
            pi
            for pi in self._payments()
            if not self._charge_of(pi)["disputed"] and self._charge_of(pi)["amount_refunded"] < pi["amount_received"]
        ]
        pi = self._chosen(refundable, n)
        if pi is not None:
            self.world.standin.refund(pi["id"], value)

    def fail_refund(self, n: int) -> None:
        state = self.world.standin.state
        refunds = sorted(
            (
                r
                for r in state.refunds.values()
                if r["status"] == "succeeded"
                and state.payment_intents[r["payment_intent"]]["customer"] == self.customer
            ),
            key=lambda r: r["id"],
        )
        refund = self._chosen(refunds, n)
        if refund is not None:
            self.world.standin.fail_refund(refund["id"])

    def dispute(self, arg) -> None:
        n, outcome, partial = arg
        disputable = [
            pi
            for pi in self._payments()
            if not self._charge_of(pi)["disputed"] and self._charge_of(pi)["amount_refunded"] == 0
        ]
        pi = self._chosen(disputable, n)
        if pi is not None:
            part = pi["amount_received"] // 2 if partial and pi["amount_received"] >= 100 else None
            self.world.standin.dispute(pi["id"], outcome, amount=part)

    def close_dispute(self, arg) -> None:
        n, outcome = arg
        standin = self.world.standin
        still_open = sorted(
            (
                d
                for d in standin._disputes.values()
                if d["status"] == "needs_response"
                and standin.state.payment_intents[d["payment_intent"]]["customer"] == self.customer
            ),
            key=lambda d: d["id"],
        )
        dispute = self._chosen(still_open, n)
        if dispute is not None:
            standin.dispute_step(dispute["id"], "funds_withdrawn")
            standin.dispute_step(dispute["id"], outcome)

    def invoice_status(self, arg) -> None:
        """The invoice voided or marked uncollectible in Stripe's Dashboard (refused unless it is open)."""
        n, action = arg
        invoice = self._chosen(self.invoices, n)
        if invoice is None:
            return
        standin = self.world.standin
        with standin.state.lock, contextlib.suppress(StripeError):
            standin.handle("POST", f"/v1/invoices/{invoice}/{action}", {})

    def billing_payment(self, value: int) -> None:
        """A payment the billing system makes itself from this customer, whose metadata names another tenant
        and that tenant's INV-0000: nobody's here, whatever happens to it."""
        others = [t for t in self.world.tenants if t is not self]
        named = others[value % len(others)].account_id
        pi = self.world.standin.billing_payment(
            self.customer, value, metadata={"accountId": named, "chargeId": "INV-0000", "orderId": f"ORD-{value}"}
        )
        self.world.billing_payments.add(pi["id"])

    # --- what holds at the end ----------------------------------------------------------------------
    def account(self) -> Account:
        account = self.world.store.get(self.account_id)
        assert account is not None
        return account

    def all_charges(self, account: Account) -> dict[str, Charge]:
        """Every charge the account has held: in the document, waiting for the archive, or archived."""
        archived = self.world.store.charges.get(self.account_id, {})
        found = {charge_id: load(Charge, stored) for charge_id, stored in archived.items()}
        found.update((c.charge_id, c) for c in account.archive_charges + account.charges)
        return found

    def records(self, account: Account) -> list[dict]:
        archived = self.world.store.records.get(self.account_id, {})
        return sorted([*archived.values(), *account.history], key=lambda r: r["seq"])


@pytest.mark.slow
@settings(
    max_examples=450,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(
    tenants=st.lists(
        st.tuples(
            st.sampled_from(CARDS),
            st.lists(amount, min_size=0, max_size=2),
            st.lists(amount, min_size=0, max_size=2),
            st.booleans(),
        ),
        min_size=2,
        max_size=3,
    ),
    steps=st.lists(st.tuples(step, st.integers(0, 2)), min_size=6, max_size=24),
)
def test_stripe_billing_money_through_the_services_is_applied_credited_or_given_back_never_doubled(
    standin, tenants, steps
):
    world = World(standin, tenants)
    for (action, arg), tenant in steps:
        world.play(action, arg, tenant)
    world.finish()
    for tenant in world.tenants:
        _holds(world, tenant, steps)


def _holds(world: World, tenant: Tenant, steps) -> None:
    standin, state = world.standin, world.standin.state
    account = tenant.account()
    charges = tenant.all_charges(account)
    records = tenant.records(account)
    story = (tenant.account_id, steps, world.log)

    # Stripe's side: this customer's PaymentIntents, by who made them.
    mine = {pi["id"]: pi for pi in state.payment_intents.values() if pi["customer"] == tenant.customer}
    app_made = {i: pi for i, pi in mine.items() if pi["metadata"].get("attempt")}
    invoice_of = {
        p["payment"]["payment_intent"]: p["invoice"]
        for p in state.invoice_payments.values()
        if state.invoices[p["invoice"]]["customer"] == tenant.customer
    }
    noise = {i for i in mine if i in world.billing_payments}
    assert set(mine) == set(app_made) | set(invoice_of) | noise, story
    assert not (set(app_made) & set(invoice_of)) and not (noise & (set(app_made) | set(invoice_of))), story
    # pastdue's payments for this customer were made for this tenant's account, never another's.
    assert {pi["metadata"]["accountId"] for pi in app_made.values()} <= {tenant.account_id}, story

    # Which of them are pastdue's business: its own, and Stripe Billing's payments of invoices dunned here (an
    # invoice paid at Stripe before its failure was heard of was never a debt here).
    dunned = {i for i in tenant.invoices if i in charges}
    ours = set(app_made) | {pi for pi, invoice in invoice_of.items() if invoice in dunned}
    taken = sum(mine[pi]["amount_received"] for pi in ours if mine[pi]["status"] == "succeeded")
    ours_charges = {mine[pi]["latest_charge"] for pi in ours if mine[pi].get("latest_charge")}
    refunds = [r for r in state.refunds.values() if r["charge"] in ours_charges]
    came_back = sum(r["amount"] for r in refunds if r["status"] == "failed")
    applied = sum(c.paid.value for c in charges.values() if c.paid is not None)
    credit = account.credit.value if account.credit else 0
    assert taken + tenant.transferred + came_back == applied + credit, (
        story,
        dict(taken=taken, transferred=tenant.transferred, came_back=came_back, applied=applied, credit=credit),
    )

    # What was given back, as Stripe has it and as the account recorded it.
    disputes = [d for d in standin._disputes.values() if d["charge"] in ours_charges]
    refunded = sum(state.charges[c]["amount_refunded"] for c in ours_charges)
    lost = sum(d["amount"] for d in disputes if d["status"] == "lost")
    recorded = account.reversed or {}
    assert sum(recorded.values()) == refunded + lost, (story, recorded, refunded, lost)
    refund_ids = {r["id"] for r in state.refunds.values() if r["charge"] in ours_charges}  # counted by their ids
    assert set(recorded) <= ours_charges | refund_ids | {d["id"] for d in disputes}, (story, recorded)

    # One PaymentIntent at most per attempt; every debit pastdue made is known to the account.
    per_attempt = Counter(pi["metadata"]["attempt"] for pi in app_made.values())
    assert all(n == 1 for n in per_attempt.values()), (story, per_attempt)
    known = {a.reference for c in charges.values() for a in c.attempts if a.outcome == SUCCEEDED}
    unexpected = {r["detail"].get("reference") for r in records if r["kind"] == "payment.unexpected"}
    debits = {i for i, pi in app_made.items() if pi["status"] == "succeeded"}
    assert debits <= known | unexpected, (story, debits - known - unexpected)

    # Nothing of another customer's is named by the account.
    for charge in charges.values():
        if charge.is_processor_invoice:  # (a debt re-opened by a lost dispute of one is not)
            assert state.invoices[charge.charge_id]["customer"] == tenant.customer, story
        for attempt in charge.attempts:
            if attempt.reference and attempt.reference.startswith("pi_"):
                assert state.payment_intents[attempt.reference]["customer"] == tenant.customer, story
            elif attempt.reference:
                assert state.invoices[attempt.reference]["customer"] == tenant.customer, story
    for record in records:
        payment = record["detail"].get("payment") or record["detail"].get("reference")
        if isinstance(payment, str) and payment.startswith("pi_"):
            assert payment in ours, (story, record)

    # Each invoice dunned here: its card payments at Stripe are what its charge counted as paid there (a
    # payment after the charge was settled here included, as credit); settled here, it is settled there.
    late: Counter[str] = Counter()
    for record in records:
        if record["kind"] == "payment.unexpected" and record["detail"].get("reason") == "paidAfterArchived":
            late[record["detail"]["chargeId"]] += record["detail"]["amount"]["value"]
    for invoice_id in tenant.invoices:
        invoice = state.invoices[invoice_id]
        by_card = sum(
            p["amount_paid"] or 0
            for p in state.invoice_payments.values()
            if p["invoice"] == invoice_id and p["status"] == "paid"
        )
        if standin._paid_off_stripe.get(invoice_id):
            assert by_card == 0, (story, invoice_id)
        dunned_charge = charges.get(invoice_id)
        if dunned_charge is None:
            # Never a debt here: its failure was heard of only once it was no longer open.
            assert invoice["status"] != "open", (story, invoice_id)
            assert not standin._paid_off_stripe.get(invoice_id), (story, invoice_id)
            continue
        charge = dunned_charge
        counted = (charge.processor_paid.value if charge.processor_paid else 0) + late[invoice_id]
        assert by_card == counted, (story, invoice_id, by_card, counted)
        if charge.status != OPEN:
            assert invoice["status"] != "open", (story, invoice_id, invoice["status"])
            assert charge.settlement_pending is None, (story, invoice_id)
        else:
            assert invoice["status"] in ("open", "uncollectible"), (story, invoice_id, invoice["status"])


def test_a_refund_after_a_failed_one_heard_newest_first_is_recorded_as_given_back(standin):
    """A charge's total refunded goes down when a refund fails: counted from that total, a refund made after a
    failed one and heard first added nothing, and the failure then took the first one's amount off (nothing
    recorded given back while Stripe refunded 50). Each refund is counted by its id, as Stripe lists them."""
    world = World(standin, [("pm_card_visa", [50], [], False), ("pm_card_visa", [50], [], False)])
    tenant = world.tenants[1]
    world.play("sweep", 1, 0)
    world.deliver()
    (paid,) = [pi for pi in tenant._payments()]
    refund = standin.refund(paid["id"])["refund"]
    world.deliver()  # charge.refunded (50 in all): recorded, given back
    standin.fail_refund(refund)  # the bank could not return it: 0 refunded in all now
    second = standin.refund(paid["id"])["refund"]  # refunded again, and this one goes through: 50 in all
    world.deliver("reverse")  # charge.refunded (50 in all) first, then refund.failed
    assert standin.state.charges[paid["latest_charge"]]["amount_refunded"] == 50
    # The refund that stands, counted once by its id; the failed one kept as failed (0), its money credit.
    assert tenant.account().reversed == {second: 50, refund: 0}
    credit = tenant.account().credit
    assert credit is not None and credit.value == 50
