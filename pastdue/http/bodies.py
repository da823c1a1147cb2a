"""The request bodies the API takes, one typed model each, and how a body that does not fit is explained.

Each model is the body's schema in docs/openapi.yaml written as a msgspec Struct: the same fields (camelCase
on the wire), the same required ones, types, lengths, patterns and bounds, and no other field
(`forbid_unknown_fields`, the schema's additionalProperties: false). tests/unit/test_request_fields_match_openapi.py
holds the two to each other field by field. `read` turns a parsed JSON object into a model, or raises a
400 naming the field at fault in words fit for a caller (never the value sent: it may be a card number).
What a shape cannot say (an e-mail address, a time, a known currency or time zone, free text free of
control characters and card numbers) is checked by pastdue/http/parse.py on the model's values.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Literal, TypeVar

import msgspec
from msgspec import Meta, Struct
from msgspec import inspect as shapes

from pastdue.http import strict
from pastdue.http.problems import BadRequest

Id = Annotated[str, Meta(pattern=strict.ID_SCHEMA)]
Text = Annotated[str, Meta(min_length=1, max_length=256)]
Email = Annotated[str, Meta(max_length=256)]  # one address, checked by parse
Locale = Annotated[str, Meta(max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]
Time = Annotated[str, Meta(max_length=40)]  # RFC 3339 with a zone, checked by parse
# A card the billing system saves (a sandbox token or a Stripe PaymentMethod), and one the admin gives,
# which may also be the Stripe SetupIntent the card was set up with.
SavedToken = Annotated[str, Meta(pattern=r"^(tok|pm)_[A-Za-z0-9_]{1,100}$")]
Token = Annotated[str, Meta(pattern=r"^(tok|pm|seti)_[A-Za-z0-9_]{1,100}$")]
Customer = Annotated[str, Meta(pattern=r"^cus_[A-Za-z0-9_]{1,100}$")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$")]
TimeZone = Annotated[str, Meta(max_length=64, pattern=r"^[A-Za-z0-9_+\-/]{1,64}$")]


class Body(Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A request body (or an object inside one): no field but its own."""


class AdminIn(Body):
    principal_id: Text
    email: Email
    name: Text
    locale: Locale | None = None


class RemittanceIn(Body):
    iban: Annotated[str, Meta(min_length=1, max_length=34)]
    bic: Annotated[str, Meta(min_length=1, max_length=11)]
    reference: Annotated[str, Meta(min_length=1, max_length=140)]


class AccountPut(Body):
    admin: AdminIn
    payment_mode: Literal["card", "invoice"]
    payment_method_token: SavedToken | None = None
    gateway_customer_id: Customer | None = None
    remittance: RemittanceIn | None = None
    currency: Currency | None = None
    time_zone: TimeZone | None = None
    synthetic: bool = False


class SubscriptionPut(Body):
    display_name: Text
    plan: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class AmountIn(Body):
    value: Annotated[int, Meta(ge=1, le=strict.MAX_AMOUNT)]
    currency: Currency


class ChargeFailedData(Body):
    account_id: Id
    subscription_id: Id
    charge_id: Id
    amount: AmountIn
    decline_code: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    invoice_url: Annotated[str, Meta(min_length=1, max_length=2000)] | None = None


class ChargeFailedEvent(Body):
    id: Id
    type: Literal["charge.failed"]
    created_at: Time
    data: ChargeFailedData


class PaymentReceivedData(Body):
    account_id: Id
    amount: AmountIn
    reference: Annotated[str, Meta(min_length=1, max_length=140)]


class PaymentReceivedEvent(Body):
    id: Id
    type: Literal["payment.received"]
    created_at: Time
    data: PaymentReceivedData


class PaymentMethodPut(Body):
    payment_method_token: Token


class AdminContactPut(Body):
    email: Email
    locale: Locale | None = None


class TransferAdmin(AdminIn):
    reason: Reason | None = None


class OptionalReason(Body):
    reason: Reason | None = None


class PauseDunning(Body):
    until: Time
    reason: Reason


class ExtendGrace(Body):
    days: Annotated[int, Meta(ge=1, le=365)]
    reason: Reason


class WriteOff(Body):
    reason: Reason
    notify_admin: bool = True


B = TypeVar("B", bound=Body)
_AT = re.compile(r"(?s)(?P<what>.*) - at `\$(?P<path>[^`]*)`")


def read(model: type[B], data: object) -> B:
    """The body as `model`, every text of it held to the text rules; or a 400 naming the field at fault."""
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    _check_keys(_shape(model), data, "")
    try:
        body = msgspec.convert(data, model, strict=True)
    except msgspec.ValidationError as error:
        raise _explained(model, str(error)) from None
    _check_texts(body, "")
    return body


def _check_keys(shape: shapes.StructType, data: dict, where: str) -> None:
    """Unknown and missing keys, found by walking the body beside its model. msgspec's messages quote a key
    as sent, and a key can be made to read like a path there, so keys are never taken from its words."""
    fields = {field.encode_name: field for field in shape.fields}
    for key in data:
        if key not in fields:
            name = strict.safe_name(key)
            full = f"{where}.{name}" if where else name
            raise BadRequest(f"unknown field '{full}' (known: {', '.join(fields)})", field=full)
    for name, field in fields.items():
        full = f"{where}.{name}" if where else name
        if field.required and name not in data:
            raise BadRequest(f"'{full}' is required", field=full)
        inner, shape_of = data.get(name), _object_in(field.type)
        if isinstance(inner, dict) and shape_of is not None:  # an object where the model has none: msgspec says
            _check_keys(shape_of, inner, full)


def _explained(model: type[Body], message: str) -> BadRequest:
    """A 400 for what msgspec found once every key is known (a type, length, pattern or bound), so the path in
    its message names fields of the model only; anything else is told without a field."""
    found = _AT.fullmatch(message)
    where = ".".join(part for part in found["path"].split(".") if part) if found else ""
    try:
        field = _field_at(model, where) if where else None
    except LookupError:
        field = None
    if field is None:
        return BadRequest("request body does not match its schema in docs/openapi.yaml")
    if found is not None and found["what"].endswith("got `null`") and field.required:
        return BadRequest(f"'{where}' is required", field=where)
    return BadRequest(f"'{where}' {_rule(field.type)}", field=where)


def _struct_at(model: type[Body], where: str) -> shapes.StructType:
    shape = _shape(model)
    for name in filter(None, where.split(".")):
        shape = _struct_of(_named(shape, name).type)
    return shape


def _field_at(model: type[Body], where: str) -> shapes.Field:
    parent, _, name = where.rpartition(".")
    return _named(_struct_at(model, parent), name)


def _named(shape: shapes.StructType, name: str) -> shapes.Field:
    for field in shape.fields:
        if field.encode_name == name:
            return field
    raise LookupError(f"no field {name}")


def _object_in(kind: shapes.Type) -> shapes.StructType | None:
    try:
        return _struct_of(kind)
    except LookupError:
        return None


def _struct_of(kind: shapes.Type) -> shapes.StructType:
    for option in kind.types if isinstance(kind, shapes.UnionType) else (kind,):
        if isinstance(option, shapes.StructType):
            return option
    raise LookupError("not an object")


def _rule(kind: shapes.Type) -> str:
    """What a field of this type must be, in a caller's words."""
    options = [t for t in (kind.types if isinstance(kind, shapes.UnionType) else (kind,)) if t != shapes.NoneType()]
    kind = options[0]
    if isinstance(kind, shapes.StrType):
        if kind.pattern is not None:
            return "has an invalid format"
        return f"must be a non-empty string of at most {kind.max_length} characters"
    if isinstance(kind, shapes.IntType):
        return f"must be a whole number from {kind.ge} to {kind.le}"
    if isinstance(kind, shapes.BoolType):
        return "must be true or false"
    if isinstance(kind, shapes.LiteralType):
        return "must be " + " or ".join(f"'{value}'" for value in kind.values)
    return "must be an object"


@cache
def _shape(model: type[Body]) -> shapes.StructType:
    found = shapes.type_info(model)
    assert isinstance(found, shapes.StructType)
    return found


@cache
def _texts(model: type[Body]) -> tuple[tuple[str, str, bool], ...]:
    """(attribute, wire name, free text?) of each text field; identifiers held to a pattern are not free text."""
    found = []
    for field in _shape(model).fields:
        kinds = field.type.types if isinstance(field.type, shapes.UnionType) else (field.type,)
        for kind in kinds:
            if isinstance(kind, shapes.StrType):
                found.append((field.name, field.encode_name, kind.pattern is None))
    return tuple(found)


@cache
def _objects(model: type[Body]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (field.name, field.encode_name)
        for field in _shape(model).fields
        if any(isinstance(k, shapes.StructType) for k in getattr(field.type, "types", (field.type,)))
    )


def _check_texts(body: Body, path: str) -> None:
    """No blank text, no control character, no card number in free text, at any depth."""
    model = type(body)
    for attribute, name, free_text in _texts(model):
        value = getattr(body, attribute)
        if value is None:
            continue
        where = f"{path}{name}"
        if not value.strip():
            raise BadRequest(f"'{where}' {_rule(_field_at(model, name).type)}", field=where)
        try:
            strict.check_text(value, free_text=free_text)
        except ValueError as error:
            raise BadRequest(f"'{where}' {error}", field=where) from None
    for attribute, name in _objects(model):
        inner = getattr(body, attribute)
        if inner is not None:
            _check_texts(inner, f"{path}{name}.")
