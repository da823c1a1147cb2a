import base64
import json

import pytest

from pastdue.http.principal import OBJECT_ID, encode_principal, parse_principal
from pastdue.http.problems import Unauthorized
from pastdue.http.signing import sign, verify

BODY = b'{"id": "evt_1"}'
NOW = 1_800_000_000


def test_a_valid_signature_passes_and_rotation_accepts_either_secret():
    verify(sign("secret-one-0123456789", BODY, NOW), BODY, ("secret-one-0123456789",), now=NOW)
    both = sign("old-secret-0123456789", BODY, NOW) + ",v1=" + "0" * 64
    verify(both, BODY, ("new-secret-0123456789", "old-secret-0123456789"), now=NOW + 299)


@pytest.mark.parametrize("header, body, now", [
    (None, BODY, NOW),
    ("garbage", BODY, NOW),
    ("t=abc,v1=00", BODY, NOW),
    (sign("secret-one-0123456789", BODY, NOW), BODY + b" ", NOW),
    (sign("another-secret-0123456", BODY, NOW), BODY, NOW),
    (sign("secret-one-0123456789", BODY, NOW - 301), BODY, NOW),
    (sign("secret-one-0123456789", BODY, NOW + 301), BODY, NOW),
])
def test_bad_missing_or_stale_signatures_are_refused(header, body, now):
    with pytest.raises(Unauthorized):
        verify(header, body, ("secret-one-0123456789",), now=now)


def test_the_principal_is_parsed_with_its_roles():
    principal = parse_principal(encode_principal("oid-7", ("Billing.Support",)))
    assert principal.object_id == "oid-7" and principal.has_role("Billing.Support")


@pytest.mark.parametrize("header", [
    None, "", "not base64!", base64.b64encode(b"not json").decode(), base64.b64encode(b"[]").decode(),
    base64.b64encode(json.dumps({"claims": [{"typ": "name", "val": "x"}]}).encode()).decode(),
    base64.b64encode(json.dumps({"claims": "x"}).encode()).decode(),
    base64.b64encode(json.dumps({"claims": [{"typ": OBJECT_ID, "val": ""}]}).encode()).decode(),
])
def test_a_missing_or_malformed_principal_is_a_401(header):
    with pytest.raises(Unauthorized):
        parse_principal(header)
