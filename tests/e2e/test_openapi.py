"""docs/openapi.yaml is true: it names every route the app serves, and the app keeps to it (schemathesis)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from pastdue.http.signing import sign
from tests.support.clients import SECRET, portal_headers
from tests.support.indexed import functions

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
schema = schemathesis.openapi.from_path(DOC)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SIGNED = {"put_account", "put_subscription", "charge_failed", "payment_received"}


def test_every_served_route_is_documented_and_every_documented_route_is_served():
    served = set()
    for fn in functions():
        trigger = fn.get_trigger()
        if trigger.type == "httpTrigger":
            served |= {(f"/{trigger.route}", str(getattr(m, "value", m)).lower()) for m in trigger.methods}
    document = yaml.safe_load(DOC.read_text())
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert served == documented
    operation_ids = {
        op["operationId"]
        for item in document["paths"].values()
        for k, op in item.items()
        if k in ("get", "put", "post")
    }
    assert operation_ids == {fn.get_function_name() for fn in functions() if fn.get_trigger().type == "httpTrigger"}


@pytest.fixture(scope="module")
def known_account(host):
    """One real account so that generated portal requests reach past the 404."""
    from tests.support.clients import Billing

    billing = Billing(host)
    billing.account("acct-fuzz")
    billing.subscription("acct-fuzz", "sub-fuzz")
    billing.charge_failed("acct-fuzz", "sub-fuzz", "ch-fuzz", 1234)
    return "acct-fuzz"


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_app_keeps_to_its_openapi_document(case, host, known_account):
    base = f"{host}/api"
    if case.operation.definition.raw.get("operationId") in SIGNED:
        plain = isinstance(case.body, dict | list | str | int | float | bool)  # not the "no body" marker
        raw = json.dumps(case.body).encode() if plain else b""
        headers = {
            "Content-Type": "application/json",
            "Webhook-Signature": sign(SECRET, case.method, f"/api{case.formatted_path}", raw, int(time.time())),
        }
        response = requests.request(case.method, f"{base}{case.formatted_path}", data=raw, headers=headers, timeout=60)
        case.validate_response(response, checks=CHECKS)
    else:
        case.call_and_validate(base_url=base, headers=portal_headers(), checks=CHECKS)
