"""A body read into its model (pastdue/http/bodies.py): every refusal is a 400 naming the field at fault, as
deep as it lies, in words that never repeat the value sent."""

from __future__ import annotations

import pytest

from pastdue.http import bodies
from pastdue.http.problems import BadRequest
from tests.support.card_like import card_like

ADMIN = {"principalId": "oid-1", "email": "ada@example.com", "name": "Ada"}
ACCOUNT = {"admin": ADMIN, "paymentMode": "card"}
DATA: dict[str, object] = {
    "accountId": "acct-1",
    "subscriptionId": "sub-1",
    "chargeId": "INV-0001",
    "amount": {"value": 4999, "currency": "EUR"},
}
EVENT: dict[str, object] = {"id": "evt-1", "type": "charge.failed", "createdAt": "2026-11-25T09:30:00Z", "data": DATA}


def _refused(model, data) -> BadRequest:
    with pytest.raises(BadRequest) as refused:
        bodies.read(model, data)
    return refused.value


def test_a_good_body_reads_into_its_model_with_the_contracts_defaults():
    body = bodies.read(bodies.AccountPut, ACCOUNT)
    assert (body.admin.email, body.payment_mode, body.synthetic, body.currency) == (
        "ada@example.com",
        "card",
        False,
        None,
    )
    assert bodies.read(bodies.WriteOff, {"reason": "goodwill"}).notify_admin is True
    assert bodies.read(bodies.ChargeFailedEvent, EVENT).data.amount.value == 4999


@pytest.mark.parametrize(
    "model, data, field, words",
    [
        (bodies.AccountPut, {**ACCOUNT, "notifyAdmn": 1}, "notifyAdmn", "unknown field 'notifyAdmn' (known: admin,"),
        (bodies.AccountPut, {**ACCOUNT, "admin": {**ADMIN, "x": 1}}, "admin.x", "unknown field 'admin.x'"),
        (bodies.AccountPut, {"paymentMode": "card"}, "admin", "'admin' is required"),
        (bodies.AccountPut, {**ACCOUNT, "admin": {**ADMIN, "name": None}}, "admin.name", "'admin.name' is required"),
        (bodies.AccountPut, {**ACCOUNT, "admin": "Ada"}, "admin", "'admin' must be an object"),
        (bodies.AccountPut, {**ACCOUNT, "paymentMode": "cheque"}, "paymentMode", "must be 'card' or 'invoice'"),
        (bodies.AccountPut, {**ACCOUNT, "synthetic": "yes"}, "synthetic", "must be true or false"),
        (bodies.AccountPut, {**ACCOUNT, "synthetic": None}, "synthetic", "must be true or false"),
        (bodies.AccountPut, {**ACCOUNT, "admin": {**ADMIN, "name": "x" * 257}}, "admin.name", "at most 256"),
        (bodies.AccountPut, {**ACCOUNT, "admin": {**ADMIN, "name": "   "}}, "admin.name", "non-empty"),
        (bodies.AccountPut, {**ACCOUNT, "admin": {**ADMIN, "name": "A\nB"}}, "admin.name", "control characters"),
        (bodies.AccountPut, {**ACCOUNT, "paymentMethodToken": "card_1"}, "paymentMethodToken", "invalid format"),
        (bodies.ExtendGrace, {"days": 366, "reason": "r"}, "days", "a whole number from 1 to 365"),
        (bodies.ExtendGrace, {"days": 2.0, "reason": "r"}, "days", "a whole number from 1 to 365"),
        (bodies.ExtendGrace, {"days": True, "reason": "r"}, "days", "a whole number from 1 to 365"),
        (bodies.ChargeFailedEvent, {**EVENT, "type": "payment.received"}, "type", "must be 'charge.failed'"),
        (
            bodies.ChargeFailedEvent,
            {**EVENT, "data": {**DATA, "amount": {"value": 0, "currency": "EUR"}}},
            "data.amount.value",
            "from 1 to 100000000000",
        ),
        (
            bodies.ChargeFailedEvent,
            {**EVENT, "data": {**DATA, "chargeId": "INV 1"}},
            "data.chargeId",
            "invalid format",
        ),
    ],
)
def test_a_body_that_does_not_fit_is_a_400_naming_the_field(model, data, field, words):
    refused = _refused(model, data)
    assert refused.extra["field"] == field
    assert words in refused.detail


def test_a_refusal_never_repeats_what_was_sent():
    card = card_like()
    for data, field in (
        ({**ACCOUNT, "paymentMode": card}, "paymentMode"),
        ({**ACCOUNT, "admin": {**ADMIN, "name": f"Ada {card}"}}, "admin.name"),
        ({**ACCOUNT, "paymentMethodToken": f"pm_{card}!"}, "paymentMethodToken"),
        ({**ACCOUNT, card: 1}, "?"),
    ):
        refused = _refused(bodies.AccountPut, data)
        assert refused.extra["field"] == field
        assert card not in refused.detail


def test_a_field_name_not_safe_to_repeat_is_named_by_a_question_mark():
    refused = _refused(bodies.OptionalReason, {"reason": "r", "<script>`": 1})
    assert refused.extra["field"] == "?"
    assert "<script>" not in refused.detail


@pytest.mark.parametrize("sep", [".", "_", "x", ""])
def test_a_card_number_split_any_way_in_a_key_is_never_repeated(sep):
    card = card_like()
    key = sep.join(card[i : i + 4] for i in range(0, len(card), 4))
    for model, data, field in (
        (bodies.AdminContactPut, {"email": "a@b.example", key: 1}, "?"),
        (
            bodies.ChargeFailedEvent,
            {**EVENT, "data": {**DATA, "amount": {"value": 1, "currency": "EUR", key: 1}}},
            "data.amount.?",
        ),
    ):
        refused = _refused(model, data)
        assert refused.extra["field"] == field
        assert card[:8] not in refused.detail and key not in refused.detail


@pytest.mark.parametrize(
    "model, data",
    [
        (bodies.AdminContactPut, {"email": "a@b.example", "x` - at `$.nope": 1}),
        (bodies.AdminContactPut, {"email": "a@b.example", "x` - at `$.email": 1}),
        (bodies.OptionalReason, {"x` - at `$.reason": 1}),
        (bodies.AccountPut, {**ACCOUNT, "k` - at `$.admin[0]": 1}),
        (bodies.ChargeFailedEvent, {**EVENT, "x` - at `$.data": 1}),
    ],
)
def test_a_key_written_to_look_like_a_path_is_an_unknown_field_at_the_top(model, data):
    """msgspec quotes a key as sent in its message, before the path it adds; a key that carries a path of its
    own must not steer which field the 400 names (or make the lookup fail into a 500)."""
    refused = _refused(model, data)
    assert refused.extra["field"] == "?"
    assert refused.detail.startswith("unknown field '?'")


def test_a_body_that_is_not_an_object_is_refused_as_such():
    data: object
    for data in ([], 5, "s", None):
        assert _refused(bodies.AccountPut, data).detail == "request body must be a JSON object"


def test_null_for_an_optional_field_reads_as_not_given_and_for_a_required_one_is_a_400():
    body = bodies.read(bodies.AccountPut, {**ACCOUNT, "remittance": None, "timeZone": None})
    assert body.remittance is None and body.time_zone is None
    refused = _refused(bodies.AccountPut, {**ACCOUNT, "admin": None})
    assert refused.extra["field"] == "admin" and "required" in refused.detail
