"""Notices rendered in the admin's language: subject, plain text and HTML (Jinja2 + Babel)."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Formatter

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pastdue.domain.model import Notice
from pastdue.domain.text import CONTROL, SURROGATE
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import catalog, colon
from pastdue.notices.formatting import card_label, date, language, local_day, locale_of, money, quoted
from pastdue.notices.message import Email, Inline
from pastdue.notices.reasons import reader_reason

HERE = Path(__file__).parent
# The portal page each action leads to (pastdue/notices/branding.py; settable with PORTAL_LINK_*).
LINK_FOR = {"card": "update_payment", "invoice": "transfer_details", "confirm": "confirm_payment", "pay": "pay"}
ACTION_FOR = {
    "confirm_payment": "confirm",
    "card_expiring": "card",
    "payment_failed": "card",
    "card_declined_for_good": "card",
    "invoice_overdue": "invoice",
    "reminder": "pay",
    "final_notice": "pay",
    "service_cancelled": "pay",
    "deletion_warning": "pay",
}


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    )
    env.filters["whole"] = _whole
    return env


# A word a line must never break inside: an e-mail address, a reference or an id with hyphens
# (billing-help@..., VIR-2027-0412, INV-1042), which browsers and mail apps otherwise wrap at a hyphen.
_WHOLE = re.compile(r"[^\s<>]*\w[-@][^\s<>]*\w")


def _whole(text: object):
    """The text as HTML, each address, reference or hyphenated id kept on one line."""
    from markupsafe import Markup, escape

    if isinstance(text, Markup):
        return text
    plain, parts, at = str(text), [], 0
    for found in _WHOLE.finditer(plain):
        parts.append(escape(plain[at : found.start()]))
        parts.append(Markup('<span style="white-space: nowrap;">{}</span>').format(found.group(0)))
        at = found.end()
    parts.append(escape(plain[at:]))
    return Markup("").join(parts)


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


def _owed_table(params: dict, words: dict, tag: str, day, confirm: bool) -> dict | None:
    """The table of what is owed: per open charge, its subscription (and invoice), since when, where it
    stands (pay by, or suspended and deleted on) and the amount; the total."""
    rows, total = params.get("openCharges"), _owed_total(params)
    if total is None:
        return None
    states = words["owed"]["state"]
    shown = []
    for r in rows or []:
        status = ""
        if r.get("state") == "pastDue" and r.get("suspendAt"):
            status = states["confirm" if confirm else "pastDue"].format(date=day(r["suspendAt"], before=True))
        elif r.get("state") == "disabled" and r.get("deleteAt"):
            status = states["disabled"].format(date=day(r["deleteAt"], before=True))
        elif r.get("state") in ("disabled", "deleted"):
            status = states[r["state"]]
        invoice = words["owed"]["invoice"].format(number=r["invoice"]) if r.get("invoice") else ""
        shown.append(
            {
                "name": r["subscriptionName"],
                "invoice": invoice,
                "since": date(r["since"], tag, "medium"),  # a narrow column, on a phone too
                "amount": money(r["amount"], tag),
                "status": status,
            }
        )
    return {"labels": words["owed"], "total": money(total, tag), "rows": shown}


def _paid_lines(params: dict, words: dict, tag: str) -> list[str]:
    lines = []
    for row in params.get("paidFor") or []:
        state = row.get("state") if row.get("state") in ("active", "pastDue", "disabled", "deleted") else "active"
        lines.append(
            words["paid"][state].format(
                name=quoted(row["subscriptionName"], language(tag)),
                amount=money(row["amount"], tag),
                date=date(row.get("deletedAt"), tag),
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
    """The bank details of an invoice payer's transfer: the payee (the legal name banks check), the IBAN in
    groups of four (it wraps between groups on a phone, never inside one), BIC, the one reference, the
    amount, and for euros an EPC (GiroCode) QR code a banking app scans to fill in the transfer."""
    details = params.get("remittance")
    if not isinstance(details, dict):
        return None
    iban = str(details.get("iban", "")).replace(" ", "")
    payee = branding.payee_name or branding.brand_name
    # The QR code asks for the amount the block shows: the table's total, else the balance.
    balance = params.get("balance")
    owed = _owed_total(params) or (balance if isinstance(balance, dict) else {})
    value, currency = owed.get("value"), owed.get("currency")
    qr = (
        epc_qr(payee, iban, details.get("bic"), details.get("reference"), value)
        if currency == "EUR" and value
        else None
    )
    return {
        "payee": payee,
        "iban": " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)),
        "bic": details.get("bic"),
        "reference": details.get("reference"),
        "amount": total,
        "qr": qr,
        "qr_caption": words["transfer"]["qr"],
        "safety": _safety(branding, words),
    }


def _safety(branding: Branding, words: dict) -> str:
    """New bank details are never announced by e-mail: check with us on a channel the e-mail did not give
    you, our phone number (SUPPORT_PHONE) or, without one, our help center or address."""
    if branding.support_phone:
        return words["transfer"]["safety"].format(phone=branding.support_phone)
    contact = branding.support_url or branding.support_email or branding.brand_name
    return words["transfer"]["safety_no_phone"].format(contact=contact)


QR_CONTENT_ID = "epc-qr"
QR_SCALE, QR_BORDER = 4, 4  # pixels a module; the quiet zone the EPC guideline asks for (4 modules)


@dataclass(frozen=True)
class QrCode:
    png: bytes
    size: int  # pixels a side: the image is shown at this size, never scaled


def epc_qr(payee: str, iban: str, bic: str | None, reference: str | None, cents: int) -> QrCode | None:
    """An EPC069-12 (SEPA credit transfer) QR code as a PNG; None if the data cannot be encoded."""
    try:
        import io
        from decimal import Decimal

        import segno.helpers

        code = segno.helpers.make_epc_qr(
            name=payee[:70],
            iban=iban,
            amount=Decimal(cents).scaleb(-2),
            text=(reference or "")[:140] or None,
            bic=bic or None,
        )
    except (ValueError, TypeError):
        return None
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    width, _ = code.symbol_size(scale=QR_SCALE, border=QR_BORDER)
    return QrCode(buffer.getvalue(), int(width))


def _names(params: dict, lang: str, tag: str) -> str:
    """The subscriptions a notice is about, in the language's quotation marks and list ("“A” and “B”")."""
    from babel.lists import format_list

    names = [n for n in params.get("subscriptions") or [] if isinstance(n, str)]
    if not names and params.get("subscriptionName"):
        names = [params["subscriptionName"]]
    if not names:
        return ""
    return format_list([quoted(n, lang) for n in names], locale=locale_of(tag))


def _short(day_value, tag: str) -> str:
    """A day without its year, for subjects: "July 29", "29 juillet", "29. Juli", "29 de julio"."""
    from babel.dates import format_skeleton

    if not day_value:
        return ""
    text = format_skeleton("MMMMd", day_value, locale=locale_of(tag))
    if locale_of(tag).language == "fr" and day_value.day == 1 and text.startswith("1 "):
        text = "1er " + text[2:]
    return text.replace(" ", "\u00a0")


def _business_day_before(day_value):
    """The business day before a day (Saturdays and Sundays skipped): when a SEPA transfer must leave the
    payer's bank to reach us on that day."""
    from datetime import timedelta

    before = day_value - timedelta(days=1)
    while before.weekday() >= 5:
        before -= timedelta(days=1)
    return before


# Whether a new card is the only way: the card on file was refused for good (no retry can succeed).
def _card_refused(params: dict) -> bool:
    return bool(params.get("hardDecline") or params.get("cardRefused"))


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

    def local(value, before: bool = False):
        return local_day(value, zone, before) if value else None

    def day(value, before: bool = False) -> str:
        """The day of an instant in the account's time zone; with `before`, the last full day before it
        (suspended at 09:00 on 1 May in Paris: "pay by 30 April")."""
        return date(local(value, before), tag) if value else ""

    invoice = params.get("paymentMode") == "invoice"
    owed_total = _owed_total(params)
    total_text = money(owed_total or params.get("balance"), tag)
    pay_by = local(params.get("cancellationDate"), before=True)
    # The date to act by is the first suspension among the charges the message asks for: a reminder for one
    # subscription's step must not name a later day than another open charge's row in the same message.
    for row in params.get("openCharges") if isinstance(params.get("openCharges"), list) else []:
        if isinstance(row, dict) and row.get("state") == "pastDue" and row.get("suspendAt") and pay_by:
            pay_by = min(pay_by, local(row["suspendAt"], before=True))
    deletion = local(params.get("deletionDate"))
    sent_on = local_day(notice.created_at, zone)
    rows = params.get("openCharges") if isinstance(params.get("openCharges"), list) else []
    since = min((r["since"] for r in rows if isinstance(r, dict) and r.get("since")), default=None)
    values.update(
        amount=money(params.get("amount"), tag),
        balance=money(params.get("balance"), tag),
        total=total_text,
        cancellationDate=day(params.get("cancellationDate")),
        deletionDate=date(deletion, tag) if deletion else "",
        deletionPayBy=day(params.get("deletionDate"), before=True),
        expiryDate=date(params.get("expiryDate"), tag),
        paidAt=day(params.get("paidAt")),
        payByDate=date(pay_by, tag) if pay_by else "",
        payByShort=_short(pay_by, tag),
        sendByDate=date(_business_day_before(pay_by), tag) if pay_by else "",
        sinceDate=day(since),
        # How long the oldest open charge has been past due on the day the message is written ("21 days").
        daysOverdueText=_plural(words["days"], (sent_on - local(since)).days, tag) if since else "",
        card=card_label(card["brand"], card["last4"]) if card else "",
        paidCard=card_label(params["paidCard"]["brand"], params["paidCard"]["last4"])
        if isinstance(params.get("paidCard"), dict)
        else "",
        subscriptionName=params.get("subscriptionName") or ", ".join(params.get("subscriptions") or []),
        declineReason=words["reasons"][reader_reason(params.get("declineCode"))],
        daysLeftText=_plural(words["days"], params.get("daysLeft"), tag),
        daysPastDueText=_plural(words["days"], params.get("daysPastDue"), tag),
        nextRetryDate=day(params.get("nextRetryAt")),
        retriesLeftText=_plural(words["retries"], params.get("retriesLeft"), tag),
        brandName=branding.brand_name,
        transferReferences=", ".join(params.get("transferReferences") or [])
        + (f" (+{params['moreReferences']})" if params.get("moreReferences") else ""),
        changedAt=day(params.get("changedAt")),
    )
    if deletion:
        soon = (deletion - sent_on).days == 1
        when = words["when"]["tomorrow" if soon else "on"]
        # "tomorrow (July 29)" in a subject; in a sentence with its year: "tomorrow (July 29, 2027)"
        values["deletionWhen"] = when.format(date=_short(deletion, tag))
        values["deletionWhenDate"] = when.format(date=date(deletion, tag))
    contact = branding.support_email or branding.support_url
    values["supportContact"] = contact or ""
    values["changedByText"] = words["changedBy"].get(str(params.get("changedBy")), words["changedBy"]["admin"])
    action_kind = ACTION_FOR.get(notice.kind)
    owes = _owes(params) and bool(owed_total or params.get("balance"))
    if notice.kind in ("data_deleted", "payment_received", "reactivated", "charge_written_off") and owes:
        action_kind = "pay"  # what is still owed can be paid now
    if action_kind == "pay" and _card_refused(params):
        action_kind = "card"  # the card on file cannot pay: a new card is the way
    if action_kind in ("pay", "card") and invoice:
        action_kind = "invoice"
    show_remittance = invoice and action_kind == "invoice" and owes
    owed = _owed_table(params, words, tag, day, confirm=notice.kind == "confirm_payment")
    if action_kind == "pay" and not total_text:
        action_kind = "card"
    # "Pay €X now" pays the whole balance with the card on file (the portal's pay page); "Use another card"
    # beside it. Where a new card is the only way (a card refused for good, one expiring), that is the action.
    # A failed payment leads to another card, and offers the card on file only where a retry can succeed.
    action_words = words["actions"]
    if notice.kind == "payment_failed" and action_kind == "card":
        action = action_words["another_card_pay"].format(amount=total_text)
    else:
        action = action_words[action_kind].format(amount=total_text) if action_kind else None
    secondary = None
    if action_kind == "pay":
        secondary = (
            action_words["another_card"],
            branding.link("update_payment", params.get("accountId"), notice.subscription_id),
        )
    elif notice.kind == "payment_failed" and action_kind == "card" and not _card_refused(params) and card:
        secondary = (
            action_words["retry_card"].format(card=values["card"]),
            branding.link("pay", params.get("accountId"), notice.subscription_id),
        )
    # Subjects keep names bare, to stay short; in sentences they stand in the language's quotation marks
    # ("your subscription “Production”").
    subject = entry["subject"].format_map(values)
    values["subscriptionName"] = quoted(params.get("subscriptionName") or "", lang) or _names(params, lang, tag)
    values["subscriptionNames"] = _names(params, lang, tag)
    if notice.kind in ("reminder", "final_notice") and rows:
        # These ask for the account's total: they name every subscription it covers (the table's rows), not
        # only the one whose step sent the message ("€62.49 for “Production” and “Staging”").
        covered = list(dict.fromkeys(r["subscriptionName"] for r in rows if isinstance(r, dict)))
        values["subscriptionNames"] = _names({"subscriptions": covered}, lang, tag) or values["subscriptionNames"]
    lines = [line.format_map(values) for line in entry["lines"] if _filled(line, values)]
    # After the first line: the deadline (the date to act by), and that this message replaces an earlier one.
    if notice.kind in ASKING_DEADLINE and pay_by:
        key = "confirm" if notice.kind == "confirm_payment" else "transfer" if invoice else "card"
        lines.insert(min(1, len(lines)), words["deadline"][key].format_map(values))
    replaces = params.get("replaces")
    if isinstance(replaces, dict) and replaces.get("at") and lines:
        lines.insert(
            1,
            words["replaces"].format(
                date=day(replaces["at"]), amount=money(replaces.get("amount"), tag), total=total_text
            ),
        )
    if "owed" in entry and owes:
        lines.append(entry["owed"].format_map(values))
    transfer = _transfer(params, branding, total_text, words) if show_remittance else None
    inline: tuple[Inline, ...] = ()
    if transfer and transfer["qr"] is not None:
        qr = transfer["qr"]
        inline = (Inline(QR_CONTENT_ID, "epc-qr.png", "image/png", qr.png),)
    context = {
        # The brand opens every subject: the reader sees who writes before what about.
        "lang": lang,
        "subject": f"{branding.brand_name}{colon(lang)} {subject}",
        "greeting": (words["greeting"] if params.get("adminName") else words["greeting_plain"]).format_map(values),
        "footer": words["footer"].format_map(values),
        "footer_html": _unbroken(words["footer"].format_map(values), str(params.get("accountId") or "")),
        "lines": lines,
        "labels": words["labels"],
        "colon": colon(lang),
        "owed": owed,
        # A surplus kept as credit is offered back, with how.
        "paid": _paid_lines(params, words, tag)
        + ([words["refund"].format_map(values)] if params.get("credit") and notice.kind == "payment_received" else []),
        "paid_title": words["paid"]["title"],
        "invoices": _invoices(params, words),
        "remittance": transfer,
        "qr_src": f"cid:{QR_CONTENT_ID}",
        # The bank details' amount is what to transfer: the whole table's total when there is one (the
        # account's open charges), so the block never shows another figure than the total just above it.
        "amount": total_text,
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
        inline,
        branding.support_email,
    )


# The notices that name a date to pay (or confirm) by, in a line of its own.
ASKING_DEADLINE = frozenset(
    {"payment_failed", "invoice_overdue", "card_declined_for_good", "confirm_payment", "reminder", "final_notice"}
)


def _invoices(params: dict, words: dict) -> list[dict]:
    """The invoices a receipt paid, as links that read as the invoice's number (never a bare URL)."""
    found = []
    for item in params.get("invoices") or []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            found.append({"url": item["url"], "label": words["owed"]["invoice"].format(number=item.get("number", ""))})
    if not found:  # a receipt queued by an earlier release: its URLs only
        for n, url in enumerate(u for u in params.get("invoiceUrls") or [] if isinstance(u, str)):
            found.append({"url": url, "label": words["owed"]["invoice"].format(number=n + 1)})
    return found
