"""Every notice, in every locale, is something a customer can trust and act on: the brand, the support
contact, the configured deep link for its action, its deadline, and never a raw decline code."""

from __future__ import annotations

import re

import pytest

from pastdue.domain.codec import dump
from pastdue.domain.model import DECLINED, DELETED, Notice
from pastdue.domain.money import Money
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import catalog
from pastdue.notices.render import render
from pastdue.settings import SettingsError, load_settings
from tests.unit.builders import T0
from tests.unit.test_settings import GOOD

BRAND = Branding(
    portal_url="https://billing.contoso.example",
    brand_name="Contoso Cloud",
    support_email="help@contoso.example",
    support_url="https://contoso.example/support",
    legal_footer="Contoso Ltd, 1 Main Street, Dublin",
    links={
        "update_payment": "/pay/{accountId}",
        "confirm_payment": "/confirm/{accountId}",
        "transfer_details": "/invoices/{accountId}",
        "reactivate": "/subs/{subscriptionId}",
        "verify_email": "/contact/{accountId}",
        "account": "/home/{accountId}",
    },
)
DEADLINE = "2027-05-01T02:00:00.000000Z"
KINDS = {  # kind -> (the portal page its action opens, or None; the deadline it names)
    "payment_failed": ("/pay/acct-1", "cancellationDate"),
    "card_declined_for_good": ("/pay/acct-1", None),
    "confirm_payment": ("/confirm/acct-1", None),
    "reminder": ("/pay/acct-1", "cancellationDate"),
    "final_notice": ("/pay/acct-1", "cancellationDate"),
    "service_cancelled": ("/pay/acct-1", "deletionDate"),
    "deletion_warning": ("/pay/acct-1", "deletionDate"),
    "data_deleted": ("/pay/acct-1", None),
    "payment_received": (None, None),
    "reactivated": (None, None),
    "admin_email_changed": (None, None),
    "charge_written_off": (None, None),
    "card_expiring": ("/pay/acct-1", "expiryDate"),
}


def _notice(kind, locale, mode="card", **params):
    base = {
        "accountId": "acct-1",
        "paymentMode": mode,
        "adminName": "Ada",
        "subscriptionName": "Prod",
        "card": {"brand": "visa", "last4": "4242"},
        "amount": dump(Money(123456, "EUR")),
        "balance": dump(Money(123456, "EUR")),
        "declineCode": "stolen_card",
        "daysPastDue": 7,
        "cancellationDate": DEADLINE,
        "deletionDate": DEADLINE,
        "daysLeft": 7,
        "expiryDate": DEADLINE,
        "openCharges": [
            {
                "subscriptionName": "Prod",
                "amount": dump(Money(100000, "EUR")),
                "since": "2027-04-01T09:00:00.000000Z",
                "state": "pastDue",
            },
            {
                "subscriptionName": "Staging",
                "amount": dump(Money(23456, "EUR")),
                "since": "2027-04-03T09:00:00.000000Z",
                "state": "pastDue",
            },
        ],
    }
    if mode == "invoice":
        base["remittance"] = {"iban": "FR7630006000011234567890189", "bic": "AGRIFRPP", "reference": "INV-9"}
    return Notice("n-1", kind, "ada@example.com", locale, {**base, **params}, T0, T0, "sub-1")


PAY_BY = {
    "en-US": "April 30, 2027",
    "fr-FR": "30 avril 2027",
    "de-DE": "30. April 2027",
    "es-ES": "30 de abril de 2027",
}
PAY_BY = {k: v.replace(" ", "\u00a0") for k, v in PAY_BY.items()}
DATES = {"en-US": "May 1, 2027", "fr-FR": "1er mai 2027", "de-DE": "1. Mai 2027", "es-ES": "1 de mayo de 2027"}
DATES = {k: v.replace(" ", "\u00a0") for k, v in DATES.items()}


@pytest.mark.parametrize("locale", sorted(DATES))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_notice_is_branded_signed_and_leads_to_its_page(kind, locale):
    email = render(_notice(kind, locale), BRAND)
    link, deadline = KINDS[kind]
    for part in (email.text, email.html):
        assert "Contoso Cloud" in part and "help@contoso.example" in part and "Contoso Ltd, 1 Main Street" in part
        assert "stolen_card" not in part and "(s)" not in part
        if link:
            assert f"https://billing.contoso.example{link}" in part
    assert 'lang="' + locale[:2] + '"' in email.html and 'name="viewport"' in email.html
    assert "{" not in email.text and "{" not in email.subject  # every placeholder was filled
    if deadline == "cancellationDate":  # suspended on May 1 (02:00 UTC): "pay by April 30"
        assert PAY_BY[locale] in email.text
    elif deadline:
        assert DATES[locale] in email.text
    # The small table of what is owed: each open charge, since when, and the total.
    if kind != "admin_email_changed":
        for part in (email.text, email.html):
            assert "Staging" in part and FIRST_OF_APRIL[locale] in part
            assert TOTALS[locale] in part and catalog(locale[:2])["owed"]["title"] in part


# The table's "since" column is narrow (a phone is 360 px): the locale's medium date.
FIRST_OF_APRIL = {
    "en-US": "Apr 1, 2027",
    "fr-FR": "1er avr. 2027",
    "de-DE": "01.04.2027",
    "es-ES": "1 abr 2027",
}
FIRST_OF_APRIL = {k: v.replace(" ", "\u00a0") for k, v in FIRST_OF_APRIL.items()}
TOTALS = {"en-US": "€1,234.56", "fr-FR": "1\u202f234,56\u00a0€", "de-DE": "1.234,56\u00a0€", "es-ES": "1.234,56\u00a0€"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_french_puts_a_no_break_space_before_colons_and_question_marks(kind):
    email = render(_notice(kind, "fr-FR"), BRAND)
    visible = re.sub(r"<[^>]+>", "", re.sub(r"<style>.*?</style>", "", email.html, flags=re.S))
    for part in (email.subject, email.text, visible):
        assert not re.search(r"(?:[^\S\u00a0\u202f]|\w)[:;?!](?:\s|$)", part), part
    assert "\u00a0:" in email.text  # the labels and lines that have a colon have it French-style


def test_a_receipt_says_what_it_paid_for_and_where_each_subscription_stands():
    paid_for = [
        {"subscriptionName": "Prod", "amount": dump(Money(5000, "EUR")), "state": "active"},
        {
            "subscriptionName": "Old",
            "amount": dump(Money(900, "EUR")),
            "state": "deleted",
            "deletedAt": "2027-05-01T09:00:00.000000Z",
        },
        {"subscriptionName": "Test", "amount": dump(Money(100, "EUR")), "state": "disabled"},
    ]
    email = render(
        _notice("payment_received", "en-US", paidFor=paid_for, credit=dump(Money(50, "EUR")), openCharges=[]), BRAND
    )
    for part in (email.text, email.html):
        assert "This payment covers" in part and "“Prod”: €50.00. The subscription is active." in part
        assert "“Old”: €9.00. This settles what was owed for it; its data was deleted on May\u00a01,\u00a02027" in part
        assert "“Test”: €1.00. Paid, but still suspended" in part and "The extra €0.50 you paid" in part
        # The surplus kept as credit is offered back, and how.
        assert "we will refund it to the account it came from" in part and "help@contoso.example" in part
        assert "What is owed" not in part  # nothing left open: no table
    french = render(_notice("payment_received", "fr-FR", paidFor=paid_for, openCharges=[]), BRAND)
    assert "supprimées le 1er\u00a0mai\u00a02027" in french.text


def test_invoice_payers_are_sent_to_the_transfer_details():
    email = render(_notice("reminder", "en-US", mode="invoice"), BRAND)
    assert "https://billing.contoso.example/invoices/acct-1" in email.text and "/pay/" not in email.text


def test_a_declined_card_reads_as_a_reason_and_fraud_signals_as_a_generic_one():
    stolen = render(_notice("card_declined_for_good", "en-US"), BRAND)
    assert "your bank declined the payment" in stolen.text
    funds = render(_notice("card_declined_for_good", "fr-FR", declineCode="insufficient_funds"), BRAND)
    assert "votre banque signale une provision insuffisante" in funds.text and "insufficient" not in funds.text


def test_branding_comes_from_validated_settings():
    env = {
        **GOOD,
        "PORTAL_BASE_URL": "https://billing.contoso.example",
        "BRAND_NAME": "Contoso Cloud",
        "SUPPORT_EMAIL": "help@contoso.example",
        "PORTAL_LINK_UPDATE_PAYMENT": "/pay/{accountId}",
    }
    branding = load_settings(env).branding
    assert branding.link("update_payment", "acct 1") == "https://billing.contoso.example/pay/acct%201"
    assert branding.link("reactivate", "a", "s") == "https://billing.contoso.example/billing/a/subscriptions/s"
    for change in (
        {"PORTAL_BASE_URL": "http://billing.contoso.example"},
        {"PORTAL_LINK_ACCOUNT": "x/{accountId}"},
        {"PORTAL_LINK_ACCOUNT": "/{password}"},
        {"SUPPORT_EMAIL": "a, b@x.y"},
        {"BRAND_NAME": "Contoso\nBcc: x"},
    ):
        with pytest.raises(SettingsError):
            load_settings({**env, **change})


def test_alerts_are_structured_with_amount_deadline_and_the_action_that_clears_them():
    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide
    from pastdue.notices.alerts import alerts
    from tests.unit.builders import POLICY, account, days, failed

    acc, _ = decide(account(), failed(value=2500), POLICY, T0)
    (alert,) = alerts(acc, POLICY, BRAND)
    assert alert["id"] == "pastDue:sub-0" and alert["amount"] == {"value": 2500, "currency": "EUR"}
    assert alert["deadline"] == "2026-02-04T09:00:00.000000Z"  # failed on Jan 5 + 30 days
    assert alert["action"] == {
        "kind": "updatePaymentMethod",
        "method": "PUT",
        "route": "/api/accounts/acct-1/payment-method",
        "link": "https://billing.contoso.example/pay/acct-1",
    }
    acc.admin.email_undeliverable = True
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(31))
    answers = tuple(
        ev.AttemptResult(e.charge_id, e.key, DECLINED, "card_declined") for e in effects if isinstance(e, ev.TryCharge)
    )
    acc, _ = decide(acc, ev.AttemptsResolved(answers), POLICY, T0 + days(31))
    acc, _ = decide(acc, ev.SweepTick(), POLICY, T0 + days(31))
    kinds = {a["kind"]: a for a in alerts(acc, POLICY, BRAND)}
    assert kinds["emailUndeliverable"]["action"]["route"] == "/api/accounts/acct-1/admin-contact"
    assert kinds["disabled"]["deadline"] == "2026-05-06T09:00:00.000000Z"  # disabled on day 31 + 90 days


def test_the_gallery_renders_every_kind_in_every_language(tmp_path):
    from devhost.gallery import build
    from pastdue.notices.catalog import LANGUAGES, catalog

    pages = build(tmp_path)
    kinds = {(page.name.split(".")[1], page.name.split(".")[2].split("-", 1)[1]) for page in pages}
    assert kinds == {(lang, kind) for lang in LANGUAGES for kind in catalog("en")["notices"]}
    for page in pages:
        text = page.read_text()
        inbox = (tmp_path / ".".join(page.name.split(".")[:2] + ["html"])).read_text()
        assert page.name in inbox and f'lang="{page.name.split(".")[1]}"' in text and "Contoso Cloud" in text


def test_a_deleted_subscription_still_owed_keeps_an_alert_and_its_notice_says_so():
    from pastdue.domain.lifecycle import decide
    from pastdue.notices.alerts import alerts
    from tests.unit.builders import POLICY, account, failed

    acc, _ = decide(account(), failed(value=900), POLICY, T0)
    acc.subscriptions["sub-0"].state = DELETED
    (alert,) = alerts(acc, POLICY, BRAND)
    assert alert["kind"] == "deletedOwed" and alert["amount"] == {"value": 900, "currency": "EUR"}
    email = render(_notice("data_deleted", "en-US"), BRAND)
    assert "You still owe €1,234.56" in email.text
    paid = render(_notice("data_deleted", "en-US", balance={"value": 0, "currency": "EUR"}, openCharges=[]), BRAND)
    assert "still owe" not in paid.text


def test_a_transfer_receipt_names_the_deleted_subscription_it_paid_for_and_the_surplus_kept_as_credit():
    from pastdue.domain import events as ev
    from pastdue.domain.lifecycle import decide
    from tests.unit.builders import POLICY, account, days, failed

    acc, _ = decide(account(subs=2), failed("ch-1", "sub-0", value=900), POLICY, T0)
    acc, _ = decide(acc, failed("ch-2", "sub-1", value=500), POLICY, T0)
    acc.subscriptions["sub-0"].state, acc.subscriptions["sub-0"].deleted_at = DELETED, T0 + days(120)
    acc, _ = decide(acc, ev.PaymentReceived("evt-1", Money(1500, "EUR"), "INV-1"), POLICY, T0 + days(121))
    receipt = next(n for n in acc.outbox if n.kind == "payment_received")
    names = [acc.subscriptions[s].display_name for s in ("sub-0", "sub-1")]
    assert [(r["subscriptionName"], r["amount"]["value"], r["state"]) for r in receipt.params["paidFor"]] == [
        (names[0], 900, "deleted"),
        (names[1], 500, "active"),
    ]
    assert receipt.params["credit"] == {"value": 100, "currency": "EUR"} and receipt.params["openCharges"] == []
    text = render(receipt, BRAND).text
    assert "its data was deleted on May\u00a05,\u00a02026 and cannot be restored" in text
    assert "The extra €1.00 you paid is kept as credit" in text
