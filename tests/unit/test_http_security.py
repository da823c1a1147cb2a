import ast
import base64
import json
from pathlib import Path

import pytest

from pastdue.http.principal import OBJECT_ID, encode_principal, parse_principal
from pastdue.http.problems import Unauthorized
from pastdue.http.signing import sign, verify

BODY = b'{"id": "evt_1"}'
NOW = 1_800_000_000
KEY = "secret-one-0123456789"
PATH = "/api/accounts/acct-1"


def good(body=BODY, at=NOW, secret=KEY, method="PUT", path=PATH):
    return sign(secret, method, path, body, at)


def test_a_valid_signature_passes_and_rotation_accepts_either_secret():
    verify(good(), "PUT", PATH, BODY, (KEY,), now=NOW)
    both = good(secret="old-secret-0123456789") + ",v1=" + "0" * 64
    verify(both, "PUT", PATH, BODY, ("new-secret-0123456789", "old-secret-0123456789"), now=NOW + 299)


@pytest.mark.parametrize(
    "header, method, path, body, now",
    [
        (None, "PUT", PATH, BODY, NOW),
        ("garbage", "PUT", PATH, BODY, NOW),
        ("t=abc,v1=00", "PUT", PATH, BODY, NOW),
        ("t=\u00b2,v1=" + "0" * 64, "PUT", PATH, BODY, NOW),  # "²".isdigit() is True, int("²") fails
        ("t=" + "9" * 5000 + ",v1=" + "0" * 64, "PUT", PATH, BODY, NOW),
        (good(), "PUT", PATH, BODY + b" ", NOW),
        (good(secret="another-secret-0123456"), "PUT", PATH, BODY, NOW),
        (good(at=NOW - 301), "PUT", PATH, BODY, NOW),
        (good(at=NOW + 301), "PUT", PATH, BODY, NOW),
        (good(), "PUT", "/api/accounts/acct-2", BODY, NOW),  # replayed to another account
        (good(), "POST", PATH, BODY, NOW),  # replayed with another method
        (good(), "PUT", PATH + "?x=1", BODY, NOW),
    ],
)
def test_bad_missing_stale_or_replayed_signatures_are_refused(header, method, path, body, now):
    with pytest.raises(Unauthorized):
        verify(header, method, path, body, (KEY,), now=now)


def _secret_comparisons(tree: ast.AST):
    """Equality tests between two computed values in the signing module (a comparison with a literal,
    such as a header key, is fine): digests must be compared in constant time."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
        ):
            sides = [node.left, *node.comparators]
            if not any(isinstance(side, ast.Constant) for side in sides):
                yield ast.unparse(node)


def test_signatures_are_compared_in_constant_time_only():
    """A static check: no ==, != or `in` between computed values in the signing module, and
    compare_digest is what decides."""
    source = (Path(__file__).resolve().parents[2] / "pastdue/http/signing.py").read_text()
    tree = ast.parse(source)
    assert list(_secret_comparisons(tree)) == []
    calls = [ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert "hmac.compare_digest" in calls


def test_the_principal_is_parsed_with_its_roles():
    principal = parse_principal(encode_principal("oid-7", ("Billing.Support",)))
    assert principal.object_id == "oid-7" and principal.has_role("Billing.Support")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "not base64!",
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[]").decode(),
        base64.b64encode(json.dumps({"claims": [{"typ": "name", "val": "x"}]}).encode()).decode(),
        base64.b64encode(json.dumps({"claims": "x"}).encode()).decode(),
        base64.b64encode(json.dumps({"claims": [{"typ": OBJECT_ID, "val": ""}]}).encode()).decode(),
        base64.b64encode(json.dumps({"claims": [{"typ": OBJECT_ID, "val": "a\nb"}]}).encode()).decode(),
        base64.b64encode(b"[" * 3000 + b"]" * 3000).decode(),
        base64.b64encode(b'{"claims": [], "claims": []}').decode(),
        "A" * 20000,
    ],
)
def test_a_missing_or_malformed_principal_is_a_401(header):
    with pytest.raises(Unauthorized):
        parse_principal(header)


def test_stripe_signatures_as_the_sdk_makes_them_verify_and_others_do_not():
    import stripe

    from pastdue.http.signing import verify_stripe

    payload = '{"id": "evt_1", "type": "payment_intent.succeeded"}'
    header = stripe.WebhookSignature.generate_signature_header(payload, "whsec_new", NOW)
    verify_stripe(header, payload.encode(), ("whsec_old", "whsec_new"), now=NOW + 299)
    for bad, secrets, now in (
        (header, ("whsec_other",), NOW),
        (header, ("whsec_new",), NOW + 301),
        (header.replace("t=", "t=1"), ("whsec_new",), NOW),
        ("", ("whsec_new",), NOW),
    ):
        with pytest.raises(Unauthorized):
            verify_stripe(bad, payload.encode(), secrets, now=now)
    with pytest.raises(Unauthorized):
        verify_stripe(header, payload.encode() + b" ", ("whsec_new",), now=NOW)


def test_why_the_stripe_check_is_ours_not_the_sdks_a_signature_dated_in_the_future_is_refused():
    # stripe.WebhookSignature.verify_header takes one secret per call (no rotation) and only refuses
    # timestamps too old: a header dated an hour ahead passes it. Ours tries every configured secret and
    # holds the tolerance both ways.
    import time

    import stripe

    from pastdue.http.signing import verify_stripe

    payload = '{"id": "evt_2", "type": "payment_intent.succeeded"}'
    ahead = stripe.WebhookSignature.generate_signature_header(payload, "whsec_new", int(time.time()) + 3600)
    assert stripe.WebhookSignature.verify_header(payload, ahead, "whsec_new", tolerance=300)
    with pytest.raises(Unauthorized):
        verify_stripe(ahead, payload.encode(), ("whsec_new",))
