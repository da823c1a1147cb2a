"""The Stripe stand-in behaves as Stripe documents its unkind parts, through the official SDK over HTTP: search
that lags and misses, idempotency keys in use, lock timeouts, every documented minimum charge, card set-up
that needs 3-D Secure, another customer's card refused, many tenants side by side; and what it answers
validates against Stripe's published OpenAPI schemas."""

from __future__ import annotations

import threading

import httpx
import pytest
import stripe

from devhost.stripe_contract import violations_during
from devhost.stripe_standin import DIGITS, MINIMUM, StripeStandIn
from pastdue.adapters import stripe_amounts
from pastdue.adapters.gateway import OutcomeUnknown, UnknownToken
from pastdue.adapters.stripe_gateway import StripeGateway
from pastdue.domain.model import DECLINED, REQUIRES_ACTION, SUCCEEDED
from pastdue.domain.money import Money
from tests.support.waiting import until

KEY = "sk_test_standin_realism"
EUR = Money(1234, "EUR")


@pytest.fixture()
def standin():
    with StripeStandIn(KEY, contract=True) as running:
        yield running


def _client(standin, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": standin.url}, max_network_retries=retries)


def _customer_with_card(standin, client, account: str, card: str = "pm_card_visa") -> tuple[str, str]:
    customer = client.v1.customers.create({"email": f"{account}@example.com", "metadata": {"accountId": account}}).id
    seti = standin.set_up_card(customer, card)
    return customer, standin.state.setup_intents[seti]["payment_method"]


def _intent(client, customer, pm, metadata, key=None, amount=1234) -> stripe.PaymentIntent:
    params = {"amount": amount, "currency": "eur", "customer": customer, "payment_method": pm, "metadata": metadata}
    return client.v1.payment_intents.create(params, {"idempotency_key": key} if key else None)


def _search(client, query: str) -> list[str]:
    return [pi.id for pi in client.v1.payment_intents.search({"query": query}).data]


# --- search: eventually consistent --------------------------------------------------------------------------
def test_search_finds_nothing_younger_than_a_minute_by_default(standin):
    now = [1_800_000_000.0]
    standin.clock = lambda: now[0]  # Stripe's clock stands still unless moved
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-1")
    created = _intent(client, customer, pm, {"attempt": "INV-1:1"}).id
    assert _search(client, "metadata['attempt']:'INV-1:1'") == []
    now[0] += 59
    assert _search(client, "metadata['attempt']:'INV-1:1'") == []
    now[0] += 1
    assert _search(client, "metadata['attempt']:'INV-1:1'") == [created]


def test_search_lags_each_object_by_a_delay_of_its_own():
    with StripeStandIn(KEY, contract=True, search_lag=(5, 120), seed=3) as standin:
        client = _client(standin)
        customer, pm = _customer_with_card(standin, client, "acct-1")
        created = {_intent(client, customer, pm, {"batch": "b"}).id for _ in range(8)}
        seen = []
        for _ in range(13):
            seen.append(len(_search(client, "metadata['batch']:'b'")))
            standin.advance(10)
        assert seen[0] == 0 and seen[-1] == len(created)
        assert any(0 < count < len(created) for count in seen)  # some found, not all yet: no single lag
        assert seen == sorted(seen)  # once searchable, stays so
        assert set(_search(client, "metadata['batch']:'b'")) == created


def test_search_misses_when_scripted_or_by_chance():
    with StripeStandIn(KEY, contract=True, search_miss=0.5, seed=11) as standin:
        client = _client(standin)
        customer, pm = _customer_with_card(standin, client, "acct-1")
        created = _intent(client, customer, pm, {"attempt": "INV-2:1"}).id
        standin.advance(61)
        answers = [_search(client, "metadata['attempt']:'INV-2:1'") for _ in range(20)]
        assert [created] in answers and [] in answers  # found sometimes, missed sometimes
        standin.search.miss = 0.0
        httpx.post(f"{standin.url}/_standin/search", json={"miss_next": 2})
        assert _search(client, "metadata['attempt']:'INV-2:1'") == []
        assert _search(client, "metadata['attempt']:'INV-2:1'") == []
        assert _search(client, "metadata['attempt']:'INV-2:1'") == [created]


def test_a_query_the_stand_in_does_not_understand_is_refused_not_answered_unfiltered(standin):
    client = _client(standin)
    for query in ("metadata['a']:'1' OR metadata['b']:'2'", "description:'x'", "metadata['a']~'1'"):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.payment_intents.search({"query": query})
        assert (refused.value.http_status, refused.value.param) == (400, "query")


# --- concurrency: keys in use, locks ------------------------------------------------------------------------
def test_a_key_still_executing_answers_409_idempotency_key_in_use_and_nothing_is_saved(standin):
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-1")
    standin.state.faults.append("create:slow:1.0")  # the first create holds its key for a second
    first: list = []
    running = threading.Thread(target=lambda: first.append(_intent(client, customer, pm, {"a": "1"}, key="K-1")))
    running.start()
    assert until(lambda: "K-1" in standin.state.executing, 60)  # the first create holds its key now
    with pytest.raises(stripe.APIError) as in_use:
        _intent(client, customer, pm, {"a": "1"}, key="K-1")
    assert in_use.value.error is not None
    assert (in_use.value.http_status, in_use.value.error.code) == (409, "idempotency_key_in_use")
    running.join()
    again = _intent(client, customer, pm, {"a": "1"}, key="K-1")  # the first answer, replayed
    assert again.last_response is not None
    assert again.id == first[0].id and again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(standin.state.payment_intents) == 1


def test_two_gateway_charges_of_one_attempt_at_once_take_the_money_once(standin):
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-1")
    gateway = StripeGateway(KEY, standin.url)
    standin.state.faults.append("create:slow:2.5")  # beyond the SDK's retries of the 409
    answers: list = []

    def charge():
        try:
            answers.append(gateway.charge(pm, EUR, "INV-3:1", customer, {"attempt": "INV-3:1"}).outcome)
        except OutcomeUnknown:
            answers.append("unknown")

    threads = [threading.Thread(target=charge) for _ in range(2)]
    threads[0].start()
    assert until(lambda: "INV-3:1" in standin.state.executing, 60)  # the first create holds the key
    threads[1].start()
    for thread in threads:
        thread.join()
    assert sorted(answers, key=str) == sorted([SUCCEEDED, "unknown"], key=str)
    assert len(standin.state.payment_intents) == 1 and standin.taken() == 1234


def test_a_lock_timeout_is_a_429_refused_before_anything_ran(standin):
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-1")
    standin.state.faults.append("lock_timeout")
    with pytest.raises(stripe.RateLimitError) as locked:
        _intent(client, customer, pm, {"a": "1"}, key="K-2")
    assert locked.value.error is not None and locked.value.headers is not None
    assert (locked.value.http_status, locked.value.error.code) == (429, "lock_timeout")
    assert locked.value.headers.get("Stripe-Should-Retry") == "true"
    assert standin.state.payment_intents == {}
    # Nothing was saved under the key, and the SDK retries what Stripe says to retry.
    standin.state.faults.extend(["lock_timeout"] * 2)
    created = _intent(_client(standin, retries=2), customer, pm, {"a": "1"}, key="K-2")
    assert created.status == "requires_confirmation" and len(standin.state.payment_intents) == 1


def test_the_gateway_leaves_a_locked_confirm_unknown_and_settles_it_later(standin):
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-1")
    gateway = StripeGateway(KEY, standin.url)
    standin.state.faults.extend(["create:lock_timeout"] * 3)
    with pytest.raises(OutcomeUnknown):
        gateway.charge(pm, EUR, "INV-4:1", customer, {"attempt": "INV-4:1"})
    assert standin.taken() == 0 and not standin.state.payment_intents  # refused before anything ran
    later = gateway.charge(pm, EUR, "INV-4:1", customer, {"attempt": "INV-4:1"}, resume=True)
    assert later.outcome == SUCCEEDED and standin.taken() == 1234 and len(standin.state.payment_intents) == 1


# --- amounts ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("currency", sorted(MINIMUM))
def test_every_documented_minimum_charge(standin, currency):
    client = _client(standin)
    minimum = MINIMUM[currency]
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.payment_intents.create(
            {"amount": minimum - 1, "currency": currency, "payment_method": "pm_card_visa"}
        )
    assert (small.value.code, small.value.param) == ("amount_too_small", "amount")
    taken = client.v1.payment_intents.create(
        {"amount": minimum, "currency": currency, "payment_method": "pm_card_visa"}
    )
    assert (taken.amount, taken.currency) == (minimum, currency)


def test_the_apps_minimum_charges_are_stripes_documented_ones():
    assert {currency.lower(): value for currency, value in stripe_amounts.MINIMUM.items()} == MINIMUM


@pytest.mark.parametrize("currency, digits", [("eur", 8), *sorted(DIGITS.items())])
def test_the_digits_an_amount_may_have(standin, currency, digits):
    client = _client(standin)
    largest = 10**digits - 1
    assert client.v1.payment_intents.create({"amount": largest, "currency": currency, "payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError) as large:
        client.v1.payment_intents.create(
            {"amount": largest + 1, "currency": currency, "payment_method": "pm_card_visa"}
        )
    assert large.value.code == "amount_too_large"


# --- card set-up that needs 3-D Secure ----------------------------------------------------------------------
def test_a_set_up_that_needs_3d_secure_waits_for_the_customer_then_fails_or_succeeds(standin):
    client = _client(standin)
    gateway = StripeGateway(KEY, standin.url)
    customer = gateway.ensure_customer("acct-1", "a@example.com", "Ada", None)
    seti = client.v1.setup_intents.create({"customer": customer, "usage": "off_session"})
    waiting = client.v1.setup_intents.confirm(seti.id, {"payment_method": "pm_card_authenticationRequired"})
    assert waiting.next_action is not None
    assert (waiting.status, waiting.next_action.type) == ("requires_action", "use_stripe_sdk")
    with pytest.raises(UnknownToken):  # not set up yet: nothing to adopt
        gateway.adopt(seti.id, customer)
    httpx.post(f"{standin.url}/_standin/setup_intents/{seti.id}/authenticate", json={"succeed": False})
    failed = client.v1.setup_intents.retrieve(seti.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_setup_error is not None
    assert failed.last_setup_error.code == "setup_intent_authentication_failure"
    again = client.v1.setup_intents.confirm(seti.id, {"payment_method": "pm_card_authenticationRequired"})
    assert again.status == "requires_action"
    httpx.post(f"{standin.url}/_standin/setup_intents/{seti.id}/authenticate", json={})
    assert client.v1.setup_intents.retrieve(seti.id).status == "succeeded"
    assert gateway.adopt(seti.id, customer).last4 == "3184"


@pytest.mark.parametrize(
    "card, outcome", [("pm_card_authenticationRequiredOnSetup", SUCCEEDED), ("pm_card_authenticationRequired", None)]
)
def test_a_card_authenticated_at_set_up_pays_off_session_unless_its_bank_always_asks(standin, card, outcome):
    gateway = StripeGateway(KEY, standin.url)
    customer = gateway.ensure_customer("acct-1", "a@example.com", "Ada", None)
    waiting = standin.set_up_card(customer, card, authentication="wait")
    assert standin.state.setup_intents[waiting]["status"] == "requires_action"
    standin.authenticate_setup(waiting)
    method = gateway.adopt(waiting, customer)
    answer = gateway.charge(method.token, EUR, "INV-5:1", customer, {"attempt": "INV-5:1"})
    assert answer.outcome == (outcome or REQUIRES_ACTION)


# --- another customer's card --------------------------------------------------------------------------------
def test_a_payment_with_another_customers_card_is_refused(standin):
    client = _client(standin)
    ada, ada_card = _customer_with_card(standin, client, "acct-1")
    bo, _ = _customer_with_card(standin, client, "acct-2")
    with pytest.raises(stripe.InvalidRequestError) as created:
        _intent(client, bo, ada_card, {"attempt": "INV-6:1"})
    assert (created.value.http_status, created.value.param, created.value.code) == (
        400,
        "payment_method",
        "resource_missing",
    )
    assert created.value.error is not None and created.value.error.type == "invalid_request_error"
    own = client.v1.payment_intents.create({"amount": 1234, "currency": "eur", "customer": bo})
    with pytest.raises(stripe.InvalidRequestError) as confirmed:
        client.v1.payment_intents.confirm(own.id, {"payment_method": ada_card, "off_session": True})
    assert (confirmed.value.param, confirmed.value.code) == ("payment_method", "resource_missing")
    assert standin.taken() == 0
    # The gateway: a card that is not the customer's needs a new card (a hard decline), never a charge.
    answer = StripeGateway(KEY, standin.url).charge(ada_card, EUR, "INV-6:1", bo, {"attempt": "INV-6:1"})
    assert (answer.outcome, answer.code, answer.hard) == (DECLINED, "payment_method_unusable", True)


# --- many tenants in one Stripe account ---------------------------------------------------------------------
def test_many_tenants_objects_coexist_and_search_returns_only_matches(standin):
    client = _client(standin)
    tenants = {account: _customer_with_card(standin, client, account) for account in ("acct-1", "acct-2", "acct-3")}
    ids = {}
    for account, (customer, pm) in tenants.items():  # billing systems number invoices per tenant: INV-0001 each
        metadata = {"accountId": account, "chargeId": "INV-0001", "attempt": "INV-0001:1"}
        ids[account] = _intent(client, customer, pm, metadata, key=f"{account}:INV-0001:1").id
    _intent(client, *tenants["acct-2"], {"accountId": "acct-2", "chargeId": "INV-0002", "attempt": "INV-0002:1"})
    standin.advance(61)
    assert set(_search(client, "metadata['attempt']:'INV-0001:1'")) == set(ids.values())
    for account, (customer, pm) in tenants.items():
        query = f"metadata['accountId']:'{account}' AND metadata['attempt']:'INV-0001:1'"
        assert _search(client, query) == [ids[account]]
        assert _search(client, f"customer:'{customer}' AND metadata['chargeId']:'INV-0001'") == [ids[account]]
        intent = client.v1.payment_intents.retrieve(ids[account])
        assert (intent.customer, intent.payment_method, intent.metadata["accountId"]) == (customer, pm, account)
        assert standin.state.customers[customer]["invoice_settings"]["default_payment_method"] in (None, pm)
    assert len(_search(client, "metadata['accountId']:'acct-2'")) == 2
    assert _search(client, "metadata['accountId']:'acct-4'") == []


def test_the_gateway_never_gives_one_tenants_payment_to_another(standin):
    """Two tenants' INV-0001 in one Stripe account: with keys naming the account each gets its own answer;
    with a key that does not (written before keys did), the other tenant's payment is never the answer."""
    client = _client(standin)
    gateway = StripeGateway(KEY, standin.url)
    x, x_card = _customer_with_card(standin, client, "acct-x", "pm_card_chargeDeclined")
    y, y_card = _customer_with_card(standin, client, "acct-y")
    x_meta = {"accountId": "acct-x", "chargeId": "INV-0001", "attempt": "INV-0001:1"}
    y_meta = {"accountId": "acct-y", "chargeId": "INV-0001", "attempt": "INV-0001:1"}
    declined = gateway.charge(x_card, Money(49000, "EUR"), "acct-x:INV-0001:1", x, x_meta)
    paid = gateway.charge(y_card, Money(4900, "EUR"), "acct-y:INV-0001:1", y, y_meta)
    assert (declined.outcome, paid.outcome) == (DECLINED, SUCCEEDED) and paid.reference != declined.reference
    shared = gateway.charge(x_card, Money(49000, "EUR"), "INV-0002:1", x, {**x_meta, "attempt": "INV-0002:1"})
    with pytest.raises(OutcomeUnknown):  # the shared key replays acct-x's payment: not acct-y's answer
        gateway.charge(y_card, Money(4900, "EUR"), "INV-0002:1", y, {**y_meta, "attempt": "INV-0002:1"})
    assert shared.outcome == DECLINED and standin.taken("acct-y") == 4900


# --- Stripe's published schemas -----------------------------------------------------------------------------
def test_a_representative_scenario_answers_only_what_stripes_schemas_allow(standin):
    client = _client(standin)
    gateway = StripeGateway(KEY, standin.url)
    standin.state.webhook_url, standin.state.webhook_secret = "http://127.0.0.1:9/unused", "whsec_x"
    standin.state.delivery = "manual"
    ok = gateway.ensure_customer("acct-1", "a@example.com", "Ada", None)
    card = gateway.adopt(standin.set_up_card(ok, "pm_card_authenticationRequiredOnSetup"), ok)
    paid = gateway.charge(card.token, EUR, "ch-1:1", ok, {"accountId": "acct-1", "attempt": "ch-1:1"})
    declining = gateway.adopt(standin.set_up_card(ok, "pm_card_chargeDeclinedInsufficientFunds"), ok)
    gateway.charge(declining.token, EUR, "ch-2:1", ok, {"attempt": "ch-2:1"})
    three_ds = gateway.adopt(standin.set_up_card(ok, "pm_card_authenticationRequired"), ok)
    waiting = gateway.charge(three_ds.token, EUR, "ch-3:1", ok, {"attempt": "ch-3:1"}, on_session=True)
    gateway.confirmation(waiting.reference)
    gateway.cancel(waiting.reference)
    standin.advance(61)
    gateway.charge(card.token, EUR, "ch-1:1", ok, {"attempt": "ch-1:1"}, resume=True)
    standin.refund(paid.reference, 200)
    standin.dispute(paid.reference, outcome="lost")
    invoice = standin.create_invoice(ok, 2000)
    gateway.charge(card.token, Money(2000, "EUR"), "in:1", ok, {"chargeId": invoice["id"]})
    client.v1.invoices.retrieve(invoice["id"])
    for fault in ("429", "lock_timeout", "500"):
        standin.state.faults.append(fault)
        with pytest.raises(stripe.StripeError):
            _intent(client, ok, card.token, {"a": fault}, key=f"fault-{fault}")
    assert gateway.describe(card.token) == card  # a PaymentMethod read on its own (adopt has it expanded)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve("pi_missing")
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_wrong", base_addresses={"api": standin.url}).v1.customers.retrieve(ok)
    contract = standin.contract
    assert contract.violations == []
    assert {
        "customer",
        "setup_intent",
        "payment_method",
        "payment_intent",
        "payment_intent_search_result",
        "charge",
        "dispute",
        "invoice",
        "event",
        "error",
    } <= set(contract.checked)


def test_stripe_billings_objects_answer_only_what_stripes_schemas_allow(standin):
    """Subscriptions, invoices with their lines, credit notes, Invoice Payments and a failed refund: each is
    checked against its schema (none left unchecked), and a credit note lowers what is due, not the total."""
    client = _client(standin)
    standin.state.webhook_url, standin.state.webhook_secret = "http://127.0.0.1:9/unused", "whsec_x"
    standin.state.delivery = "manual"
    customer, pm = _customer_with_card(standin, client, "acct-1")
    sub = standin.create_subscription(customer, amount=2000)
    assert [s.id for s in client.v1.subscriptions.list({"customer": customer, "status": "all"}).data] == [sub["id"]]
    client.v1.subscriptions.update(sub["id"], {"default_payment_method": pm})
    invoice = standin.create_invoice(customer, 2000, subscription=sub["id"], fail=False, paid=500)
    client.v1.credit_notes.create({"invoice": invoice["id"], "amount": 300})
    read = client.v1.invoices.retrieve(invoice["id"])
    assert (read.total, read.amount_due, read.amount_remaining, read.pre_payment_credit_notes_amount) == (
        2000,
        1700,
        1200,
        300,
    )
    (line,) = read.lines.data
    assert line.parent is not None and line.parent.subscription_item_details is not None
    item = line.parent.subscription_item_details.subscription_item
    assert line.amount == 2000 and item == sub["items"]["data"][0]["id"]
    assert client.v1.subscriptions.retrieve(sub["id"]).latest_invoice == invoice["id"]
    assert len(client.v1.invoice_payments.list({"invoice": invoice["id"]}).data) == 1
    paid = standin.billing_payment(customer, 3000)
    standin.fail_refund(standin.refund(paid["id"], 1000)["refund"])
    contract = standin.contract
    assert contract.violations == [] and not contract.unchecked
    assert {"subscription", "subscription_list", "invoice", "credit_note", "invoice_payment_list", "refund"} <= set(
        contract.checked
    )


def test_an_answer_outside_stripes_schemas_is_recorded_for_the_test_to_fail(standin):
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-1")
    intent = _intent(client, customer, pm, {"a": "1"})
    standin.state.payment_intents[intent.id]["amount"] = "12.34"  # a stand-in bug: an amount as a string
    with violations_during() as found:
        client.v1.payment_intents.retrieve(intent.id)
    ((contract, new),) = found
    assert new[0]["where"] == f"GET /v1/payment_intents/{intent.id} -> 200" and new[0]["schema"] == "payment_intent"
    assert any("amount" in error for error in new[0]["errors"])
    contract.violations.clear()  # seen: the autouse fixture would otherwise fail this test, as it should


# --- Stripe.js's calls: the publishable key, with an intent's client secret only ---------------------------
PK = "pk_test_standin"


def _browser(standin, method: str, path: str, **params) -> httpx.Response:
    """A call as the stand-in's Stripe.js makes it from the portal's page: form-encoded, the publishable key
    as `key`, from another origin."""
    headers = {"Origin": "http://localhost:7071"}
    if method == "GET":
        return httpx.get(f"{standin.url}{path}", params={"key": PK, **params}, headers=headers)
    return httpx.post(f"{standin.url}{path}", data={"key": PK, **params}, headers=headers)


def test_a_publishable_key_confirms_and_reads_an_intent_with_its_client_secret_and_nothing_else(standin):
    client = _client(standin)
    customer = client.v1.customers.create({"email": "pk@example.com"}).id
    seti = client.v1.setup_intents.create({"customer": customer, "usage": "off_session"})
    path = f"/v1/setup_intents/{seti.id}"
    wrong = _browser(
        standin, "POST", f"{path}/confirm", client_secret=f"{seti.id}_secret_x", payment_method="pm_card_visa"
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "client_secret"
    assert standin.state.setup_intents[seti.id]["status"] == "requires_payment_method"
    confirmed = _browser(
        standin, "POST", f"{path}/confirm", client_secret=seti.client_secret, payment_method="pm_card_visa"
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "succeeded"
    assert confirmed.headers["Access-Control-Allow-Origin"] == "*"
    # The publishable view: what Stripe.js may read, never the customer or the metadata.
    assert "customer" not in confirmed.json() and "metadata" not in confirmed.json()
    read = _browser(standin, "GET", path, client_secret=seti.client_secret)
    assert read.status_code == 200 and read.json()["payment_method"] == confirmed.json()["payment_method"]
    # Everything else needs the secret key, as at Stripe.
    for method, other in (("GET", f"/v1/customers/{customer}"), ("POST", "/v1/payment_intents"), ("GET", path)):
        refused = _browser(standin, method, other, **({"client_secret": seti.client_secret} if other != path else {}))
        assert refused.status_code in (400, 401), (other, refused.text)
    assert _browser(standin, "POST", "/v1/customers").status_code == 401
    preflight = httpx.options(f"{standin.url}/v1/setup_intents", headers={"Origin": "http://localhost:7071"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_the_browsers_3d_secure_on_a_payment_fails_then_succeeds_on_the_same_payment_intent(standin):
    client = _client(standin)
    customer, pm = _customer_with_card(standin, client, "acct-3ds", "pm_card_authenticationRequiredOnSetup")
    intent = client.v1.payment_intents.create(
        {"amount": 1500, "currency": "eur", "customer": customer, "payment_method": pm, "confirm": True}
    )
    assert intent.next_action is not None
    assert intent.status == "requires_action" and intent.next_action.type == "use_stripe_sdk"
    page = httpx.get(f"{standin.url}/_standin/challenge/payment_intents/{intent.id}")
    assert page.status_code == 200 and "Fail authentication" in page.text and "Complete authentication" in page.text
    httpx.post(f"{standin.url}/_standin/payment_intents/{intent.id}/authenticate", json={"succeed": False})
    failed = _browser(standin, "GET", f"/v1/payment_intents/{intent.id}", client_secret=intent.client_secret).json()
    assert failed["status"] == "requires_payment_method"
    assert failed["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    # The customer tries again: Stripe.js confirms the same PaymentIntent with the same card, the bank asks again.
    again = _browser(
        standin,
        "POST",
        f"/v1/payment_intents/{intent.id}/confirm",
        client_secret=intent.client_secret,
        payment_method=pm,
    )
    assert again.status_code == 200 and again.json()["status"] == "requires_action"
    httpx.post(f"{standin.url}/_standin/payment_intents/{intent.id}/authenticate", json={"succeed": True})
    assert standin.state.payment_intents[intent.id]["status"] == "succeeded" and standin.taken() == 1500
    assert httpx.get(f"{standin.url}/_standin/challenge/payment_intents/pi_unknown").status_code == 404


def test_the_stripe_js_stand_in_knows_every_test_method_by_name_and_holds_no_card_number(standin):
    import re

    from devhost.stripe_standin import TEST_CARDS

    script = httpx.get(f"{standin.url}/js/v3/")
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "window.Stripe" in script.text
    assert all(f'"{method}"' in script.text for method in TEST_CARDS)
    assert re.search(r"\d{13,19}", script.text) is None  # no card number, served or written


# --- what the stand-in does not serve ------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/customers", "/v1/payment_intents", "/v1/no_such_objects/x", "/v1"])
def test_a_path_the_standin_does_not_serve_is_stripes_unrecognized_url_404(standin, path):
    """Not a closed connection (a client would retry it as a network error): an answer in Stripe's shape."""
    answer = httpx.get(standin.url + path, headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert answer.json()["error"]["message"].startswith("Unrecognized request URL")
