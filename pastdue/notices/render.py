"""Notices rendered in the admin's language: subject, plain text and HTML (Jinja2 + Babel)."""

from __future__ import annotations

import logging
import re
import uuid
from functools import cache
from pathlib import Path
from string import Formatter

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pastdue.domain.model import Notice
from pastdue.domain.text import CONTROL, SURROGATE
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import catalog, colon
from pastdue.notices.formatting import card_label, date, language, local_day, locale_of, money, quoted
from pastdue.notices.message import Email
from pastdue.notices.reasons import reader_reason

HERE = Path(__file__).parent
# The portal page each action leads to (pastdue/notices/branding.py; settable with PORTAL_LINK_*).
LINK_FOR = {"card": "update_payment", "invoice": "transfer_details", "confirm": "confirm_payment", "pay": "pay"}
ACTION_FOR = {
    "confirm_payment": "confirm",
    "card_expiring": "card",
    "payment_failed": "pay",
    "card_declined": "card",
    "invoice_overdue": "invoice",
    "reminder": "pay",
    "final_notice": "pay",
    "service_cancelled": "pay",
    "deletion_warning": "pay",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(HERE / "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    )


# Where a region writes a word otherwise than its language's catalog (en-US "center", en-GB "centre").
REGIONAL = {"en-US": {"help": "Help center"}}


log = logging.getLogger("pastdue.notices")
# Stored text the door refuses today may be in documents written before it did: a lone surrogate (no
# UTF-8 can carry it) becomes U+FFFD, a control character (a line break would split a header) a space.
_UNSENDABLE = re.compile(f"{SURROGATE.pattern}|{CONTROL.pattern}")


def sendable(value):
    """`value` (parameters as stored) with every string fit for an e-mail, and how many characters changed."""
    count = 0

    def fix(match: re.Match) -> str:
        nonlocal count
        count += 1
        return "\ufffd" if SURROGATE.fullmatch(match.group()) else " "

    def walk(item):
        if isinstance(item, str):
            return _UNSENDABLE.sub(fix, item)
        if isinstance(item, dict):
            return {walk(k): walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value), count


class _Blank(dict):
    def __missing__(self, key):
        return ""


def _owes(params: dict) -> bool:
    balance = params.get("balance")
    return isinstance(balance, dict) and isinstance(balance.get("value"), int) and balance["value"] > 0


def _plural(forms: dict, n, tag: str) -> str:
    """'1 day' / '7 days', '1 jour' / '7 jours': the locale's CLDR plural rule picks the form."""
    if not isinstance(n, int):
        return ""
    form = locale_of(tag).plural_form(n)
    return (forms.get(form) or forms["other"]).format(n=n).replace(f"{n} ", f"{n}\u00a0")  # "7 días" stays whole


def _owed_total(params: dict) -> dict | None:
    """What the owed table totals (None without one): its rows, or the whole balance when there are more
    open charges than rows."""
    rows = params.get("openCharges")
    if not isinstance(rows, list) or not rows:
        return None
    total = {"value": sum(r["amount"]["value"] for r in rows), "currency": rows[0]["amount"]["currency"]}
    balance = params.get("balance")
    if isinstance(balance, dict) and isinstance(balance.get("value"), int) and balance["value"] >= total["value"]:
        total = balance
    return total


def _owed_table(params: dict, words: dict, tag: str) -> dict | None:
    rows, total = params.get("openCharges"), _owed_total(params)
    if total is None:
        return None
    return {
        "labels": words["owed"],
        "total": money(total, tag),
        "rows": [
            {"name": r["subscriptionName"], "since": date(r["since"], tag), "amount": money(r["amount"], tag)}
            for r in rows or []
        ],
    }


def _paid_lines(params: dict, words: dict, tag: str) -> list[str]:
    lines = []
    for row in params.get("paidFor") or []:
        state = row.get("state") if row.get("state") in ("active", "pastDue", "disabled", "deleted") else "active"
        lines.append(
            words["paid"][state].format(
                name=row["subscriptionName"], amount=money(row["amount"], tag), date=date(row.get("deletedAt"), tag)
            )
        )
    if params.get("credit"):
        lines.append(words["paid"]["credit"].format(amount=money(params["credit"], tag)))
    return lines


def _unbroken(text: str, ident: str):
    """The text as HTML with the id kept on one line (an id never wraps at its hyphens)."""
    from markupsafe import Markup, escape

    if not ident or ident not in text:
        return escape(text)
    before, _, after = text.partition(ident)
    return Markup('{}<span style="white-space: nowrap;">{}</span>{}').format(before, ident, after)


def _filled(line: str, values: dict) -> bool:
    """Every value the line names is there: a notice queued by an earlier release may lack one a newer line
    uses (a date), and a sentence with a hole in it is left out rather than sent."""
    return all(values[name] != "" for _, name, _, _ in Formatter().parse(line) if name)


def _transfer(params: dict, branding: Branding, total: str, words: dict) -> dict | None:
    """The bank details of an invoice payer's transfer: the payee, the IBAN in groups of four (it wraps
    between groups on a phone, never inside one), BIC, the one reference, the amount, and for euros an
    EPC (GiroCode) QR code a banking app scans to fill in the transfer."""
    details = params.get("remittance")
    if not isinstance(details, dict):
        return None
    iban = str(details.get("iban", "")).replace(" ", "")
    payee = branding.payee_name or branding.brand_name
    # The QR code asks for the amount the block shows: the table's total, else the balance.
    balance = params.get("balance")
    owed = _owed_total(params) or (balance if isinstance(balance, dict) else {})
    value, currency = owed.get("value"), owed.get("currency")
    return {
        "payee": payee,
        "iban": " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)),
        "bic": details.get("bic"),
        "reference": details.get("reference"),
        "amount": total,
        "qr": _epc_qr(payee, iban, details.get("bic"), details.get("reference"), value)
        if currency == "EUR" and value
        else None,
        "qr_alt": words["transfer"]["qr"],
        "safety": words["transfer"]["safety"],
    }


def _epc_qr(payee: str, iban: str, bic: str | None, reference: str | None, cents: int) -> str | None:
    """An EPC069-12 (SEPA credit transfer) QR code as a PNG data URI; None if the data cannot be encoded."""
    try:
        from decimal import Decimal

        import segno.helpers

        code = segno.helpers.make_epc_qr(
            name=payee[:70],
            iban=iban,
            amount=Decimal(cents).scaleb(-2),
            text=(reference or "")[:140] or None,
            bic=bic or None,
        )
        return code.png_data_uri(scale=3, border=2)
    except (ValueError, TypeError):
        return None


def render(notice: Notice, branding: Branding | None = None) -> Email:
    branding = branding or Branding()
    params, replaced = sendable(notice.params)
    if replaced:
        log.warning(
            "notice %s: %d character(s) of stored text no e-mail can carry were replaced", notice.notice_id, replaced
        )
    lang, tag = language(notice.locale), notice.locale
    words = {**catalog(lang), **REGIONAL.get(tag, {})}
    entry = words["notices"][notice.kind]
    card = params.get("card")
    values = _Blank({k: v for k, v in params.items() if isinstance(v, str | int)})
    zone = params.get("timeZone") if isinstance(params.get("timeZone"), str) else "UTC"

    def day(value, before: bool = False) -> str:
        """The day of an instant in the account's time zone; with `before`, the last full day before it
        (suspended at 09:00 on 1 May in Paris: "pay by 30 April")."""
        return date(local_day(value, zone, before), tag) if value else ""

    values.update(
        amount=money(params.get("amount"), tag),
        balance=money(params.get("balance"), tag),
        cancellationDate=day(params.get("cancellationDate")),
        deletionDate=day(params.get("deletionDate")),
        expiryDate=date(params.get("expiryDate"), tag),
        paidAt=day(params.get("paidAt")),
        payByDate=day(params.get("cancellationDate"), before=True),
        card=card_label(card["brand"], card["last4"]) if card else "",
        paidCard=card_label(params["paidCard"]["brand"], params["paidCard"]["last4"])
        if isinstance(params.get("paidCard"), dict)
        else "",
        subscriptionName=params.get("subscriptionName") or params.get("accountId"),
        declineReason=words["reasons"][reader_reason(params.get("declineCode"))],
        daysLeftText=_plural(words["days"], params.get("daysLeft"), tag),
        daysPastDueText=_plural(words["days"], params.get("daysPastDue"), tag),
        nextRetryDate=day(params.get("nextRetryAt")),
        retriesLeftText=_plural(words["retries"], params.get("retriesLeft"), tag),
        brandName=branding.brand_name,
    )
    contact = branding.support_email or branding.support_url
    values["supportContact"] = contact or ""
    invoice = params.get("paymentMode") == "invoice"
    action_kind = ACTION_FOR.get(notice.kind)
    if notice.kind in ("data_deleted", "payment_received") and _owes(params):
        action_kind = "pay"  # what is still owed can be paid now
    if action_kind in ("pay", "card") and invoice:
        action_kind = "invoice"
    show_remittance = invoice and action_kind == "invoice"
    owed = _owed_table(params, words, tag)
    total = (owed["total"] if owed else None) or values["balance"] or values["amount"]
    if action_kind == "pay" and not total:
        action_kind = "card"
    # "Pay €X now" pays the whole balance with the card on file (the portal's pay page); "Use another card"
    # beside it. Where a new card is the only way (a card refused for good, one expiring), that is the action.
    action = words["actions"][action_kind].format(amount=total) if action_kind else None
    secondary = (
        (
            words["actions"]["another_card"],
            branding.link("update_payment", params.get("accountId"), notice.subscription_id),
        )
        if action_kind == "pay"
        else None
    )
    # In sentences a subscription's name stands in the language's quotation marks ("your subscription
    # “Production”"); subjects keep it bare, to stay short.
    subject = entry["subject"].format_map(values)
    values["subscriptionName"] = quoted(values["subscriptionName"], lang)
    context = {
        # The brand opens every subject: the reader sees who writes before what about.
        "lang": lang,
        "subject": f"{branding.brand_name}{colon(lang)} {subject}",
        "greeting": words["greeting"].format_map(values),
        "footer": words["footer"].format_map(values),
        "footer_html": _unbroken(words["footer"].format_map(values), str(params.get("accountId") or "")),
        "lines": [line.format_map(values) for line in entry["lines"] if _filled(line, values)]
        + ([entry["owed"].format_map(values)] if "owed" in entry and _owes(params) else []),
        "labels": words["labels"],
        "colon": colon(lang),
        "owed": owed,
        "paid": _paid_lines(params, words, tag),
        "paid_title": words["paid"]["title"],
        "invoices": [u for u in params.get("invoiceUrls") or [] if isinstance(u, str)],
        "remittance": _transfer(params, branding, total, words) if show_remittance else None,
        # The bank details' amount is what to transfer: the whole table's total when there is one (the
        # account's open charges), so the block never shows another figure than the total just above it.
        "amount": total,
        "action": action,
        "secondary": secondary,
        "action_url": branding.link(
            LINK_FOR.get(action_kind or "", "account"), params.get("accountId"), notice.subscription_id
        ),
        "brand": branding.brand_name,
        "logo_url": branding.logo_url,
        "legal": branding.legal_footer,
        # The footer's links say where they go: a mailto link reads as the address, the web link as
        # "Help centre" (or the URL itself when it is the only contact).
        "support_email": branding.support_email,
        "support_url": branding.support_url,
        "help": words["help"],
        "support_prefix": words["support"].split("{supportContact}")[0],
        "support_suffix": words["support"].split("{supportContact}")[-1],
    }
    context["preheader"] = context["lines"][0] if context["lines"] else context["subject"]
    env = _environment()
    operation_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"pastdue:{params.get('accountId')}/{notice.notice_id}"))
    return Email(
        operation_id,
        notice.to,
        context["subject"],
        env.get_template("email.txt.j2").render(context),
        env.get_template("email.html.j2").render(context),
    )
