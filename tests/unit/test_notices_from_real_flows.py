"""Every notice kind in every language, rendered from what the real domain queued (devhost/notice_flows.py),
never from hand-made parameters: no blank or zero amount where money is owed, no unfilled placeholder, no
doubled space, no sentence that starts with a bare number, and the dates a customer acts on."""

from __future__ import annotations

import re
from functools import cache

import pytest

from devhost.gallery import BRAND, LOCALES
from devhost.notice_flows import notices
from pastdue.notices.catalog import catalog
from pastdue.notices.formatting import date, money
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
        assert not re.search(r"\s[.,;:!?)]", line.replace("\u00a0", "").replace("\u202f", "")) \
            or tag.startswith("fr"), where  # a blank value before punctuation
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
    if kind in ("card_declined", "confirm_payment", "payment_failed", "reminder", "final_notice"):
        assert params.get("cancellationDate") and date(params["cancellationDate"], tag) in email.text, \
            f"{flow}/{kind}/{tag}: no date by which to act"


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
