"""Money is never lost or doubled at Stripe, whatever happens around a payment.

Hypothesis draws a story for several accounts in one Stripe account, whose invoice numbers collide as
real billing systems' do (each tenant has an INV-0000): sweeps on later days, lost answers (a create or a confirm run
then dropped, a 500 saved under its key, a 429, a retrieve dropped), `processing` payments settled either
way, Stripe's events delivered at once, late, twice or in reverse order, days passing (Stripe forgets a
key after 24 hours), transfers that pay part of the debt, and a customer who passes or fails 3-D Secure.
Each step runs the pure core (decide) and the real gateway (the official SDK over HTTP) against the
strict stand-in; events are read with the webhook's own mapper. When the story ends, everything still
open is let to finish, then:

- what Stripe took + what was transferred == what was applied to charges + credit (to the cent);
- each attempt has at most one PaymentIntent, and so at most one debit;
- no charge is paid by two card payments unless the surplus shows as credit;
- no account's payment is applied to another's charge of the same number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.stripe_standin import StripeStandIn
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.adapters.telemetry import Metrics
from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import Account, Admin, PaymentMethod, Subscription
from pastdue.domain.money import Money
from pastdue.policy import shipped
from pastdue.services.effects import charge_all
from pastdue.services.stripe_events import INTENT_EVENTS, intent_result

KEY = "sk_test_property"
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CARDS = [
    "pm_card_visa",
    "pm_card_chargeCustomerFail",
    "pm_card_authenticationRequired",
    "pm_card_chargeDeclinedInsufficientFunds",
]
FAULTS = ["create:drop", "create:500", "429", "processing", "retrieve:drop"]

step = st.one_of(
    st.tuples(st.just("sweep"), st.integers(1, 3)),
    st.tuples(st.just("fault"), st.lists(st.sampled_from(FAULTS), min_size=1, max_size=4)),
    st.tuples(st.just("events"), st.sampled_from(["in_order", "reverse", "twice", "drop_some"])),
    st.tuples(st.just("hours"), st.sampled_from([1, 12, 25, 49])),
    st.tuples(st.just("settle"), st.booleans()),
    st.tuples(st.just("authenticate"), st.booleans()),
    st.tuples(st.just("transfer"), st.integers(1, 2500)),
)


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn(KEY, contract=True) as running:
        yield running


class World:
    """The accounts of one story, their shared Stripe account, and the time they all live in."""

    def __init__(self, standin: StripeStandIn, tenants: list[tuple[str, list[int]]], n: int):
        self.standin = standin
        self.now = T0
        self.base = standin.clock()
        standin.clock = lambda: self.base + (self.now - T0).total_seconds()
        standin.state.delivery, standin.state.webhook_url = "manual", "http://127.0.0.1:9/unused"
        standin.state.held_events, standin.state.faults, standin.state.processing_next = [], [], 0
        gateway = StripeGateway(KEY, standin.url, max_network_retries=0)
        self.deps = SimpleNamespace(gateway=gateway, metrics=Metrics())
        self.stories = [Story(self, card, charges, f"prop-{n}-{t}") for t, (card, charges) in enumerate(tenants)]

    def deliver(self, mode: str) -> None:
        held, self.standin.state.held_events = self.standin.state.held_events, []
        if mode == "reverse":
            held.reverse()
        if mode == "drop_some":  # a lost delivery: Stripe sends it again later
            self.standin.state.held_events, held = held[::2], held[1::2]
        by_id = {story.account.account_id: story for story in self.stories}
        for event in held * (2 if mode == "twice" else 1):
            if event["type"] not in INTENT_EVENTS:
                continue
            found = intent_result(event["type"], event["data"]["object"])
            if found is not None and found[0] in by_id:
                by_id[found[0]].decide(ev.AttemptsResolved((found[1],), event["id"]))

    def waiting(self, status: str) -> list[str]:
        ours = {story.account.account_id for story in self.stories}
        return [
            pi["id"]
            for pi in self.standin.state.payment_intents.values()
            if pi["status"] == status and pi["metadata"].get("accountId") in ours
        ]

    def play(self, action: str, arg, tenant: int) -> None:
        story = self.stories[tenant % len(self.stories)]
        if action == "sweep":
            self.now += timedelta(days=arg)
            for each in self.stories:
                each.sweep()
        elif action == "fault":
            self.standin.state.faults.extend(arg)
        elif action == "events":
            self.deliver(arg)
        elif action == "hours":
            self.now += timedelta(hours=arg)
        elif action == "settle":
            for pi in self.waiting("processing"):
                self.standin.settle(pi, succeed=arg)
        elif action == "authenticate":
            for pi in self.waiting("requires_action") + self.waiting("requires_payment_method"):
                intent = self.standin.state.payment_intents[pi]
                if (intent.get("last_payment_error") or {}).get("code") in (
                    "authentication_required",
                    "payment_intent_authentication_failure",
                ):
                    self.standin.authenticate(pi, succeed=arg)
        elif action == "transfer":
            story.transfer(arg)

    def finish(self) -> None:
        """Let everything still open end: no more faults, processing settled, events delivered, and
        sweeps until no attempt is left in flight."""
        self.standin.state.faults, self.standin.state.processing_next = [], 0
        for _ in range(4):
            for pi in self.waiting("processing"):
                self.standin.settle(pi, succeed=True)
            self.deliver("in_order")
            self.now += timedelta(minutes=2)
            self.now += timedelta(days=1)
            for story in self.stories:
                story.sweep()
        self.deliver("in_order")


class Story:
    """One tenant: its account, decided by the pure core, charged through the real gateway."""

    def __init__(self, world: World, card: str, charges: list[int], account_id: str):
        self.world = world
        gateway = world.deps.gateway
        standin = world.standin
        customer = gateway.ensure_customer(account_id, "a@example.com", "Ada", None)
        method = gateway.adopt(standin.set_up_card(customer, card), customer)
        self.account = Account(
            account_id,
            Admin("oid", "a@example.com", "Ada"),
            gateway_customer_id=customer,
            payment_method=PaymentMethod(method.token, method.brand, method.last4, 12, 2034),
        )
        self.account.subscriptions["sub-0"] = Subscription("sub-0", "Sub 0")
        self.transferred = 0
        for i, value in enumerate(charges):
            self.decide(
                ev.ChargeFailed(f"evt-f{i}", "sub-0", f"INV-{i:04d}", Money(value, "EUR"), "card_declined", world.now)
            )

    def decide(self, event) -> list:
        self.account, effects = decide(self.account, event, shipped(), self.world.now)
        return effects

    def run_effects(self, effects) -> None:
        tries = [e for e in effects if isinstance(e, ev.TryCharge)]
        if tries:
            # A partial Deps on purpose: charge_all reads only the gateway and the metrics.
            results = charge_all(self.world.deps, self.account, tries)  # type: ignore[arg-type]
            if results:
                self.decide(ev.AttemptsResolved(tuple(results)))

    def sweep(self) -> None:
        self.run_effects(self.decide(ev.SweepTick()))

    def transfer(self, value: int) -> None:
        self.transferred += value
        self.decide(
            ev.PaymentReceived(f"evt-t{self.transferred}-{len(self.account.history)}", Money(value, "EUR"), "transfer")
        )


@pytest.mark.slow
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    tenants=st.lists(
        st.tuples(st.sampled_from(CARDS), st.lists(st.integers(50, 3000), min_size=1, max_size=3)),
        min_size=2,
        max_size=3,
    ),
    steps=st.lists(st.tuples(step, st.integers(0, 2)), min_size=1, max_size=14),
)
def test_money_taken_at_stripe_is_applied_or_credited_and_never_taken_twice(standin, tenants, steps):
    world = World(standin, tenants, n=len(standin.state.customers))
    for (action, arg), tenant in steps:
        world.play(action, arg, tenant)
    world.finish()
    for story in world.stories:
        _holds(standin, story, steps)


def _holds(standin, story: Story, steps) -> None:
    account = story.account
    intents = [
        pi for pi in standin.state.payment_intents.values() if pi["metadata"].get("accountId") == account.account_id
    ]
    taken = sum(pi["amount_received"] for pi in intents if pi["status"] == "succeeded")
    charges_all = account.charges + account.archive_charges
    applied = sum(c.paid.value for c in charges_all if c.paid)
    credit = account.credit.value if account.credit else 0
    assert taken + story.transferred == applied + credit, (steps, [(pi["id"], pi["status"]) for pi in intents])
    per_attempt: dict[str, int] = {}
    for pi in intents:
        per_attempt[pi["metadata"]["attempt"]] = per_attempt.get(pi["metadata"]["attempt"], 0) + 1
    assert all(n == 1 for n in per_attempt.values()), per_attempt
    # Every debit Stripe made is known to the account (applied, or kept as credit), by its PaymentIntent.
    known = {a.reference for c in charges_all for a in c.attempts if a.outcome == "succeeded"}
    assert {pi["id"] for pi in intents if pi["status"] == "succeeded"} <= known
