"""update_payment through the local host: latency for accounts with 1 to 40 subscriptions past due, with
the sandbox gateway and with the Stripe gateway (the real SDK against the local Stripe stand-in).

Usage: python -m bench.update_payment [requests per size]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import machine

SIZES = (1, 5, 20, 40)
SETTLE_SECONDS = 0.5
STRIPE_KEY, STRIPE_WEBHOOK = "sk_test_bench_standin", "whsec_bench_standin"


def _sample(billing, portal, subs: int, new_account, new_card) -> float:
    """One account with `subs` subscriptions past due paying everything with a new card: the request's time."""
    account_id = f"bench-{uuid.uuid4().hex[:10]}"
    new_account(billing, account_id)
    for n in range(subs):
        billing.subscription(account_id, f"sub-{n}")
        billing.charge_failed(account_id, f"sub-{n}", f"INV-{n:04d}", 1000 + n)  # every tenant has one
    token = new_card(portal, account_id)
    # The set-up's own work in the background (a notice drain after each webhook, and on Stripe the previous
    # sample's events) is let finish first: the figure is the request's, not the set-up's backlog, which
    # grows with the number of subscriptions set up and would weigh on the large sizes only.
    time.sleep(SETTLE_SECONDS)
    started = time.perf_counter()
    answer = portal.pay(account_id, token)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and len(answer.json()["settled"]) == subs, answer.text
    return elapsed


def _measure(sides: dict[str, tuple], per_size: int) -> dict[str, dict[int, tuple[float, float]]]:
    """p50 and p99 per size on each side, the sides' samples taken in turn (one of each, then the next), so
    that whatever else the machine does at a moment weighs on both alike."""
    from tests.support.clients import Billing, Portal

    clients = {name: (Billing(base), Portal(base), *makers) for name, (base, *makers) in sides.items()}
    rows: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in sides}
    for subs in SIZES:
        samples: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(per_size):
            for name, (billing, portal, new_account, new_card) in clients.items():
                samples[name].append(_sample(billing, portal, subs, new_account, new_card))
        for name, taken in samples.items():
            taken.sort()
            rows[name][subs] = (statistics.median(taken), taken[min(len(taken) - 1, round(0.99 * (len(taken) - 1)))])
    return rows


def main(per_size: int) -> None:
    from devhost.standins import create_containers
    from devhost.stripe_standin import StripeStandIn
    from pastdue.adapters.stripe_gateway import StripeGateway
    from tests.support.stack import start_host, start_standins, test_environment

    standins = start_standins(Path(tempfile.mkdtemp()))
    env = test_environment(standins)
    os.environ.update(env)
    create_containers()
    sandbox_host, sandbox_base = start_host(env, Path(tempfile.mkdtemp()) / "host.log")
    stripe = StripeStandIn(STRIPE_KEY).start()
    stripe_env = {
        **env,
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": stripe.url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK,
        "COSMOS_DATABASE": f"bench_stripe_{uuid.uuid4().hex[:6]}",
    }
    stripe_host, stripe_base = start_host(stripe_env, Path(tempfile.mkdtemp()) / "host-stripe.log")
    stripe.state.webhook_url, stripe.state.webhook_secret = f"{stripe_base}/api/webhooks/stripe", STRIPE_WEBHOOK
    gateway = StripeGateway(STRIPE_KEY, stripe.url)
    try:
        print(f"machine: {machine()}")
        print(
            f"inputs: {per_size} accounts per size and gateway (one of each in turn), each paying every "
            "outstanding charge with a new card "
            "(sandbox: tok_visa; Stripe: a pm_ from the setup route, the SDK over HTTP to the local stand-in)"
        )

        def stripe_account(billing, account_id):
            customer = gateway.ensure_customer(account_id, "b@example.com", "Bench", None)
            method = gateway.adopt(stripe.set_up_card(customer, "pm_card_chargeCustomerFail"), customer)
            billing.account(account_id, token=method.token, gatewayCustomerId=customer)

        def stripe_card(portal, account_id):
            setup = portal.http.post(f"/api/accounts/{account_id}/payment-method/setup", json={}).json()
            return gateway._client.v1.setup_intents.confirm(
                setup["setupIntentId"], {"payment_method": "pm_card_visa"}
            ).payment_method

        measured = _measure(
            {
                "sandbox": (
                    sandbox_base,
                    lambda b, a: b.account(a, token="tok_chargeCustomerFail"),
                    lambda p, a: "tok_visa",
                ),
                "stripe": (stripe_base, stripe_account, stripe_card),
            },
            per_size,
        )
        sandbox, on_stripe = measured["sandbox"], measured["stripe"]
        print(f"{'subs':>5} {'sandbox p50':>12} {'p99':>6} {'stripe p50':>11} {'p99':>6} {'stripe/sandbox':>15}")
        for subs in SIZES:
            (s50, s99), (t50, t99) = sandbox[subs], on_stripe[subs]
            print(
                f"{subs:>5} {s50 * 1000:>10.0f}ms {s99 * 1000:>4.0f}ms {t50 * 1000:>9.0f}ms {t99 * 1000:>4.0f}ms "
                f"{t50 / s50:>15.2f}"
            )
    finally:
        sandbox_host.terminate()
        stripe_host.terminate()
        stripe.stop()
        standins.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
