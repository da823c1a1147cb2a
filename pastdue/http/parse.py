"""Request bodies of the API turned into domain values, with errors naming the field."""

from __future__ import annotations

import re

from pastdue.domain.model import CARD, INVOICE, Admin, Remittance
from pastdue.http import strict
from pastdue.http.endpoint import checked, obj_field, text
from pastdue.http.problems import BadRequest

LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
TOKEN = re.compile(r"(tok|pm)_[A-Za-z0-9_]{1,100}")  # a sandbox token or a Stripe PaymentMethod
CUSTOMER = re.compile(r"cus_[A-Za-z0-9_]{1,100}")


def admin(body: dict, path: str = "admin.") -> Admin:
    return Admin(
        principal_id=text(body, "principalId", path),
        email=email(body, "email", path),
        name=text(body, "name", path),
        locale=locale(body, path) or "en-US",
    )


def email(body: dict, name: str = "email", path: str = "") -> str:
    return checked(body, name, path, strict.mailbox)


def locale(body: dict, path: str = "") -> str | None:
    return text(body, "locale", path, required=False, max_length=35, pattern=LOCALE)


def created_at(body: dict):
    """The event's own time (required): the calendar counts from it, not from its arrival."""
    return checked(body, "createdAt", "", strict.timestamp, max_length=40)


def payment_mode(body: dict) -> str:
    mode = body.get("paymentMode")
    if mode not in (CARD, INVOICE):
        raise BadRequest("'paymentMode' must be 'card' or 'invoice'", field="paymentMode")
    return mode


def remittance(body: dict) -> Remittance | None:
    data = obj_field(body, "remittance", required=False)
    if data is None:
        return None
    return Remittance(text(data, "iban", "remittance.", max_length=34),
                      text(data, "bic", "remittance.", max_length=11),
                      text(data, "reference", "remittance.", max_length=140))


def token(body: dict, required: bool = True) -> str | None:
    return text(body, "paymentMethodToken", required=required, max_length=104, pattern=TOKEN)


def gateway_customer(body: dict) -> str | None:
    return text(body, "gatewayCustomerId", required=False, max_length=104, pattern=CUSTOMER)


def currency(body: dict) -> str:
    return checked(body, "currency", "", strict.currency, required=False, max_length=3) or "EUR"
