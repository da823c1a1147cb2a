"""A secret App Service could not resolve from Key Vault (the app is handed the reference text itself):
the billing webhook secret and the Stripe secrets are treated alike. The app starts and runs; what needs the
secret answers 503 + Retry-After and accepts nothing; the reason is logged as an error (the alert
`secret-unresolved` fires on it), never with a traceback."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import RUN_DIR
from tests.support.clients import ADMIN_OID, Billing, Portal
from tests.support.host_tools import HostTools

UNRESOLVED = "@Microsoft.KeyVault(SecretUri=https://kv-pastdue-abc123.vault.azure.net/secrets/stripe-secret-key/)"
LOG = RUN_DIR / "host-unresolved.log"


@pytest.fixture(scope="module")
def unresolved_host(app_env, standins):
    from tests.support.stack import free_port, start_host

    env = {
        **app_env,
        "PAYMENT_GATEWAY": "stripe",
        # The host starts a Stripe stand-in of its own: on a free port, not the default 12111 that `make run`
        # or a second copy of the suite may hold.
        "STRIPE_PORT": str(free_port()),
        "STRIPE_SECRET_KEY": UNRESOLVED,
        "STRIPE_WEBHOOK_SECRET": UNRESOLVED.replace("stripe-secret-key", "stripe-webhook-secret"),
    }
    process, base = start_host(env, LOG)
    yield base
    process.terminate()
    process.wait(10)


def test_unresolved_stripe_secrets_stop_payments_not_the_app(unresolved_host, standins):
    base, account_id = unresolved_host, f"kv-{uuid.uuid4().hex[:8]}"
    billing, portal = Billing(base), Portal(base, ADMIN_OID)
    assert httpx.get(f"{base}/api/health", timeout=30).status_code == 200
    # The billing system's calls that need no processor are served: the failure is recorded, its notice goes.
    assert billing.account(account_id, token=None).status_code == 201
    assert billing.subscription(account_id, "s1").status_code == 201
    assert billing.charge_failed(account_id, "s1", "ch-kv", 2500).json() == {"status": "processed"}
    HostTools(base, standins.maildev_web_port).settle()
    before = portal.account(account_id).json()
    # Paying, or setting up a card, needs Stripe: 503 + Retry-After, and nothing changes.
    for answer in (
        portal.pay(account_id, "pm_card_visa"),
        portal.http.post(
            f"/api/accounts/{account_id}/payment-method/setup",
            content=b"{}",
            headers={"Content-Type": "application/json"},
        ),
    ):
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] and answer.json()["type"].endswith("/payments-unavailable")
        assert "Traceback" not in answer.text and "KeyVault" not in answer.text
    assert portal.account(account_id).json() == before
    # Stripe's events are refused, to be delivered again once the secret resolves.
    refused = httpx.post(
        f"{base}/api/webhooks/stripe",
        content=b'{"id": "evt_1"}',
        timeout=30,
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    # The sweep runs.
    assert HostTools(base, standins.maildev_web_port).run("daily_sweep")
    log = LOG.read_text(encoding="utf-8", errors="replace")
    assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: unresolved Key Vault reference" in log
    assert "Traceback" not in log
