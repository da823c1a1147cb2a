"""Notices rendered in the admin's language: subject, plain text and HTML (Jinja2 + Babel)."""

from __future__ import annotations

import uuid
from functools import cache
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pastdue.domain.model import Notice
from pastdue.notices.formatting import date, language, money
from pastdue.notices.message import Email

HERE = Path(__file__).parent
PORTAL_URL = "https://portal.pastdue.example/billing"
ACTION_FOR = {"confirm_payment": "confirm",
              "payment_failed": "card", "card_declined": "card", "invoice_overdue": "invoice", "reminder": "pay",
              "final_notice": "pay", "service_cancelled": "pay", "deletion_warning": "pay"}


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"), undefined=StrictUndefined,
                       autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False))


@cache
def catalog(lang: str) -> dict:
    return yaml.safe_load((HERE / f"catalog_{lang}.yaml").read_text(encoding="utf-8"))


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(notice: Notice) -> Email:
    lang, tag, params = language(notice.locale), notice.locale, notice.params
    words = catalog(lang)
    entry = words["notices"][notice.kind]
    card = params.get("card")
    values = _Blank({k: v for k, v in params.items() if isinstance(v, str | int)})
    values.update(
        amount=money(params.get("amount"), tag), balance=money(params.get("balance"), tag),
        cancellationDate=date(params.get("cancellationDate"), tag), deletionDate=date(params.get("deletionDate"), tag),
        card=f"{card['brand']} •••• {card['last4']}" if card else "",
        subscriptionName=params.get("subscriptionName") or params.get("accountId"),
    )
    invoice = params.get("paymentMode") == "invoice"
    action_kind = ACTION_FOR.get(notice.kind)
    if action_kind == "pay":
        action_kind = "invoice" if invoice else "card"
    show_remittance = invoice and action_kind == "invoice"
    context = {
        "lang": lang, "subject": entry["subject"].format_map(values),
        "greeting": words["greeting"].format_map(values), "footer": words["footer"].format_map(values),
        "lines": [line.format_map(values) for line in entry["lines"]],
        "labels": words["labels"], "remittance": params.get("remittance") if show_remittance else None,
        "amount": values["balance"] or values["amount"],
        "action": words["actions"][action_kind] if action_kind else None,
        "action_url": f"{PORTAL_URL}/{params.get('accountId')}",
    }
    env = _environment()
    operation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pastdue:{params.get('accountId')}/{notice.notice_id}"))
    return Email(operation_id, notice.to, context["subject"],
                 env.get_template("email.txt.j2").render(context),
                 env.get_template("email.html.j2").render(context))
