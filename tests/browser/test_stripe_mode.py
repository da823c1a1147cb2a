"""The portal in Stripe mode, in a real browser: a local host with PAYMENT_GATEWAY=stripe against the Stripe
stand-in, whose small Stripe.js (the card element, confirmCardSetup, handleNextAction, confirmCardPayment)
the portal loads from the address the setup route names. Paying with a good card, the bank's 3-D Secure
challenge failing and then succeeding on the same payment, and a double click: each pays once, as Stripe
holds it."""

from __future__ import annotations

import time
import uuid

import jsonschema_rs
import pytest
from playwright.sync_api import Page, expect

from devhost.stripe_standin import StripeStandIn
from pastdue.adapters.stripe_gateway import StripeGateway
from tests.browser.test_portal import sign_in
from tests.conftest import RUN_DIR
from tests.support.clients import Billing, Portal
from tests.support.host_tools import HostTools
from tests.unit.test_openapi_document import DOC, _resolve

KEY, PUBLISHABLE, WEBHOOK_SECRET = "sk_test_browser_standin", "pk_test_browser_standin", "whsec_browser_standin"
VISA, THREE_D_SECURE = "pm_card_visa", "pm_card_authenticationRequired"  # Stripe's test methods, by name


@pytest.fixture(scope="module")
def standin():
    with StripeStandIn(KEY, contract=True, publishable_key=PUBLISHABLE) as running:
        yield running


@pytest.fixture(scope="module")
def stripe_host(app_env, standin):
    from tests.support.stack import start_host

    env = {
        **app_env,
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_SECRET_KEY": KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_JS_URL": standin.js_url,
        "COSMOS_DATABASE": f"stripe_web_{uuid.uuid4().hex[:8]}",
    }
    process, base = start_host(env, RUN_DIR / "host-stripe-browser.log")
    standin.state.webhook_url, standin.state.webhook_secret = f"{base}/api/webhooks/stripe", WEBHOOK_SECRET
    yield base
    process.terminate()
    process.wait(10)


@pytest.fixture()
def host(stripe_host, standin, standins):
    """The Stripe host, its test clock at real time; Stripe's clock follows it. After each test, the host is
    left with nothing to do: Stripe's events delivered and the work they and the answers began finished."""
    tools = HostTools(stripe_host, standins.maildev_web_port)
    tools.set_clock(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    standin.clock = tools.epoch_clock()
    yield stripe_host
    delivered = -1
    while delivered != len(standin.state.deliveries):
        delivered = len(standin.state.deliveries)
        time.sleep(0.5)  # an event goes out 50 ms after what made it
    tools.settle()


@pytest.fixture()
def admin():
    return f"00000000-0000-0000-0000-{uuid.uuid4().hex[:12]}"


def _past_due(host: str, standin: StripeStandIn, admin: str, value: int = 12345) -> str:
    """An account with its Stripe customer and a saved card that fails, and a charge of `value` past due."""
    gateway = StripeGateway(KEY, standin.url)
    account_id = f"web-stripe-{uuid.uuid4().hex[:10]}"
    customer = gateway.ensure_customer(account_id, f"admin@{account_id}.example", "Ada", None)
    method = gateway.adopt(standin.set_up_card(customer, "pm_card_chargeCustomerFail"), customer)
    billing = Billing(host)
    answer = billing.account(account_id, token=method.token, admin_oid=admin, gatewayCustomerId=customer)
    assert answer.status_code == 201, answer.text
    assert billing.subscription(account_id, "sub-prod", name="Production").status_code == 201
    assert billing.charge_failed(account_id, "sub-prod", "INV-0001", value).status_code == 200
    return account_id


def _open(page: Page, host: str, admin: str, account_id: str) -> None:
    sign_in(page, host, admin)
    page.get_by_role("link", name=account_id).click()
    expect(page.get_by_role("heading", name=f"Account {account_id}")).to_be_visible()


def _enter_card(page: Page, test_card: str) -> None:
    """The card element the stand-in's Stripe.js mounted in the pay form, filled as a person would."""
    card = page.get_by_role("group", name="Card details")
    card.get_by_label("Test card").fill(test_card)
    card.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    card.get_by_label("CVC").fill("123")


def _challenge(page: Page, choice: str, screenshot: str | None = None) -> None:
    """The bank's 3-D Secure challenge (the stand-in's page in Stripe.js's modal frame): one button."""
    dialog = page.get_by_role("dialog", name="3-D Secure: confirm it is you")
    expect(dialog).to_be_visible()
    button = dialog.frame_locator("iframe").get_by_role("button", name=choice)
    expect(button).to_be_visible()
    if screenshot:
        page.screenshot(path=str(RUN_DIR / screenshot))
    button.click()
    expect(dialog).to_have_count(0)


def _intents(standin: StripeStandIn, account_id: str) -> list[dict]:
    with standin.state.lock:
        return [pi for pi in standin.state.payment_intents.values() if pi["metadata"].get("accountId") == account_id]


def _set_up(standin: StripeStandIn, account_id: str) -> list[dict]:
    """The account's customer's SetupIntents that succeeded."""
    with standin.state.lock:
        (customer,) = [
            c["id"] for c in standin.state.customers.values() if c["metadata"].get("accountId") == account_id
        ]
        return [
            s for s in standin.state.setup_intents.values() if s["customer"] == customer and s["status"] == "succeeded"
        ]


def _pay_requests(page: Page) -> list[dict]:
    sent: list[dict] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.headers)
            if request.method == "PUT" and request.url.endswith("/payment-method")
            else None
        ),
    )
    return sent


def test_the_portal_loads_stripe_js_from_the_address_the_setup_route_names(page, host, standin, admin):
    account_id = _past_due(host, standin, admin)
    setup = Portal(host, object_id=admin).http.post(f"/api/accounts/{account_id}/payment-method/setup", json={})
    assert setup.json()["stripeJsUrl"] == standin.js_url and setup.json()["publishableKey"] == PUBLISHABLE
    jsonschema_rs.validate(_resolve(DOC["components"]["schemas"]["PaymentSetup"]), setup.json())
    scripts: list[str] = []
    page.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    _open(page, host, admin, account_id)
    expect(page.get_by_role("group", name="Card details").get_by_label("Test card")).to_be_visible()
    assert standin.js_url in scripts
    assert not page.locator("#card").count()  # no sandbox test-card list in Stripe mode


def test_paying_with_a_good_card_in_the_card_element_settles_everything(page, host, standin, admin):
    account_id = _past_due(host, standin, admin)
    _open(page, host, admin, account_id)
    _enter_card(page, VISA)
    page.get_by_role("button", name="Pay €123.45").click()
    expect(page.locator("#pay-result")).to_have_text("Paid €123.45. Thank you.")
    expect(page.locator("#banner")).to_have_text("Nothing is owed on this account.")
    expect(page.locator("#pay-now")).to_contain_text("visa ending 4242")
    (paid,) = _intents(standin, account_id)
    assert paid["status"] == "succeeded" and standin.taken(account_id) == 12345
    # The browser confirmed the SetupIntent with the publishable key and the test method it was given.
    with standin.state.lock:
        confirms = [r for r in standin.state.requests if r["path"].endswith("/confirm") and "seti_" in r["path"]]
    assert confirms and {r["params"].get("payment_method") for r in confirms} == {VISA}
    assert Portal(host, object_id=admin).account(account_id).json()["balance"]["value"] == 0


def test_a_3d_secure_challenge_that_fails_is_explained_then_one_that_succeeds_pays_once(page, host, standin, admin):
    account_id = _past_due(host, standin, admin)
    _open(page, host, admin, account_id)
    _enter_card(page, THREE_D_SECURE)
    page.get_by_role("button", name="Pay €123.45").click()
    # This card asks for the bank's check to be set up, then again for the payment itself.
    _challenge(page, "Complete authentication")
    _challenge(page, "Fail authentication", screenshot="portal-stripe-3ds-challenge.png")
    expect(page.get_by_role("alert")).to_have_text(
        "Your bank's check did not succeed, so nothing was paid. The card is saved: you can confirm the payment again."
    )
    expect(page.locator("#banner")).to_contain_text("€123.45")
    page.screenshot(path=str(RUN_DIR / "portal-stripe-3ds-failed.png"), full_page=True)
    (intent,) = _intents(standin, account_id)
    assert intent["status"] == "requires_payment_method" and standin.taken(account_id) == 0
    assert Portal(host, object_id=admin).account(account_id).json()["balance"]["value"] == 12345
    # Trying again confirms the same PaymentIntent: the bank asks again, and this time it passes.
    retry = page.get_by_role("button", name="Confirm the payment with my bank again")
    retry.focus()
    page.keyboard.press("Enter")
    _challenge(page, "Complete authentication")
    expect(page.locator("#pay-result")).to_have_text("Paid €123.45. Thank you.")
    expect(page.locator("#banner")).to_have_text("Nothing is owed on this account.")
    assert [pi["id"] for pi in _intents(standin, account_id)] == [intent["id"]]
    assert standin.taken(account_id) == 12345
    assert Portal(host, object_id=admin).account(account_id).json()["balance"]["value"] == 0


def test_a_payment_waiting_for_the_bank_is_confirmed_from_the_alerts_link(page, host, standin, admin):
    """The person left during the bank's check; the account's alert leads back to the pay form, which offers
    to confirm the waiting payment."""
    account_id = _past_due(host, standin, admin, value=2500)
    _open(page, host, admin, account_id)
    _enter_card(page, THREE_D_SECURE)
    page.get_by_role("button", name="Pay €25.00").click()
    _challenge(page, "Complete authentication")
    expect(page.get_by_role("dialog")).to_be_visible()  # the payment's check, left open: the person goes away
    page.goto(f"{host}/portal/billing/{account_id}/payment-confirmations")
    expect(page.locator("#alerts li[data-kind=confirmPayment]")).to_be_visible()
    page.get_by_role("button", name="Confirm the payment of €25.00 with my bank").click()
    _challenge(page, "Complete authentication")
    expect(page.locator("#pay-result")).to_have_text("Paid €25.00. Thank you.")
    assert len(_intents(standin, account_id)) == 1 and standin.taken(account_id) == 2500


def test_a_double_click_on_pay_in_stripe_mode_pays_once(page, host, standin, admin):
    account_id = _past_due(host, standin, admin)
    _open(page, host, admin, account_id)
    sent = _pay_requests(page)
    _enter_card(page, VISA)
    page.get_by_role("button", name="Pay €123.45").dblclick()
    expect(page.locator("#pay-result")).to_have_text("Paid €123.45. Thank you.")
    assert len(sent) == 1 and len({headers["idempotency-key"] for headers in sent}) == 1
    expect(page.get_by_role("alert")).to_have_count(0)  # the second click neither ran nor said anything
    # One card set up in the browser and confirmed once (besides the saved card the account began with).
    set_up = {s["id"] for s in _set_up(standin, account_id)}
    assert len(set_up) == 2
    with standin.state.lock:
        confirms = [r for r in standin.state.requests if r["path"].endswith("/confirm")]
    assert len([r for r in confirms if r["path"].split("/")[3] in set_up]) == 1
    assert [pi["status"] for pi in _intents(standin, account_id)] == ["succeeded"]
    assert standin.taken(account_id) == 12345
