"""Every notice kind in every language, rendered from what the real domain queued (devhost/notice_flows.py),
never from hand-made parameters: no blank or zero amount where money is owed, no unfilled placeholder, no
doubled space, no sentence that starts with a bare number, and the dates a customer acts on."""

from __future__ import annotations

import html as html_module
import re
from datetime import timedelta
from functools import cache

import pytest

from devhost.gallery import BRAND, LOCALES
from devhost.notice_flows import notices
from pastdue.domain.model import INVOICE
from pastdue.notices.catalog import catalog, colon
from pastdue.notices.formatting import date, local_day, money
from pastdue.notices.render import render

KINDS = sorted(catalog("en")["notices"])


@cache
def _queued(tag: str) -> dict:
    return notices(tag)


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_every_kind_is_reached_by_a_real_flow(tag):
    assert sorted(_queued(tag)) == KINDS


def _sentences(line: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", line.strip()) if s]


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
@pytest.mark.parametrize("kind", KINDS)
def test_what_a_customer_reads_is_whole(tag, kind):
    flow, notice = _queued(tag)[kind]
    email = render(notice, BRAND)
    lines = [email.subject] + [line for line in email.text.splitlines() if line.strip()]
    for line in lines:
        where = f"{flow}/{kind}/{tag}: {line!r}"
        assert not re.search(r"[{}]", line), where  # an unfilled placeholder
        assert not re.search(r"\S {2,}\S", line), where  # a doubled space (a blank value between two words)
        assert not re.search(r"\s[.,;:!?)]", line.replace("\u00a0", "").replace("\u202f", "")) or tag.startswith(
            "fr"
        ), where  # a blank value before punctuation
        assert not re.search(r"\s[.,)]", line), where
        assert "()" not in line and "( )" not in line, where
        for sentence in _sentences(line.lstrip("-• ")):
            assert not sentence[0].isdigit(), where  # "1 234,56 € ..." : never a sentence opening on a number
    params = notice.params
    balance = params.get("balance")
    if balance and balance["value"] > 0 and kind != "payment_received":
        assert money(balance, tag) in email.text, f"{flow}/{kind}/{tag}: the amount owed is not shown"
    zero = money({"value": 0, "currency": "EUR"}, tag)
    if balance and balance["value"] > 0:
        assert zero not in email.text, f"{flow}/{kind}/{tag}: a zero amount while money is owed"
    if kind in ("card_declined_for_good", "confirm_payment", "payment_failed", "reminder", "final_notice"):
        pay_by = date(local_day(params["cancellationDate"], params["timeZone"], before=True), tag)
        assert pay_by in email.text, f"{flow}/{kind}/{tag}: no date by which to pay"


ENDED = {"en": r"\bcancel", "fr": r"résili", "de": r"\bgekündigt\b|Kündigung", "es": r"\bcancela|\bcancelad"}


@pytest.mark.parametrize("lang, tag", sorted(LOCALES.items()))
def test_disabled_is_suspended_never_a_contract_ended(lang, tag):
    """A disabled subscription can be restored by paying: no notice or alert says the contract ended."""
    for kind, (flow, notice) in _queued(tag).items():
        email = render(notice, BRAND)
        for part in (email.subject, email.text):
            assert not re.search(ENDED[lang], part, re.IGNORECASE), f"{flow}/{kind}/{tag}: {part[:200]!r}"
    alerts = " ".join(str(v) for v in catalog(lang)["alerts"].values())
    assert not re.search(ENDED[lang], alerts, re.IGNORECASE)


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_the_final_notice_says_when_the_data_is_deleted(tag):
    flow, notice = _queued(tag)["final_notice"]
    deleted = notice.params["deletionDate"]
    assert deleted[:10] == "2027-07-29"  # suspended on April 30 (day 30), deleted 90 days later
    assert date(deleted, tag) in render(notice, BRAND).text


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_the_transfer_amount_is_the_total_of_what_is_owed(tag):
    """Two invoices overdue (1,234.56 and 23.45): the bank details ask for their total, the table's."""
    flow, notice = _queued(tag)["invoice_overdue"]
    email = render(notice, BRAND)
    total = money({"value": 123456 + 2345, "currency": "EUR"}, tag)
    label = catalog(tag[:2])["labels"]["amount"]
    amount_lines = [line for line in email.text.splitlines() if re.match(rf"{label}\W*:", line)]
    assert amount_lines and all(total in line for line in amount_lines), (amount_lines, total)
    assert email.text.count(catalog(tag[:2])["labels"]["reference"]) == 1  # one reference


PAST_DUE = ("reminder", "final_notice", "service_cancelled", "deletion_warning", "data_deleted")


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
@pytest.mark.parametrize("kind", PAST_DUE)
def test_past_due_notices_lead_with_a_button_that_pays_and_offer_another_card(tag, kind):
    flow, notice = _queued(tag)[kind]
    email = render(notice, BRAND)
    words = catalog(tag[:2])["actions"]
    pay = words["pay"].format(amount=_total(notice, tag))  # the whole balance: what the pay page takes
    html = email.html
    assert f'href="{BRAND.link("pay", "acct-1042")}"' in html and f">{pay}</a>" in html, (flow, pay)
    assert f'href="{BRAND.link("update_payment", "acct-1042")}"' in html and words["another_card"] in html
    assert html.index(pay) < html.index(words["another_card"])  # paying first, another card beside it
    assert words["card"] not in email.text


def _total(notice, tag):
    rows = notice.params["openCharges"]
    return money({"value": sum(r["amount"]["value"] for r in rows), "currency": "EUR"}, tag)


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
@pytest.mark.parametrize("kind", ["card_declined_for_good", "card_expiring"])
def test_where_a_new_card_is_the_only_way_that_is_the_action(tag, kind):
    email = render(_queued(tag)[kind][1], BRAND)
    words = catalog(tag[:2])["actions"]
    assert words["card"] in email.text and f'href="{BRAND.link("pay", "acct-1042")}"' not in email.html


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_invoice_payers_get_every_transfer_detail_a_qr_code_and_their_invoices(tag):
    flow, notice = _queued(tag)["invoice_overdue"]
    email = render(notice, BRAND)
    lang = tag[:2]
    for part in (email.text, email.html):
        assert BRAND.brand_name in part and "AGRIFRPP" in part and "INV-1042" in part
        assert catalog(lang)["transfer"]["safety"].format(phone=BRAND.support_phone) in html_module.unescape(part)
    assert "FR76 3000 6000 0112 3456 7890 189" in email.text
    spans = re.findall(r'<span style="white-space: nowrap;">(\w{1,4})</span>', email.html)
    assert "".join(spans) == "FR7630006000011234567890189"  # wraps between groups, never inside one
    # The QR code is an image attached inline (Gmail strips data: images), with its caption beside it.
    qr = re.search(r'<img src="cid:([^"]+)" alt="([^"]+)"', email.html)
    caption = catalog(lang)["transfer"]["qr"]
    assert qr and [i.content_id for i in email.inline] == [qr.group(1)] and email.inline[0].content_type == "image/png"
    assert html_module.unescape(qr.group(2)) == caption and f">{html_module.escape(caption)}</td>" in email.html
    assert "data:image/png" not in email.html
    assert catalog(lang)["actions"]["invoice"] in email.text
    assert BRAND.link("transfer_details", "acct-1042") in email.text


@pytest.mark.parametrize("kind", KINDS)
def test_notices_are_accessible_a_data_table_one_heading_and_no_repeated_logo_text(kind):
    from dataclasses import replace

    notice = _queued("en-US")[kind][1]
    html = render(notice, BRAND).html
    assert len(re.findall(r"<h1\b", html)) == 1 and not re.search(r"<h[2-6]\b", html)
    if 'class="owed"' in html:
        table = html[html.index('class="owed"') - 7 :]
        table = table[: table.index("</table>")]
        assert "presentation" not in table and table.count('scope="col"') == 3
    branded = render(notice, replace(BRAND, logo_url="https://contoso.example/logo.png")).html
    found = re.search(r"<h1[^>]*>(.*?)</h1>", branded, re.S)
    assert found is not None
    heading = found.group(1)
    assert 'alt="Contoso Cloud"' in heading and heading.count("Contoso Cloud") == 1  # the logo, not logo + text


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_a_changed_admin_address_is_told_to_the_old_address_too(tag):
    queued = _queued(tag)
    new, old = queued["admin_email_changed"][1], queued["admin_email_replaced"][1]
    assert (new.to, old.to) == ("grace.hopper@example.com", "ada@example.com")
    email = render(old, BRAND)
    assert BRAND.support_email is not None
    assert "grace.hopper@example.com" in email.text and BRAND.support_email in email.text


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_a_card_receipt_says_when_with_what_and_its_number_with_the_amount_in_the_subject(tag):
    flow, notice = _queued(tag)["payment_received"]
    email = render(notice, BRAND)
    amount = money(notice.params["amount"], tag)
    assert amount in email.subject
    assert date(notice.params["paidAt"], tag) in email.text
    assert "4444" in email.text and notice.params["receiptNumber"] in email.text
    assert re.fullmatch(r"R-[0-9A-F]{10}", notice.params["receiptNumber"])


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_a_partial_transfer_receipt_gives_its_reference_and_a_button_to_pay_the_rest(tag):
    from devhost.notice_flows import Flow, _account, _failed
    from pastdue.domain import events as ev
    from pastdue.domain.money import Money

    flow = Flow("partial-transfer", _account(tag))
    _failed(flow, "sub-prod", "ch-prod-1", 4999)
    _failed(flow, "sub-stage", "ch-stage-1", 1250)
    flow.apply(ev.PaymentReceived("evt-tr-1", Money(4999, "EUR"), "TR-2027-0042"))
    email = render(flow.notices["payment_received"], BRAND)
    assert "TR-2027-0042" in email.text and "4444" not in email.text and "0341" not in email.text
    rest = money({"value": 1250, "currency": "EUR"}, tag)
    assert catalog(tag[:2])["actions"]["pay"].format(amount=rest) in email.html  # the rest, payable now
    assert BRAND.link("pay", "acct-1042") in email.html


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_failure_and_reminder_notices_say_the_reason_the_next_retry_and_how_many_are_left(tag):
    from devhost.notice_flows import START, Flow, _account, _failed

    flow = Flow("retries", _account(tag))
    _failed(flow, "sub-prod", "ch-prod-1", 4999)
    first = render(flow.notices["payment_failed"], BRAND).text
    words = catalog(tag[:2])
    assert date((START + timedelta(days=1)).isoformat(), tag) in first  # the day-1 retry
    assert words["retries"]["other"].format(n=6).replace("6 ", "6\u00a0") in first
    assert words["reasons"]["generic"] in first
    for _ in range(3):
        flow.sweep()  # retries on days 1 and 3 declined; the day-3 reminder
    reminder = render(flow.notices["reminder"], BRAND).text
    assert date((START + timedelta(days=5)).isoformat(), tag) in reminder
    assert words["retries"]["other"].format(n=4).replace("4 ", "4\u00a0") in reminder
    hard = _queued(tag)["card_declined_for_good"][1]
    retry_line = words["notices"]["payment_failed"]["lines"][-1].split("{")[0]
    assert "nextRetryAt" not in hard.params and retry_line not in render(hard, BRAND).text  # no retry promised


@pytest.mark.parametrize(
    "tag, pay_by",
    [
        ("en-US", "April\u00a029,\u00a02027"),
        ("fr-FR", "29\u00a0avril\u00a02027"),
        ("de-DE", "29.\u00a0April\u00a02027"),
        ("es-ES", "29\u00a0de\u00a0abril\u00a0de\u00a02027"),
    ],
)
def test_the_deadline_is_the_last_full_day_before_the_suspension_in_the_accounts_time_zone(tag, pay_by):
    """Failed on March 31 at 09:00 UTC; suspended 30 days later, April 30 at 11:00 in Paris: pay by April 29."""
    flow, notice = _queued(tag)["final_notice"]
    assert notice.params["timeZone"] == "Europe/Paris" and notice.params["cancellationDate"].startswith("2027-04-30T09")
    email = render(notice, BRAND)
    assert pay_by.rsplit("\u00a0", 1)[0].removesuffix("\u00a0de").rstrip(",") in email.subject  # no year there
    assert pay_by in email.text


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_every_link_goes_where_its_text_says(tag):
    """A mailto link reads as its address, a web link as its URL or "Help centre"; the actions lead to the
    portal."""
    from pastdue.notices.render import REGIONAL

    words = {**catalog(tag[:2]), **REGIONAL.get(tag, {})}
    for kind, (_flow, notice) in _queued(tag).items():
        html = render(notice, BRAND).html
        links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
        for href, text in links:
            text = html_module.unescape(text.strip())
            if href.startswith("mailto:"):
                assert text == href.removeprefix("mailto:"), (kind, href, text)
            elif href == BRAND.support_url:
                assert text in (href, words["help"]), (kind, href, text)
            else:
                assert href.startswith(BRAND.portal_url + "/"), (kind, href)  # an action: the portal
            if re.fullmatch(r"\S+@\S+|https?://\S+", text):
                assert text in href, (kind, href, text)  # never one destination shown, another linked
        assert f'href="mailto:{BRAND.support_email}"' in html and f'href="{BRAND.support_url}"' in html


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_subjects_open_with_the_brand_and_fit_a_phone_in_60_characters(tag):
    for kind, (flow, notice) in _queued(tag).items():
        subject = render(notice, BRAND).subject
        assert subject.startswith(BRAND.brand_name), (kind, subject)
        assert len(subject) <= 60, (flow, kind, len(subject), subject)


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_a_card_is_a_card_never_a_credit_card(tag):
    """Debit cards fail too."""
    credit = {"en": "credit card", "fr": "carte de crédit", "de": "Kreditkarte", "es": "tarjeta de crédito"}[tag[:2]]
    for kind, (_flow, notice) in _queued(tag).items():
        email = render(notice, BRAND)
        assert credit not in email.subject + email.text, kind


def test_british_admins_get_british_dates():
    flow, notice = notices("en-GB")["final_notice"]
    email = render(notice, BRAND)
    assert (
        "29\u00a0April" in email.subject
        and "29\u00a0April\u00a02027" in email.text
        and "April\u00a029" not in email.text
    )


@pytest.mark.parametrize(
    "tag, name",
    [
        ("en-US", "\u201cStaging\u201d"),
        ("fr-FR", "\u00ab\u00a0Staging\u00a0\u00bb"),
        ("de-DE", "\u201eStaging\u201c"),
        ("es-ES", "\u00abStaging\u00bb"),
    ],
)
def test_subscription_names_stand_in_the_languages_quotation_marks(tag, name):
    email = render(_queued(tag)["payment_failed"][1], BRAND)
    assert name in email.text and name not in email.subject


@pytest.mark.parametrize("tag", sorted(LOCALES.values()))
def test_a_receipt_links_the_invoices_it_paid(tag):
    email = render(_queued(tag)["payment_received"][1], BRAND)
    for charge in ("ch-prod-1", "ch-stage-1"):
        url = f"https://portal.example.com/billing/acct-1042/invoices/{charge}"
        label = catalog(tag[:2])["owed"]["invoice"].format(number=charge)
        assert f"{label}{colon(tag[:2])} {url}" in email.text  # labelled in the plain text
        assert re.search(rf'<a [^>]*href="{re.escape(url)}"[^>]*>{re.escape(label)}</a>', email.html)  # no bare URL


def test_ids_stay_on_one_line_and_regions_keep_their_spelling():
    us, gb = render(_queued("en-US")["reminder"][1], BRAND), render(notices("en-GB")["reminder"][1], BRAND)
    assert '<span style="white-space: nowrap;">acct-1042</span>' in us.html
    assert ">Help center<" in us.html and ">Help centre<" in gb.html


def test_the_transfer_qr_code_asks_for_the_total_shown_even_past_the_tables_rows():
    """Twelve invoices overdue: the table shows ten rows and the whole balance; the QR code asks for that."""
    from devhost.notice_flows import Flow, _account, _failed
    from pastdue.notices.render import epc_qr

    flow = Flow("many-invoices", _account("en-US", mode=INVOICE))
    for n in range(12):
        _failed(flow, "sub-prod", f"inv-{n}", 1000, None)
    email = render(flow.notices["invoice_overdue"], BRAND)
    assert "Amount: €120.00" in email.text
    expected = epc_qr(
        BRAND.payee_name or BRAND.brand_name, "FR7630006000011234567890189", "AGRIFRPP", "INV-1042", 12000
    )
    assert expected is not None and [i.data for i in email.inline] == [expected.png]
