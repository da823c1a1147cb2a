"""Request bodies of the API turned into domain values, with errors naming the field."""

from __future__ import annotations

import re

from pastdue.domain.model import CARD, INVOICE, Admin, Remittance
from pastdue.http.endpoint import obj_field, text
from pastdue.http.problems import BadRequest

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
TOKEN = re.compile(r"^tok_[A-Za-z0-9_]{1,100}$")


def admin(body: dict, path: str = "admin.") -> Admin:
    return Admin(
        principal_id=text(body, "principalId", path),
        email=text(body, "email", path, pattern=EMAIL),
        name=text(body, "name", path),
        locale=text(body, "locale", path, required=False, max_length=35, pattern=LOCALE) or "en-US",
    )


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


def currency(body: dict) -> str:
    return text(body, "currency", required=False, max_length=3, pattern=CURRENCY) or "EUR"
