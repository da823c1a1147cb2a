"""A hostile caller against the local host: every answer is a 4xx problem (never a 5xx, never a card
number echoed) and the stored state is unchanged. After each test, the host log of its own requests holds
no traceback (tests/e2e/conftest.py)."""

from __future__ import annotations

import base64
import json
import time
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pastdue import bootstrap
from pastdue.http.signing import sign
from tests.e2e.conftest import own_requests
from tests.support.card_like import card_like, grouped
from tests.support.clients import ADMIN_OID, SECRET, SUPPORT_OID, portal_headers

PAN = card_like()  # what the API must take for a card number (tests/support/card_like.py)
pytestmark = pytest.mark.usefixtures("no_traceback_from_own_requests")
ROUTES_WITH_BODY = [
    ("PUT", "/api/accounts/{a}", "billing"),
    ("PUT", "/api/accounts/{a}/subscriptions/{s}", "billing"),
    ("POST", "/api/webhooks/charge-failed", "billing"),
    ("POST", "/api/webhooks/payment-received", "billing"),
    ("PUT", "/api/accounts/{a}/payment-method", "portal"),
    ("PUT", "/api/accounts/{a}/admin-contact", "portal"),
    ("POST", "/api/accounts/{a}/transfer-admin", "support"),
]


def _doc(account_id):
    found = list(
        bootstrap.container("accounts").query_items(
            "SELECT * FROM c WHERE c.accountId = @a AND c.id = @a",
            parameters=[{"name": "@a", "value": account_id}],
            partition_key=account_id,
        )
    )
    return found[0] if found else None


class Caller:
    def __init__(self, host: str):
        own = own_requests()  # the running test's: its requests carry its id, the host log is read by it
        self.http = own.client(host) if own else httpx.Client(base_url=host, timeout=60)

    def send(
        self,
        method,
        path,
        raw: bytes,
        who: str,
        content_type="application/json",
        extra=None,
        sign_path=None,
        sign_method=None,
    ):
        headers = {"Content-Type": content_type} if content_type else {}
        if who == "billing":
            headers["Webhook-Signature"] = sign(SECRET, sign_method or method, sign_path or path, raw, int(time.time()))
        elif who == "portal":
            headers.update(portal_headers(ADMIN_OID))
            headers["Idempotency-Key"] = f"key-{uuid.uuid4().hex}"
        elif who == "support":
            headers.update(portal_headers(SUPPORT_OID, ("Billing.Support",)))
        headers.update(extra or {})
        return self.http.request(method, path, content=raw, headers=headers)


def _good_bodies(account_id, sub_id):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "/api/accounts/{a}": {
            "admin": {"principalId": ADMIN_OID, "email": f"admin@{account_id}.example", "name": "Ada"},
            "paymentMode": "card",
            "paymentMethodToken": "tok_visa",
        },
        "/api/accounts/{a}/subscriptions/{s}": {"displayName": "Production"},
        "/api/webhooks/charge-failed": {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "charge.failed",
            "createdAt": now,
            "data": {
                "accountId": account_id,
                "subscriptionId": sub_id,
                "chargeId": "ch-x",
                "amount": {"value": 100, "currency": "EUR"},
            },
        },
        "/api/webhooks/payment-received": {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.received",
            "createdAt": now,
            "data": {"accountId": account_id, "reference": "r", "amount": {"value": 100, "currency": "EUR"}},
        },
        "/api/accounts/{a}/payment-method": {"paymentMethodToken": "tok_visa"},
        "/api/accounts/{a}/admin-contact": {"email": f"admin@{account_id}.example"},
        "/api/accounts/{a}/transfer-admin": {"principalId": ADMIN_OID, "email": "new@example.com", "name": "New"},
    }


def _assert_refused(answer, *statuses):
    assert answer.status_code in statuses, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert PAN not in answer.text and "Traceback" not in answer.text


def _unchanged(account_id, before):
    after = _doc(account_id)
    assert after["_etag"] == before["_etag"], "a refused request changed the stored account"


def test_deep_json_is_a_400_on_every_route_with_a_body(host, victim):
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    for deep in (b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        for method, template, who in ROUTES_WITH_BODY:
            path = template.format(a=account_id, s=sub_id)
            _assert_refused(caller.send(method, path, deep, who), 400)
    _unchanged(account_id, before)


def test_a_body_over_the_limit_is_a_413(host, victim):
    account_id, sub_id = victim
    raw = json.dumps({"displayName": "x" * 70_000}).encode()
    _assert_refused(Caller(host).send("PUT", f"/api/accounts/{account_id}/subscriptions/{sub_id}", raw, "billing"), 413)


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_state_changes_need_application_json(host, victim, content_type):
    """A cross-site form (no preflight) can send text/plain, urlencoded or multipart: all refused."""
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    bodies = _good_bodies(account_id, sub_id)
    for method, template, who in ROUTES_WITH_BODY:
        raw = json.dumps(bodies[template]).encode()
        _assert_refused(
            caller.send(method, template.format(a=account_id, s=sub_id), raw, who, content_type=content_type), 415
        )
    reactivate = f"/api/accounts/{account_id}/subscriptions/{sub_id}/reactivate"
    _assert_refused(caller.send("POST", reactivate, b"", "support", content_type=content_type), 415)
    _unchanged(account_id, before)


def test_a_signed_request_replayed_to_another_account_or_method_is_refused(host, victim, new_id):
    account_id, _ = victim
    caller, before = Caller(host), _doc(account_id)
    body = json.dumps(
        {
            "admin": {"principalId": "attacker-oid", "email": "evil@example.com", "name": "Mallory"},
            "paymentMode": "card",
        }
    ).encode()
    other = new_id()
    # Signed for another account's path, sent to the victim's.
    _assert_refused(
        caller.send("PUT", f"/api/accounts/{account_id}", body, "billing", sign_path=f"/api/accounts/{other}"), 401
    )
    _assert_refused(caller.send("PUT", f"/api/accounts/{account_id}", body, "billing", sign_method="POST"), 401)
    _unchanged(account_id, before)
    assert _doc(other) is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("amount", {"value": 10**21, "currency": "EUR"}),
        ("amount", {"value": 2**63, "currency": "EUR"}),
        ("amount", {"value": 2**53, "currency": "EUR"}),
        ("amount", {"value": 10.0, "currency": "EUR"}),
        ("amount", {"value": -100, "currency": "EUR"}),
        ("amount", {"value": True, "currency": "EUR"}),
        ("amount", {"value": 100, "currency": "ZZZ"}),
        ("amount", {"value": 100}),
        ("amount", 100),
        ("chargeId", "ch-1\n"),
        ("chargeId", "ch-1\u2028"),
        ("declineCode", PAN),
        ("declineCode", "card\r\ndeclined"),
    ],
)
def test_bad_charge_failed_fields_are_a_400_naming_the_field(host, victim, field, value):
    account_id, sub_id = victim
    before = _doc(account_id)
    body = _good_bodies(account_id, sub_id)["/api/webhooks/charge-failed"]
    body["data"][field] = value
    answer = Caller(host).send("POST", "/api/webhooks/charge-failed", json.dumps(body).encode(), "billing")
    _assert_refused(answer, 400)
    # The field at fault, as deep as it lies: an amount's bad value or currency is named inside it.
    inner = "" if not isinstance(value, dict) else ".currency" if value.get("value") == 100 else ".value"
    assert answer.json()["field"] == f"data.{field}{inner}"
    _unchanged(account_id, before)


@pytest.mark.parametrize(
    "created_at",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2026-11-25T10:00:00",
        "2026-11-25T10:00:00Z\n",
        "yesterday",
        None,
    ],
)
def test_event_times_outside_the_documented_range_are_a_400(host, victim, created_at):
    account_id, sub_id = victim
    before = _doc(account_id)
    for template in ("/api/webhooks/charge-failed", "/api/webhooks/payment-received"):
        body = _good_bodies(account_id, sub_id)[template]
        body["createdAt"] = created_at
        answer = Caller(host).send("POST", template, json.dumps(body).encode(), "billing")
        _assert_refused(answer, 400)
        assert answer.json()["field"] == "createdAt"
    _unchanged(account_id, before)


@pytest.mark.parametrize(
    "path, body",
    [
        ("admin.name", {"name": f"Card {PAN}"}),
        ("admin.name", {"name": grouped(PAN)}),
        ("admin.email", {"email": "a,x@y.example"}),
        ("admin.email", {"email": "Ada <ada@example.com>"}),
        ("admin.email", {"email": "ada@example.com\n"}),
        ("admin.locale", {"locale": "fr-FR\n"}),
        ("admin.principalId", {"principalId": "oid\u0000"}),
    ],
)
def test_bad_admin_fields_are_refused_and_never_echoed(host, victim, path, body):
    account_id, _ = victim
    before = _doc(account_id)
    admin = {"principalId": ADMIN_OID, "email": f"admin@{account_id}.example", "name": "Ada", **body}
    raw = json.dumps({"admin": admin, "paymentMode": "card"}).encode()
    answer = Caller(host).send("PUT", f"/api/accounts/{account_id}", raw, "billing")
    _assert_refused(answer, 400)
    assert answer.json()["field"] == path
    _unchanged(account_id, before)


def test_pan_like_text_and_unknown_tokens_are_never_stored_or_echoed(host, victim):
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    sub_path = f"/api/accounts/{account_id}/subscriptions/{sub_id}"
    for body in (
        {"displayName": f"Prod {PAN}"},
        {"displayName": "Prod", "plan": PAN},
        {"displayName": "Prod\r\nBcc: x@evil.example"},
    ):
        _assert_refused(caller.send("PUT", sub_path, json.dumps(body).encode(), "billing"), 400)
    received = _good_bodies(account_id, sub_id)["/api/webhooks/payment-received"]
    received["data"]["reference"] = f"ref {PAN}"
    _assert_refused(
        caller.send("POST", "/api/webhooks/payment-received", json.dumps(received).encode(), "billing"), 400
    )
    token = json.dumps({"paymentMethodToken": f"tok_{PAN}"}).encode()
    _assert_refused(caller.send("PUT", f"/api/accounts/{account_id}/payment-method", token, "portal"), 400)
    _unchanged(account_id, before)
    assert PAN not in json.dumps(_doc(account_id))


def test_duplicate_keys_and_missing_required_fields_are_a_400(host, victim):
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    sub_path = f"/api/accounts/{account_id}/subscriptions/{sub_id}"
    _assert_refused(caller.send("PUT", sub_path, b'{"displayName": "A", "displayName": "B"}', "billing"), 400)
    received = _good_bodies(account_id, sub_id)["/api/webhooks/payment-received"]
    del received["createdAt"]
    _assert_refused(
        caller.send("POST", "/api/webhooks/payment-received", json.dumps(received).encode(), "billing"), 400
    )
    _unchanged(account_id, before)


def test_unknown_keys_that_carry_a_card_number_or_a_path_are_a_400_naming_no_field(host, victim):
    """Keys are never repeated unless they are plain names: a card number split by dots is hidden, and a key
    that reads like a path in the validator's words neither steers the answer nor makes it a 500."""
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    sub_path = f"/api/accounts/{account_id}/subscriptions/{sub_id}"
    dotted = ".".join(PAN[i : i + 4] for i in range(0, len(PAN), 4))
    for key in (dotted, "x` - at `$.displayName", "x` - at `$.nope"):
        answer = caller.send("PUT", sub_path, json.dumps({"displayName": "Prod", key: 1}).encode(), "billing")
        _assert_refused(answer, 400)
        assert answer.json()["field"] == "?" and PAN[:8] not in answer.text
    _unchanged(account_id, before)


@pytest.mark.parametrize(
    "route, headers",
    [
        ("billing", {"Webhook-Signature": "t=\u00b2,v1=" + "0" * 64}),  # "²".isdigit() is True
        ("billing", {"Webhook-Signature": "t=1,v1=zz"}),
        ("billing", {"Webhook-Signature": "x" * 10_000}),
        ("portal", {"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b"[" * 3000 + b"]" * 3000).decode()}),
        ("portal", {"X-MS-CLIENT-PRINCIPAL": "A" * 50_000}),
        ("portal", {"X-MS-CLIENT-PRINCIPAL": "\u00e9t\u00e9"}),
        ("pay", {"Idempotency-Key": "\u00e9" * 20}),
        ("pay", {"Idempotency-Key": "short"}),
        ("pay", {"Content-Type": "application/jsonx"}),
        ("billing", {"Content-Type": "text/json"}),
    ],
)
def test_malformed_headers_are_a_4xx(host, victim, route, headers):
    account_id, _ = victim
    caller, before = Caller(host), _doc(account_id)
    raw_headers = {k: v.encode("utf-8") for k, v in headers.items()}  # bytes, as a hostile client sends them
    method, path, who = {
        "billing": ("POST", "/api/webhooks/charge-failed", "billing"),
        "portal": ("GET", f"/api/accounts/{account_id}", "portal"),
        "pay": ("PUT", f"/api/accounts/{account_id}/payment-method", "portal"),
    }[route]
    body = json.dumps({"paymentMethodToken": "tok_visa"}).encode()
    _assert_refused(caller.send(method, path, body, who, extra=raw_headers), 400, 401, 415)
    _unchanged(account_id, before)


ids = st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=40)
amounts = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)
content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""])


@st.composite
def hostile_events(draw, account_id, sub_id):
    body = {
        "id": draw(st.one_of(ids, st.just(f"evt_{uuid.uuid4().hex}"))),
        "type": "charge.failed",
        "createdAt": draw(st.one_of(st.just("2026-11-25T10:00:00Z"), ids)),
        "data": {
            "accountId": account_id,
            "subscriptionId": draw(st.one_of(st.just(sub_id), ids)),
            "chargeId": draw(st.one_of(st.just("ch-ok"), ids)),
            "amount": {"value": draw(amounts), "currency": draw(st.sampled_from(["EUR", "ZZZ", "eur"]))},
            "declineCode": draw(st.one_of(st.none(), ids)),
        },
    }
    raw = json.dumps(body).encode()
    if draw(st.booleans()):  # wrap in deep nesting or repeat a key
        raw = draw(st.sampled_from([b"[" * 50 + raw + b"]" * 50, raw[:-1] + b', "type": "charge.failed"}']))
    return (
        raw,
        draw(content_types),
        draw(st.sampled_from(["/api/webhooks/charge-failed", "/api/webhooks/payment-received"])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_fuzzed_failed_charges_never_answer_5xx_and_bad_ones_change_nothing(host, victim, data):
    account_id, sub_id = victim
    raw, content_type, sign_for = data.draw(hostile_events(account_id, sub_id))
    before = _doc(account_id)
    answer = Caller(host).send(
        "POST", "/api/webhooks/charge-failed", raw, "billing", content_type=content_type, sign_path=sign_for
    )
    assert answer.status_code < 500, answer.text[:300]
    if answer.status_code >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json")
        _unchanged(account_id, before)
