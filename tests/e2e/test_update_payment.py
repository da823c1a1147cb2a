"""update_payment and the portal routes, over real HTTP: pay everything now, once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import RUN_DIR
from tests.support.clients import ADMIN_OID, SUPPORT_OID, Portal
from tests.support.faulty_deps import taken


@pytest.fixture()
def troubled(billing, tools, new_id):
    """Three subscriptions past due and one disabled, on a failing card."""
    account_id = new_id()
    billing.account(account_id, token="tok_chargeCustomerFail")
    subs = [f"sub-{account_id}-{n}" for n in range(4)]
    for sub in subs:
        billing.subscription(account_id, sub)
    billing.charge_failed(account_id, subs[3], "INV-0001", 3000)
    tools.advance("P31D")
    tools.run("daily_sweep")
    for n, sub in enumerate(subs[:3]):
        billing.charge_failed(account_id, sub, f"INV-{n + 2:04d}", 1000 + n, created_at=tools.now())
    return account_id, subs


def test_a_new_card_settles_everything_and_reactivates_the_disabled(portal, troubled):
    account_id, subs = troubled
    view = portal.account(account_id).json()
    assert [s["state"] for s in view["subscriptions"]] == ["pastDue"] * 3 + ["disabled"]
    assert view["balance"] == {"value": 6003, "currency": "EUR"}
    answer = portal.pay(account_id, "tok_visa")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert sorted(s["chargeId"] for s in body["settled"]) == sorted(
        ["INV-0001"] + [f"INV-{n + 2:04d}" for n in range(3)]
    )
    assert body["settled"][0]["chargeId"] == "INV-0001"  # oldest first
    assert body["account"]["balance"]["value"] == 0
    assert {s["state"] for s in body["account"]["subscriptions"]} == {"active"}
    assert "deletionScheduledAt" not in body["account"]["subscriptions"][3]
    assert body["account"]["paymentMethod"]["last4"] == "4242"
    assert taken(account_id) == (1, 6003)  # one payment for the four charges
    kinds = [e["kind"] for e in portal.history(account_id).json()["entries"]]
    assert "subscription.reactivated" in kinds and "payment.method.updated" in kinds


def test_a_declined_new_card_changes_nothing(portal, troubled):
    account_id, _ = troubled
    before = portal.account(account_id).json()
    answer = portal.pay(account_id, "tok_chargeDeclinedInsufficientFunds")
    assert answer.status_code == 402
    assert answer.json()["declineCode"] == "insufficient_funds"
    after = portal.account(account_id).json()
    assert after["balance"] == before["balance"] and after["subscriptions"] == before["subscriptions"]
    assert after["paymentMethod"] == before["paymentMethod"]


def test_the_same_key_five_times_at_once_charges_once(portal, troubled):
    account_id, _ = troubled
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: portal.pay(account_id, "tok_visa", key="same-key-123"), range(5)))
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1  # the first answer, again
    assert taken(account_id) == (1, 6003)
    replay = portal.pay(account_id, "tok_visa", key="same-key-123")
    assert replay.json() == answers[0].json()
    other = portal.pay(account_id, "tok_mastercard", key="same-key-123")
    assert other.status_code == 422


def test_thirty_pay_nows_at_once_charge_each_charge_once_and_the_log_has_no_traceback(host, portal, troubled, tools):
    """Thirty admins' tabs press "pay" together (thirty keys): the writers race on one account, the
    background notice sender with them. Contention is expected, retried and logged without a traceback."""
    account_id, _ = troubled
    log = RUN_DIR / "host.log"
    start = log.stat().st_size
    with ThreadPoolExecutor(30) as pool:
        answers = list(
            pool.map(lambda n: portal.pay(account_id, "tok_visa", key=f"race-{n:02d}-{account_id}"), range(30))
        )
    assert {a.status_code for a in answers} <= {200, 409, 503}, [a.text for a in answers]
    assert any(a.status_code == 200 for a in answers)
    tools.settle()
    assert taken(account_id)[1] == 6003  # each open charge taken once, however many paid at once
    assert portal.account(account_id).json()["balance"]["value"] == 0
    text = log.read_bytes()[start:].decode("utf-8", "replace")
    assert "Traceback" not in text, text[text.find("Traceback") - 300 : text.find("Traceback") + 1500]


def test_user_a_cannot_read_or_change_user_b_account(host, troubled, billing, new_id):
    account_id, subs = troubled
    stranger = Portal(host, object_id="00000000-0000-0000-0000-0000000000bb")
    for answer in (
        stranger.account(account_id),
        stranger.history(account_id),
        stranger.pay(account_id, "tok_visa"),
        stranger.reactivate(account_id, subs[3]),
        stranger.http.put(f"/api/accounts/{account_id}/admin-contact", json={"email": "x@evil.example"}),
    ):
        assert answer.status_code == 404, answer.text
    assert stranger.account("does-not-exist").status_code == 404
    anonymous = Portal(host)
    anonymous.http.headers.pop("X-MS-CLIENT-PRINCIPAL")
    assert anonymous.account(account_id).status_code == 401
    anonymous.http.headers["X-MS-CLIENT-PRINCIPAL"] = "%%%not-base64"
    assert anonymous.account(account_id).status_code == 401
    assert (
        stranger.http.post(
            f"/api/accounts/{account_id}/transfer-admin", json={"principalId": "x", "email": "x@y.zz", "name": "X"}
        ).status_code
        == 403
    )


def test_support_transfers_the_admin_and_reactivates(host, portal, troubled, billing):
    account_id, subs = troubled
    support = Portal(host, object_id=SUPPORT_OID, roles=("Billing.Support",))
    blocked = support.reactivate(account_id, subs[3])
    assert blocked.status_code == 409 and blocked.json()["amountDue"] == {"value": 3000, "currency": "EUR"}
    billing.payment_received(account_id, 3000)  # settles the oldest charge: the disabled subscription
    moved = support.http.post(
        f"/api/accounts/{account_id}/transfer-admin",
        json={"principalId": "new-admin-oid", "email": "new@example.com", "name": "New"},
    )
    assert moved.status_code == 200 and moved.json()["admin"]["email"] == "new@example.com"
    assert portal.account(account_id).status_code == 404  # the old admin no longer sees it
    new_admin = Portal(host, object_id="new-admin-oid")
    states = {s["subscriptionId"]: s["state"] for s in new_admin.account(account_id).json()["subscriptions"]}
    assert states[subs[3]] == "active"
    assert support.reactivate(account_id, subs[3]).status_code == 200
    assert ADMIN_OID not in str(new_admin.account(account_id).json())


@pytest.mark.parametrize("declined_first", [True, False], ids=["declined-card-first", "good-card-first"])
def test_two_tenants_invoice_0001_each_get_their_own_cards_answer_on_the_sandbox(
    billing, portal, new_id, declined_first
):
    """Both tenants owe an INV-0001 (billing systems number invoices per tenant): each pay-now is answered
    by its own card in the sandbox's ledger, whichever pays first."""
    x, y = new_id(), new_id()
    for account_id, value in ((x, 49000), (y, 4900)):
        billing.account(account_id, token="tok_chargeCustomerFail")
        billing.subscription(account_id, f"sub-{account_id}")
        billing.charge_failed(account_id, f"sub-{account_id}", "INV-0001", value)
    order = [(x, "tok_chargeDeclined"), (y, "tok_visa")]
    answers = {a: portal.pay(a, card) for a, card in (order if declined_first else order[::-1])}
    assert answers[x].status_code == 402 and answers[x].json()["declineCode"] == "generic_decline", answers[x].text
    assert answers[y].status_code == 200 and answers[y].json()["account"]["balance"]["value"] == 0, answers[y].text
    assert portal.account(x).json()["balance"]["value"] == 49000
    assert taken(x) == (0, 0) and taken(y) == (1, 4900)
