"""The fields each request body may have (pastdue/http/parse.py, which refuses any other with a 400 naming it)
are, field by field, the ones docs/openapi.yaml gives that body, which refuses any other too
(additionalProperties: false): a field added on one side only fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pastdue.http import parse

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def _resolved(node):
    while isinstance(node, dict) and "$ref" in node:
        found = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def _body(method: str, path: str, *inside: str) -> dict:
    body = _resolved(SPEC["paths"][path][method]["requestBody"])
    schema = _resolved(next(iter(body["content"].values()))["schema"])
    for name in inside:
        schema = _resolved(schema["properties"][name])
    return schema


CASES = [
    (parse.ACCOUNT_PUT, "put", "/accounts/{accountId}", ()),
    (parse.ADMIN, "put", "/accounts/{accountId}", ("admin",)),
    (parse.REMITTANCE, "put", "/accounts/{accountId}", ("remittance",)),
    (parse.SUBSCRIPTION_PUT, "put", "/accounts/{accountId}/subscriptions/{subscriptionId}", ()),
    (parse.EVENT, "post", "/webhooks/charge-failed", ()),
    (parse.CHARGE_FAILED_DATA, "post", "/webhooks/charge-failed", ("data",)),
    (parse.EVENT, "post", "/webhooks/payment-received", ()),
    (parse.PAYMENT_RECEIVED_DATA, "post", "/webhooks/payment-received", ("data",)),
    (parse.PAYMENT_METHOD_PUT, "put", "/accounts/{accountId}/payment-method", ()),
    (parse.ADMIN_CONTACT_PUT, "put", "/accounts/{accountId}/admin-contact", ()),
    (parse.TRANSFER_ADMIN, "post", "/accounts/{accountId}/transfer-admin", ()),
    (parse.REASON_ONLY, "post", "/support/accounts/{accountId}/notices/{noticeId}/resend", ()),
    (parse.PAUSE_DUNNING, "post", "/support/accounts/{accountId}/dunning/pause", ()),
    (parse.REASON_ONLY, "post", "/support/accounts/{accountId}/dunning/resume", ()),
    (parse.EXTEND_GRACE, "post", "/support/accounts/{accountId}/subscriptions/{subscriptionId}/extend-grace", ()),
    (parse.WRITE_OFF, "post", "/support/accounts/{accountId}/charges/{chargeId}/write-off", ()),
]


@pytest.mark.parametrize("fields, method, path, inside", CASES)
def test_the_fields_a_body_may_have_are_the_ones_the_contract_gives_it(fields, method, path, inside):
    schema = _body(method, path, *inside)
    assert set(schema.get("properties") or {}) == set(fields), (method, path, inside)
    assert schema.get("additionalProperties") is False, (method, path, inside)
    assert set(schema.get("required") or ()) <= set(fields)


def test_every_request_body_of_the_contract_is_checked_here():
    """A body the contract gives fields to and this test does not name fails: add it above."""
    checked = {(method, path) for _, method, path, _ in CASES}
    with_fields = {
        (method, path)
        for path, operations in SPEC["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        and "requestBody" in operation
        and _body(method, path).get("properties")
        and _body(method, path).get("additionalProperties") is False
    }
    assert with_fields <= checked, sorted(with_fields - checked)
