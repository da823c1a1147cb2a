"""What the renderer makes of a notice. What a customer reads is taken from notices the real domain queued
for accounts taken through real flows (devhost/notice_flows.py); only the renderer-alone checks (escaping, every
kind in every language, a notice an earlier release stored) build a notice by hand."""

from __future__ import annotations

from devhost.notice_flows import flows
from pastdue.domain.codec import dump
from pastdue.domain.model import Notice, NoticeKind
from pastdue.domain.money import Money
from pastdue.notices.formatting import money
from pastdue.notices.render import render
from tests.unit.builders import T0


def _notice(kind, locale="en-US", mode="card", **params):
    base = {
        "accountId": "acct-1",
        "paymentMode": mode,
        "adminName": "Ada",
        "subscriptionName": "Prod",
        "card": {"brand": "visa", "last4": "4242"},
        "amount": dump(Money(123456, "EUR")),
        "balance": dump(Money(123456, "EUR")),
    }
    if mode == "invoice":
        base["remittance"] = {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "reference": "INV-9"}
    return Notice("n-1", kind, "ada@example.com", locale, {**base, **params}, T0, T0)


def test_amounts_are_formatted_for_the_locale():
    assert money({"value": 123456, "currency": "EUR"}, "fr-FR") == "1\u202f234,56\xa0€"
    assert money({"value": 123456, "currency": "EUR"}, "en-US") == "€1,234.56"
    assert money({"value": 500, "currency": "JPY"}, "en-US") == "¥500"


def _sent(locale: str, flow_name: str, kind: str) -> list[Notice]:
    """The notices of `kind` a real flow queued (devhost/notice_flows.py), in the order they were queued."""
    (flow,) = [flow for flow in flows(locale) if flow.name == flow_name]
    return [notice for _, notice in flow.inbox if notice.kind == kind]


def test_payment_failed_in_english_leads_to_another_card_and_offers_the_card_on_file_while_it_may_pay():
    first = _sent("en-US", "never-paid", "payment_failed")[0]
    email = render(first)
    assert email.subject == "pastdue: Payment failed, €1,234.56 past due"  # the brand, what, the total; one colon
    assert "We couldn't charge your card Visa\u00a0••••\u00a00341 for \u201cProduction\u201d" in email.text
    assert "If you add another card, we'll charge it €1,234.56 straight away." in email.text
    html = email.html
    assert html.index("Pay €1,234.56 with another card") < html.index("Pay now with Visa")  # the text's action first
    assert "IBAN" not in email.text
    (refused,) = _sent("en-US", "hard-decline", "card_declined_for_good")
    assert "Pay now with" not in render(refused).html  # no retry can succeed on this card: not offered


def test_french_notices_are_in_french_with_french_amounts():
    email = render(_sent("fr-FR", "never-paid", "reminder")[0])
    assert email.subject == "pastdue\u00a0: Rappel de paiement, 1\u202f258,01\xa0€ à régler"
    assert "Sans règlement au plus tard le 29\u00a0avril\u00a02027, le service sera suspendu." in email.text
    assert 'lang="fr"' in email.html  # and a date stays on one line (no-break spaces above)


def test_invoice_payers_get_remittance_details_never_update_your_card():
    email = render(_sent("en-US", "invoice-payer", "invoice_overdue")[0])
    assert "FR76 3000 6000 0112 3456 7890 189" in email.text and "INV-1042" in email.html  # IBAN in groups of four
    assert "Update your payment information" not in email.text and "another card" not in email.text


def test_a_final_notice_queued_by_an_earlier_release_without_its_deletion_date_leaves_the_line_out():
    """The renderer alone: a notice stored before the deletion date was queued with it still renders."""
    reminder = render(_notice("final_notice", mode="invoice", cancellationDate="2026-02-04T09:00:00.000000Z"))
    assert "AGRIFRPP" in reminder.text and "See your invoices" in reminder.text
    assert "deleted on" not in reminder.text


def test_every_kind_renders_in_both_languages_and_html_is_escaped():
    kinds = list(NoticeKind)  # every kind there is
    for locale in ("en-GB", "fr-CA", "de-DE"):
        for kind in kinds:
            email = render(_notice(kind, locale, subscriptionName="<b>Prod</b>"))
            assert email.subject and email.text and "<b>Prod</b>" not in email.html
    assert render(_notice("payment_failed")).operation_id == render(_notice("payment_failed")).operation_id
