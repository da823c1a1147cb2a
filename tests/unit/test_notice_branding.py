"""Every notice, in every locale, is something a customer can trust and act on: the brand, the support
contact, the configured deep link for its action, its deadline, and never a raw decline code. Each notice
read here is one the real domain queued for an account taken through a real flow (devhost/notice_flows.py)."""

from __future__ import annotations

import re
from functools import cache

import pytest

from devhost.gallery import LOCALES
from devhost.notice_flows import POLICY, Flow, flows, notices
from pastdue.domain.model import DECLINED, DELETED, Notice, NoticeKind
from pastdue.notices.branding import Branding
from pastdue.notices.catalog import catalog
from pastdue.notices.render import render
from pastdue.settings import SettingsError, load_settings
from tests.unit.builders import T0
from tests.unit.test_settings import GOOD

# A deployment with every portal page configured (PORTAL_LINK_*) away from the default paths.
BRAND = Branding(
    portal_url="https://billing.contoso.example",
    brand_name="Contoso Cloud",
    support_email="help@contoso.example",
    support_url="https://contoso.example/support",
    legal_footer="Contoso Ltd, 1 Main Street, Dublin",
    links={
        "pay": "/pay-now/{accountId}",
        "update_payment": "/pay/{accountId}",
        "confirm_payment": "/confirm/{accountId}",
        "transfer_details": "/invoices/{accountId}",
        "reactivate": "/subs/{subscriptionId}",
        "verify_email": "/contact/{accountId}",
        "account": "/home/{accountId}",
    },
)
TAGS = sorted(LOCALES.values())


@cache
def _queued(tag: str) -> dict[str, tuple[str, Notice]]:
    """Each kind as the first flow that sent it has it: kind -> (flow, notice)."""
    return notices(tag)


@cache
def _flows(tag: str) -> dict[str, Flow]:
    return {flow.name: flow for flow in flows(tag)}


def _last(tag: str, flow: str, kind: str) -> Notice:
    """The last message of `kind` the flow sent."""
    return [n for _, n in _flows(tag)[flow].inbox if n.kind == kind][-1]


def _nbsp(dates: dict[str, str]) -> dict[str, str]:
    return {tag: text.replace(" ", "\u00a0") for tag, text in dates.items()}  # a date never breaks


# The flows' dates: the first charges fail on March 31, 2027 (09:00 UTC, an account in Paris); suspended on
# April 30 at 11:00 in Paris, so "pay by April 29"; deleted on July 29; the expiring card's last day, April 30.
PAY_BY = _nbsp(
    {"en-US": "April 29, 2027", "fr-FR": "29 avril 2027", "de-DE": "29. April 2027", "es-ES": "29 de abril de 2027"}
)
DELETED_ON = _nbsp(
    {"en-US": "July 29, 2027", "fr-FR": "29 juillet 2027", "de-DE": "29. Juli 2027", "es-ES": "29 de julio de 2027"}
)
EXPIRES = _nbsp(
    {"en-US": "April 30, 2027", "fr-FR": "30 avril 2027", "de-DE": "30. April 2027", "es-ES": "30 de abril de 2027"}
)
DEADLINES = {"payBy": PAY_BY, "deletion": DELETED_ON, "expiry": EXPIRES}
PAY = ("/pay-now/acct-1042", "/pay/acct-1042")  # pay the balance now, or with another card
KINDS = {  # kind -> (the configured portal pages its actions open, the deadlines it names)
    "payment_failed": (("/pay/acct-1042", "/pay-now/acct-1042"), ("payBy",)),  # another card; or the one on file
    "card_declined_for_good": (("/pay/acct-1042",), ("payBy",)),
    "confirm_payment": (("/confirm/acct-1042",), ("payBy",)),
    "invoice_overdue": (("/invoices/acct-1042",), ("payBy",)),
    "reminder": (PAY, ("payBy",)),
    "final_notice": (PAY, ("payBy", "deletion")),
    "service_cancelled": (PAY, ("deletion",)),
    "deletion_warning": (PAY, ("deletion",)),
    "data_deleted": (PAY, ()),  # money still owed
    "payment_received": ((), ()),
    "reactivated": (PAY, ()),  # the other subscription still owes
    "charge_written_off": (PAY, ()),
    "card_expiring": (("/pay/acct-1042",), ("expiry",)),
    "admin_email_changed": ((), ()),
    "admin_email_replaced": ((), ()),
}


def test_every_kind_is_read_here():
    assert sorted(KINDS) == sorted(NoticeKind)


# The table's "since" column is narrow (a phone is 360 px): the locale's medium date.
MARCH_31 = _nbsp({"en-US": "Mar 31, 2027", "fr-FR": "31 mars 2027", "de-DE": "31.03.2027", "es-ES": "31 mar 2027"})
TOTALS = {  # the flows' totals owed: both subscriptions (1,234.56 + 23.45), or one (49.99)
    125801: {
        "en-US": "€1,258.01",
        "fr-FR": "1\u202f258,01\u00a0€",
        "de-DE": "1.258,01\u00a0€",
        "es-ES": "1.258,01\u00a0€",
    },
    4999: {"en-US": "€49.99", "fr-FR": "49,99\u00a0€", "de-DE": "49,99\u00a0€", "es-ES": "49,99\u00a0€"},
}


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_notice_is_branded_signed_and_leads_to_its_page(kind, tag):
    flow, notice = _queued(tag)[kind]
    email = render(notice, BRAND)
    links, deadlines = KINDS[kind]
    code = notice.params.get("declineCode")
    for part in (email.text, email.html):
        assert "Contoso Cloud" in part and "help@contoso.example" in part and "Contoso Ltd, 1 Main Street" in part
        assert "(s)" not in part and (not code or code not in part), flow  # never a raw decline code
        found = set(re.findall(r"https://billing\.contoso\.example[^\s\"<]*", part))
        assert found == {f"https://billing.contoso.example{link}" for link in links}, (flow, found)  # those only
    assert 'lang="' + tag[:2] + '"' in email.html and 'name="viewport"' in email.html
    assert "{" not in email.text and "{" not in email.subject  # every placeholder was filled
    for deadline in deadlines:
        assert DEADLINES[deadline][tag] in email.text, (flow, deadline)
    # The small table of what is owed: each open charge, since when, and the total; none when nothing is.
    rows = notice.params.get("openCharges") or []
    title = catalog(tag[:2])["owed"]["title"]
    for part in (email.text, email.html):
        if rows:
            assert all(row["since"].startswith("2027-03-31") for row in rows), flow
            assert all(row["subscriptionName"] in part for row in rows) and MARCH_31[tag] in part, flow
            assert TOTALS[notice.params["balance"]["value"]][tag] in part and title in part, flow
        else:
            assert title not in part, flow
    assert bool(rows) == (
        kind not in ("payment_received", "card_expiring", "admin_email_changed", "admin_email_replaced")
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_french_puts_a_no_break_space_before_colons_and_question_marks(kind):
    email = render(_queued("fr-FR")[kind][1], BRAND)
    visible = re.sub(r"<[^>]+>", "", re.sub(r"<style>.*?</style>", "", email.html, flags=re.S))
    for part in (email.subject, email.text, visible):
        assert not re.search(r"(?:[^\S\u00a0\u202f]|\w)[:;?!](?:\s|$)", part), part
    assert "\u00a0:" in email.text  # the labels and lines that have a colon have it French-style


def test_a_receipt_says_what_it_paid_for_and_where_each_subscription_stands():
    """One payment for three subscriptions (paid-after-deletion: a new card, confirmed with the bank on
    August 1): Staging deleted that day, Test suspended, Production past due. And a transfer of more than was
    owed (transfer-after-deletion): the surplus kept as credit, and how to have it back."""
    email = render(_last("en-US", "paid-after-deletion", "payment_received"), BRAND)
    for part in (email.text, email.html):
        assert "This payment covers" in part and "“Production”: €49.99. The subscription is active." in part
        assert (
            "“Staging”: €23.45. This settles what was owed for it; its data was deleted on August\u00a01,\u00a02027"
            in part
        )
        assert "“Test”: €9.00. Paid, but still suspended" in part
        assert "What is owed" not in part  # nothing left open: no table
    overpaid = render(_last("en-US", "transfer-after-deletion", "payment_received"), BRAND)
    for part in (overpaid.text, overpaid.html):
        assert "The extra €1.56 you paid" in part  # 75.00 for 73.44 owed
        # The surplus kept as credit is offered back, and how.
        assert "we will refund it to the account it came from" in part and "help@contoso.example" in part
        assert "What is owed" not in part
    french = render(_last("fr-FR", "paid-after-deletion", "payment_received"), BRAND)
    assert "supprimées le 1er\u00a0août\u00a02027" in french.text  # the first of a month: "1er"


def test_invoice_payers_are_sent_to_the_transfer_details():
    email = render(_last("en-US", "invoice-never-paid", "reminder"), BRAND)
    assert "https://billing.contoso.example/invoices/acct-1042" in email.text
    assert "/pay/" not in email.text and "/pay-now/" not in email.text  # no card to pay with


def test_a_declined_card_reads_as_a_reason_and_fraud_signals_as_a_generic_one():
    stolen = _last("en-US", "hard-decline", "card_declined_for_good")
    assert stolen.params["declineCode"] == "stolen_card"
    assert "your bank declined the payment" in render(stolen, BRAND).text
    funds = _last("fr-FR", "funds-declined-for-good", "card_declined_for_good")
    assert funds.params["declineCode"] == "insufficient_funds"
    text = render(funds, BRAND).text
    assert "votre banque signale une provision insuffisante" in text and "insufficient" not in text


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
    from pastdue.notices.alerts import alerts

    never_paid = _flows("en-US")["never-paid"]  # both subscriptions deleted on July 29, never paid
    found = {a["subscriptionId"]: a for a in alerts(never_paid.account, POLICY, BRAND)}
    assert never_paid.account.subscriptions["sub-stage"].state == DELETED
    staging = found["sub-stage"]
    assert staging["kind"] == "deletedOwed" and staging["amount"] == {"value": 2345, "currency": "EUR"}
    email = render(_last("en-US", "never-paid", "data_deleted"), BRAND)
    assert "You still owe €1,258.01" in email.text
    # Deleted the day after everything was paid (that day's data deletion had failed): nothing is asked.
    paid = render(_last("en-US", "paid-after-deletion", "data_deleted"), BRAND)
    assert "still owe" not in paid.text


def test_a_transfer_receipt_names_the_deleted_subscription_it_paid_for_and_the_surplus_kept_as_credit():
    """transfer-after-deletion: Staging deleted on August 1 with 23.45 owed, Production's 49.99 past due; a
    transfer of 75.00 on August 2."""
    receipt = _last("en-US", "transfer-after-deletion", "payment_received")
    assert [(r["subscriptionName"], r["amount"]["value"], r["state"]) for r in receipt.params["paidFor"]] == [
        ("Staging", 2345, "deleted"),
        ("Production", 4999, "active"),
    ]
    assert receipt.params["credit"] == {"value": 156, "currency": "EUR"} and receipt.params["openCharges"] == []
    text = render(receipt, BRAND).text
    assert "its data was deleted on August\u00a01,\u00a02027 and cannot be restored" in text
    assert "The extra €1.56 you paid is kept as credit" in text
