"""The words of every message a customer receives (issue 36), read from the real flows (devhost/notice_flows.py)
as they are sent: subjects without chains of colons, French typography, who changed the billing address and
what to do if it was not them, deletion "tomorrow", German terms for invoice payers, receipts without bare URLs."""

from __future__ import annotations

import datetime
import html
import re
from functools import cache

import pytest

from devhost.gallery import BRAND, LOCALES
from devhost.notice_flows import Flow, flows
from pastdue.domain.model import Notice, NoticeKind
from pastdue.notices.catalog import catalog
from pastdue.notices.formatting import date
from pastdue.notices.message import Email
from pastdue.notices.render import render

TAGS = sorted(LOCALES.values())
NBSP = "\u00a0"


@cache
def _flows(tag: str) -> dict[str, Flow]:
    return {flow.name: flow for flow in flows(tag)}


@cache
def _inbox(tag: str) -> list[tuple[str, str, Notice, Email]]:
    """(flow, event, notice, e-mail) for every message of every flow, in order."""
    return [
        (name, event, notice, render(notice, BRAND))
        for name, flow in _flows(tag).items()
        for event, notice in flow.inbox
    ]


def _visible(email: Email) -> str:
    """What a reader sees: the subject, the plain text and the HTML's text (tags and styles left out)."""
    body = re.sub(r"<style\b.*?</style>|<[^>]+>", " ", email.html, flags=re.S)
    return "\n".join((email.subject, email.text, html.unescape(body)))


def _without_addresses(text: str) -> str:
    return re.sub(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", " ", text)


@pytest.mark.parametrize("tag", TAGS)
def test_no_subject_chains_colons(tag):
    """The brand, its colon, then what happened: never a second colon ("Brand: Final notice: pay ...").
    Every colon counts, whatever space the language puts before it (French " : ")."""
    for name, event, _notice, email in _inbox(tag):
        assert email.subject.count(":") + email.subject.count("\uff1a") == 1, (name, event, email.subject)


def test_french_uses_typographic_apostrophes_only():
    for name, event, _notice, email in _inbox("fr-FR"):
        text = _without_addresses(_visible(email))
        assert "'" not in text and "\u2032" not in text, (name, event, re.findall(r".{0,30}'.{0,30}", text))
        assert "\u2019" in email.text, (name, event)  # (the check reads real French: it has apostrophes)


# Per language: the greeting at the new address (nobody named: whoever reads it may not be the admin on file) and
# at the address left (the admin, by name); who made the change; what to do if it was not them, at each address.
CONTACT_CHANGE = {
    "en": (
        "Hello,",
        "Hello Ada Lovelace,",
        "The change was made by the account admin in the billing portal.",
        "If neither you nor anyone you work with made this change, contact us right away at",
        "Didn't make this change? Contact us right away at",
    ),
    "fr": (
        "Bonjour,",
        "Bonjour Ada Lovelace,",
        "Cette modification a été effectuée par l’administrateur du compte, depuis le portail de facturation.",
        "Si ce changement ne vient ni de vous ni de votre équipe, contactez-nous sans attendre à",
        "Vous n’êtes pas à l’origine de ce changement ? Contactez-nous sans attendre à",
    ),
    "de": (
        "Guten Tag,",
        "Guten Tag Ada Lovelace,",
        "Die Änderung hat der Kontoadministrator im Abrechnungsportal vorgenommen.",
        "Weder Sie noch jemand aus Ihrem Team hat diese Änderung veranlasst? Wenden Sie sich bitte umgehend an",
        "Sie haben diese Änderung nicht veranlasst? Wenden Sie sich bitte umgehend an",
    ),
    "es": (
        "Hola:",
        "Hola, Ada Lovelace:",
        "El cambio lo hizo el administrador de la cuenta desde el portal de facturación.",
        "Si ni usted ni nadie de su equipo ha hecho este cambio, contáctenos de inmediato en",
        "¿No ha hecho usted este cambio? Contáctenos de inmediato en",
    ),
}


@pytest.mark.parametrize("tag", TAGS)
def test_a_changed_billing_address_greets_the_right_person_says_who_what_when_and_what_if_it_was_not_them(tag):
    plain, named, who, not_us_new, not_me_old = CONTACT_CHANGE[tag[:2]]
    inbox = {notice.kind: email for name, _, notice, email in _inbox(tag) if name == "admin-change"}
    changed_on = date("2027-03-31", tag)
    for kind, reader, other, greeting, if_not_them in (
        (NoticeKind.ADMIN_EMAIL_CHANGED, "grace.hopper@example.com", "ada@example.com", plain, not_us_new),
        (NoticeKind.ADMIN_EMAIL_REPLACED, "ada@example.com", "grace.hopper@example.com", named, not_me_old),
    ):
        email = inbox[kind]
        assert email.to == reader, kind
        paragraphs = email.text.split("\n\n")
        assert paragraphs[1] == greeting, (kind, paragraphs[1])
        if kind == "admin_email_changed":
            assert "Ada Lovelace" not in email.text, kind
        body = "\n\n".join(paragraphs[2:4])
        assert who in body, (kind, "who made the change", body)
        assert other in body and "acct-1042" in body, (kind, "which address, of which account", body)
        assert changed_on in body, (kind, "when", body)
        assert f"{if_not_them} {BRAND.support_email}" in body, (kind, "what to do if it was not them", body)


@pytest.mark.parametrize(
    "tag, subject, sentence",
    [
        ("en-US", "tomorrow (July\u00a029)", "tomorrow (July\u00a029,\u00a02027)"),
        ("fr-FR", "demain (29\u00a0juillet)", "demain (29\u00a0juillet\u00a02027)"),
        ("de-DE", "morgen (29.\u00a0Juli)", "morgen (29.\u00a0Juli\u00a02027)"),
        ("es-ES", "mañana (29\u00a0de\u00a0julio)", "mañana (29\u00a0de\u00a0julio\u00a0de\u00a02027)"),
    ],
)
def test_the_day_before_deletion_says_tomorrow_and_the_date_never_in_1_day(tag, subject, sentence):
    one_day = catalog(tag[:2])["days"]["one"].format(n=1)
    warnings = [
        (name, event, email)
        for name, event, notice, email in _inbox(tag)
        if notice.kind == "deletion_warning" and event.endswith("2027-07-28")
    ]
    assert {name for name, _, _ in warnings} == {"never-paid", "invoice-never-paid"}
    for name, _event, email in warnings:
        assert subject in email.subject, (name, email.subject)
        assert sentence in email.text.split("\n\n")[2], (name, email.text.split("\n\n")[2])
        for text in (email.subject, email.text):
            assert one_day not in text and one_day.replace(" ", NBSP) not in text, (name, text)
    earlier = [  # sent more than a day before the deletion (any flow's)
        e
        for _, ev, n, e in _inbox(tag)
        if n.kind == "deletion_warning"
        and (datetime.date.fromisoformat(n.params["deletionDate"][:10]) - datetime.date.fromisoformat(ev[-10:])).days
        > 1
    ]
    assert earlier and all(subject.split(" ")[0] not in e.subject for e in earlier)  # a week before: the date


INVOICE_FLOWS = (
    "invoice-payer",
    "transfer-partial",
    "transfer-exact",
    "transfer-overpaid",
    "paid-one-still-suspended",
    "invoice-never-paid",
    "transfer-after-deletion",
)


def test_german_never_calls_an_invoice_payers_payment_a_debit():
    """Invoice payers pay by transfer: nothing is taken from their account ("Abbuchung", "abgebucht",
    "Lastschrift"), and no card is charged ("belasten")."""
    seen = 0
    for name, event, notice, email in _inbox("de-DE"):
        if name in INVOICE_FLOWS:
            assert notice.params.get("paymentMode") == "invoice"
            text = _visible(email).lower()
            for word in ("abbuchung", "abgebucht", "abbuchen", "lastschrift", "belast"):
                assert word not in text, (name, event, word)
            seen += 1
    assert seen >= 20


@pytest.mark.parametrize("tag", TAGS)
def test_data_deleted_never_sends_a_transfer_payer_to_the_portal_to_pay(tag):
    (notice, email) = [(n, e) for name, _, n, e in _inbox(tag) if name == "invoice-never-paid"][-1]
    assert notice.kind == "data_deleted"
    words = catalog(tag[:2])
    text = _without_addresses(email.text)
    assert not re.search(r"portal|portail", text, re.I), text
    assert words["actions"]["invoice"] in email.text and "IBAN" in email.text  # how to pay: the transfer


@pytest.mark.parametrize("tag", TAGS)
def test_receipts_link_their_invoices_by_number_and_show_no_bare_url(tag):
    receipts = [(name, e) for name, _, n, e in _inbox(tag) if n.kind == "payment_received"]
    assert len(receipts) >= 5  # by card, by transfers (part, exact, more), one subscription back
    for name, email in receipts:
        body = html.unescape(re.sub(r"<style\b.*?</style>|<[^>]+>", " ", email.html, flags=re.S))
        assert "http" not in body and "www." not in body, (name, re.findall(r"\S*http\S*", body))


def test_the_transfer_safety_line_reads_as_written_in_english_and_names_the_number_to_call():
    text = render(_flows("en-US")["invoice-payer"].inbox[0][1], BRAND).text
    assert BRAND.support_phone == "+353 1 555 0100"
    assert (
        "We will never announce new bank details by e-mail; call us on +353 1 555 0100 before paying any other account."
        in text
    )
    import dataclasses

    no_phone = dataclasses.replace(BRAND, support_phone=None)  # "call us" with no number: never
    text = render(_flows("en-US")["invoice-payer"].inbox[0][1], no_phone).text
    assert "call us" not in text
    assert f"check with us through {BRAND.support_url} before paying any other account." in text


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("en-US", "has been past due for 21\u00a0days, since March\u00a031,\u00a02027"),
        ("fr-FR", "reste impayée depuis le 31\u00a0mars\u00a02027, soit depuis 21\u00a0jours"),
        ("de-DE", "ist seit dem 31.\u00a0März\u00a02027 überfällig, also seit 21\u00a0Tagen"),
        ("es-ES", "Tiene un pago vencido desde hace 21\u00a0días"),
    ],
)
def test_a_reminder_counts_the_days_since_the_oldest_charge_fell_due(tag, expected):
    (reminder,) = [
        e for name, ev, n, e in _inbox(tag) if name == "never-paid" and n.kind == "reminder" and ev.endswith("04-21")
    ]
    assert expected in reminder.text, reminder.text.split("\n\n")[2]
    if tag == "es-ES":
        assert "pendientes desde el 31\u00a0de\u00a0marzo" in reminder.text


@pytest.mark.parametrize("tag", TAGS)
def test_a_reminder_for_one_subscription_names_every_subscription_its_total_covers_and_the_first_deadline(tag):
    """Staging's reminder on April 10 asks for the account's €62.49, Production's €49.99 included: it names
    both, and the date to act by is Production's (April 29), not Staging's (May 6)."""
    (reminder,) = [
        e for name, ev, n, e in _inbox(tag) if name == "staggered" and n.kind == "reminder" and ev.endswith("04-10")
    ]
    first = reminder.text.split("\n\n")[2]
    assert "Production" in first and "Staging" in first, first
    deadline = catalog(tag[:2])["deadline"]["card"].split("{")[0]
    (line,) = [p for p in reminder.text.split("\n\n") if p.startswith(deadline)]
    assert date("2027-04-29", tag) in line, line


@pytest.mark.parametrize("tag", ["en-US", "fr-FR", "de-DE", "es-ES"])
def test_addresses_and_references_never_break_at_a_hyphen_in_the_html(tag):
    """A mail app wraps a narrow column at a hyphen: "billing-" / "help@...", "VIR-2027-" / "0501". Each is
    kept on one line (the support address, a transfer's reference, a receipt number)."""
    import re

    from devhost.gallery import BRAND
    from devhost.notice_flows import flows
    from pastdue.notices.render import render

    (flow,) = [f for f in flows(tag) if f.name == "paid-one-still-suspended"]
    email = render(flow.inbox[-1][1], BRAND)
    whole = set(re.findall(r'<span style="white-space: nowrap;">([^<]*)</span>', email.html))
    assert {"VIR-2027-0501", "acct-1042"} <= whole
    assert any(w.startswith("R-") for w in whole)  # the receipt number
    assert f'white-space: nowrap;">{BRAND.support_email}</a>' in email.html


@pytest.mark.parametrize("tag", TAGS)
def test_a_pay_now_the_bank_asks_to_confirm_names_the_new_card_every_subscription_and_a_date_ahead(tag):
    """paid-after-deletion, August 1: a new card pays Staging (deleted), Test (suspended) and Production (past
    due since July 20) in one payment, and the bank asks the admin to confirm it."""
    from pastdue.notices.formatting import quoted

    (confirm,) = [n for _, n in _flows(tag)["paid-after-deletion"].inbox if n.kind == "confirm_payment"]
    email = render(confirm, BRAND)
    first = email.text.split("\n\n")[2]
    assert "4444" in first and "0341" not in email.text, first  # the new card, not the one it replaces
    assert all(quoted(name, tag[:2]) in first for name in ("Staging", "Test", "Production")), first
    # Production's suspension (August 19, 11:00 in Paris): the only one ahead; Staging's past one never.
    assert date("2027-08-18", tag) in email.text.split("\n\n")[3]
    assert date("2027-05-02", tag) not in email.text
