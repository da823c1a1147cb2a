"""A hostile caller, second round, against the local host: text that is not Unicode, crafted cursors, fields
the contract does not name. Every answer is a 4xx problem naming the field, nothing stored changes, and
the host log of each test's own requests holds no traceback (tests/e2e/conftest.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_hostile_input import Caller, _assert_refused, _doc, _good_bodies, _unchanged

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
LONE = "\ud800"
pytestmark = pytest.mark.usefixtures("no_traceback_from_own_requests")


def _bodies(account_id, sub_id) -> dict[tuple[str, str], tuple[dict, str]]:
    """A valid body for every route that takes one, by (method, OpenAPI path), and who sends it."""
    until = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    good = _good_bodies(account_id, sub_id)
    good["/api/accounts/{a}"]["remittance"] = {
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
        "reference": "ACME-1",
    }
    return {
        ("put", "/accounts/{accountId}"): (good["/api/accounts/{a}"], "billing"),
        ("put", "/accounts/{accountId}/subscriptions/{subscriptionId}"): (
            good["/api/accounts/{a}/subscriptions/{s}"],
            "billing",
        ),
        ("post", "/webhooks/charge-failed"): (good["/api/webhooks/charge-failed"], "billing"),
        ("post", "/webhooks/payment-received"): (good["/api/webhooks/payment-received"], "billing"),
        ("put", "/accounts/{accountId}/payment-method"): (good["/api/accounts/{a}/payment-method"], "portal"),
        ("put", "/accounts/{accountId}/admin-contact"): (good["/api/accounts/{a}/admin-contact"], "portal"),
        ("post", "/accounts/{accountId}/transfer-admin"): (good["/api/accounts/{a}/transfer-admin"], "support"),
        ("post", "/support/accounts/{accountId}/dunning/pause"): ({"until": until, "reason": "asked"}, "support"),
        ("post", "/support/accounts/{accountId}/dunning/resume"): ({"reason": "asked"}, "support"),
        ("post", "/support/accounts/{accountId}/notices/{noticeId}/resend"): ({"reason": "asked"}, "support"),
        ("post", "/support/accounts/{accountId}/subscriptions/{subscriptionId}/extend-grace"): (
            {"days": 3, "reason": "asked"},
            "support",
        ),
        ("post", "/support/accounts/{accountId}/charges/{chargeId}/write-off"): (
            {"reason": "asked", "notifyAdmin": False},
            "support",
        ),
    }


def _strict_objects(schema: dict, spec: dict, path: str = "") -> list[str]:
    """The paths (`""`, `"admin."`, `"data."`...) of every object in a schema that refuses unknown fields."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    found = [path] if schema.get("type") == "object" and schema.get("additionalProperties") is False else []
    for name, inner in (schema.get("properties") or {}).items():
        found += _strict_objects(inner, spec, f"{path}{name}.")
    return found


def _strict_operations(spec: dict) -> list[tuple[str, str, list[str]]]:
    operations = []
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            strict = _strict_objects(schema, spec)
            if strict:
                operations.append((method, route, strict))
    return operations


def _at(body: dict, path: str) -> dict:
    for name in filter(None, path.split(".")):
        body = body[name]
    return body


def _url(route: str, account_id: str, sub_id: str) -> str:
    return "/api" + route.format(
        accountId=account_id, subscriptionId=sub_id, chargeId="ch-hostile-1", noticeId="ch-hostile-1:failed"
    )


def test_every_body_whose_schema_refuses_unknown_fields_refuses_them_at_every_level(host, victim):
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    operations = _strict_operations(spec)
    bodies = _bodies(account_id, sub_id)
    # Every body of our own contract says so (only Stripe's events, Stripe's shape, may grow).
    assert {(m, r) for m, r, _ in operations} == set(bodies), "a route with a body has no test body here"
    tried = 0
    for method, route, objects in operations:
        for where in objects:
            body = json.loads(json.dumps(bodies[(method, route)][0]))
            _at(body, where)["notifyAdmn"] = False
            answer = caller.send(
                method.upper(), _url(route, account_id, sub_id), json.dumps(body).encode(), bodies[(method, route)][1]
            )
            _assert_refused(answer, 400)
            assert answer.json()["field"] == f"{where}notifyAdmn", (route, answer.json())
            tried += 1
    assert tried >= 14
    _unchanged(account_id, before)


def test_the_misspelt_notify_flag_of_a_write_off_is_refused_and_nothing_is_written_off(host, victim):
    account_id, _ = victim
    caller, before = Caller(host), _doc(account_id)
    answer = caller.send(
        "POST",
        f"/api/support/accounts/{account_id}/charges/ch-hostile-1/write-off",
        json.dumps({"reason": "goodwill", "notifyAdmn": False}).encode(),
        "support",
    )
    _assert_refused(answer, 400)
    assert answer.json()["field"] == "notifyAdmn"
    _unchanged(account_id, before)


@pytest.mark.parametrize(
    "route, who, field, body",
    [
        (
            "/api/accounts/{a}",
            "billing",
            "admin.name",
            {"admin": {"principalId": "oid-x", "email": "a@example.com", "name": f"Ada{LONE}"}, "paymentMode": "card"},
        ),
        ("/api/accounts/{a}/subscriptions/{s}", "billing", "displayName", {"displayName": f"Prod {LONE}"}),
        ("/api/webhooks/payment-received", "billing", "data.reference", None),
        ("/api/support/accounts/{a}/dunning/pause", "support", "reason", None),
        ("/api/accounts/{a}/subscriptions/{s}", "billing", "displayName", {"displayName": "Prod", f"k{LONE}": 1}),
    ],
)
def test_a_lone_surrogate_is_refused_wherever_text_is_accepted(host, victim, route, who, field, body):
    account_id, sub_id = victim
    caller, before = Caller(host), _doc(account_id)
    if route.endswith("payment-received"):
        body = _good_bodies(account_id, sub_id)["/api/webhooks/payment-received"]
        body["data"]["reference"] = f"VIR {LONE}"
    elif route.endswith("pause"):
        until = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"until": until, "reason": f"asked{LONE}"}
    raw = json.dumps(body).encode()  # ASCII JSON: the surrogate travels as the escape \ud800
    assert b"\\ud800" in raw
    answer = caller.send(
        "POST" if "webhooks" in route or "support" in route else "PUT", route.format(a=account_id, s=sub_id), raw, who
    )
    _assert_refused(answer, 400)
    assert answer.json()["field"] in (field, "?"), answer.json()
    assert "surrogate" in answer.json()["detail"]
    _unchanged(account_id, before)


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(b"[" * 2000 + b"]" * 2000),  # what answered 500 (RecursionError in the store)
        _cursor(b'{"a":' * 900 + b"1" + b"}" * 900),
        _cursor(b"{}"),
        _cursor(b"not json at all"),
        _cursor(b"\xff\xfe"),
        "A",
    ],
)
def test_a_crafted_support_list_cursor_is_a_400(host, victim, cursor):
    caller = Caller(host)
    answer = caller.http.get("/api/support/accounts", params={"cursor": cursor}, headers=_support_headers())
    _assert_refused(answer, 400)
    assert answer.json()["field"] == "cursor"


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(b'{"token": "+RID:~AAAAAAAAAAA=#RT:1#TRC:1", "range": {"min": "", "max": "FF"}}'),
        _cursor(b'[{"token": null, "range": {"min": "00", "max": "FF"}}]'),
        _cursor(b'{"token": "' + b"A" * 2900 + b'"}'),
    ],
)
def test_a_well_formed_cursor_the_api_never_gave_is_a_page_or_a_400_never_a_5xx(host, victim, cursor):
    """Support may list every account, so a shaped continuation reveals nothing more: the store reads it
    as a continuation (a page, maybe empty) or refuses it (400); a size past the bound is a 400."""
    answer = Caller(host).http.get("/api/support/accounts", params={"cursor": cursor}, headers=_support_headers())
    assert answer.status_code in (200, 400), answer.text[:300]
    if answer.status_code == 200:
        assert isinstance(answer.json()["accounts"], list)
    else:
        assert answer.json()["field"] == "cursor"


@pytest.mark.parametrize("cursor", ["h0", "h" + "9" * 13, "h-1", "h1.5", "x", "h1\n"])
def test_a_crafted_history_cursor_is_a_400(host, victim, cursor):
    account_id, _ = victim
    answer = Caller(host).http.get(
        f"/api/accounts/{account_id}/history", params={"cursor": cursor}, headers=_support_headers()
    )
    _assert_refused(answer, 400)
    assert answer.json()["field"] == "cursor"


def _support_headers():
    from tests.support.clients import SUPPORT_OID, portal_headers

    return portal_headers(SUPPORT_OID, ("Billing.Support",))
