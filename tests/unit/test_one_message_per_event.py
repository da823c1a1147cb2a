"""The inbox a customer receives, read as a whole (issue 36, "Must not mislead"): every message each real flow
sends (devhost/notice_flows.py: the real domain, its notices sent as production sends them), rendered as the
customer reads it. One message per account per event; a message that replaces an earlier one says so; what
is no longer true when its turn comes is withdrawn; receipts of one day waiting together become one."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from datetime import date as Date
from datetime import timedelta
from functools import cache

import pytest

from devhost.gallery import BRAND, LOCALES
from devhost.notice_flows import Flow, flows
from pastdue.adapters.memory import MemoryQuota, MemorySender
from pastdue.domain import events as ev
from pastdue.domain.model import INVOICE, QUEUED, SENT, WITHDRAWN, NoticeKind
from pastdue.domain.money import Money
from pastdue.notices.catalog import catalog
from pastdue.notices.formatting import money
from pastdue.notices.message import Email
from pastdue.notices.render import _business_day_before, render
from pastdue.services.billing import record_event
from pastdue.services.notices import drain_account, drain_all
from tests.support.stored import stored
from tests.unit.builders import T0, account, clock_of
from tests.unit.test_use_cases_in_memory import world

TAGS = sorted(LOCALES.values())


@cache
def _flows(tag: str) -> dict[str, Flow]:
    return {flow.name: flow for flow in flows(tag)}


def _inbox(tag: str, name: str) -> list[tuple[str, Email]]:
    """(event, e-mail) for every message the flow sent, in order."""
    return [(event, render(notice, BRAND)) for event, notice in _flows(tag)[name].inbox]


def _amounts(text: str) -> set[str]:
    return set(re.findall(r"(?:€\s?[\d.,\u202f\u00a0]+\d|\d[\d.,\u202f\u00a0]*\d\u00a0€)", text))


@pytest.mark.parametrize("tag", TAGS)
def test_no_flow_delivers_two_messages_for_one_event(tag):
    """Each event (a webhook, a portal call, a day's sweep with its retries and purges) sends at most one
    message to each address."""
    for name, flow in _flows(tag).items():
        sent = Counter((event, notice.to) for event, notice in flow.inbox)
        assert sent and max(sent.values()) == 1, (name, [k for k, n in sent.items() if n > 1])


@pytest.mark.parametrize("tag", TAGS)
def test_two_subscriptions_never_paid_get_one_message_per_event_with_the_account_total(tag):
    inbox = [(event, notice) for event, notice in _flows(tag)["never-paid"].inbox]
    kinds = [notice.kind for _, notice in inbox]
    assert kinds[:8] == ["payment_failed"] * 2 + ["reminder"] * 4 + ["final_notice", "service_cancelled"]
    assert kinds[8:] == ["deletion_warning"] * 3 + ["data_deleted"]
    total = money({"value": 125801, "currency": "EUR"}, tag)
    words = catalog(tag[:2])
    for event, notice in inbox[1:]:  # from the second failure on, both subscriptions are owed
        email = render(notice, BRAND)
        paragraphs = email.text.split("\n\n")
        first = paragraphs[2]  # brand, greeting, then the first line
        # (what data was deleted comes first; what is still owed right after it)
        assert total in (first + paragraphs[3] if notice.kind == "data_deleted" else first), (event, first)
        if notice.kind not in ("deletion_warning", "data_deleted"):  # (these lead with the date instead)
            assert total in email.subject, (event, email.subject)
        if notice.kind != "payment_failed":  # (a failure names the subscription that failed; its table both)
            assert "Production" in first and "Staging" in first, (event, first)
        rows = [line for line in email.text.splitlines() if line.startswith("- ")]
        assert [r.split(",")[0] for r in rows[:2]] == ["- Production", "- Staging"], (event, rows)
        if notice.kind in ("service_cancelled", "deletion_warning"):  # each row: its own state and deadline
            keep = words["owed"]["state"]["disabled"].split("{")[0]
            assert all(keep in r for r in rows[:2]), rows


@pytest.mark.parametrize("tag", TAGS)
def test_subscriptions_at_different_steps_on_one_day_get_one_message_each_row_with_its_own_deadline(tag):
    """Production reaches its final notice the day Staging (failed a week later) reaches a reminder."""
    flow = _flows(tag)["staggered"]
    (day_28,) = [notice for event, notice in flow.inbox if event.endswith("2027-04-28")]
    assert day_28.kind == "final_notice"
    text = render(day_28, BRAND).text
    state = catalog(tag[:2])["owed"]["state"]["pastDue"]
    from pastdue.notices.formatting import date

    for name, suspended in (("Production", Date(2027, 4, 29)), ("Staging", Date(2027, 5, 6))):
        (row,) = [line for line in text.splitlines() if line.startswith(f"- {name}")]
        assert state.format(date=date(suspended, tag)) in row, row


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("name", ["never-paid", "invoice-payer"])
def test_a_message_that_replaces_an_earlier_one_says_so_and_asks_for_the_total_once(tag, name):
    """The second subscription's failure comes after the first one's message went: the second message says
    which message it replaces and what that one asked for; invoice payers are never asked two amounts."""
    (first, second) = [notice for _, notice in _flows(tag)[name].inbox[:2]]
    words = catalog(tag[:2])
    earlier, total = money({"value": 123456, "currency": "EUR"}, tag), money({"value": 125801, "currency": "EUR"}, tag)
    assert "replaces" not in first.params and second.params["replaces"]["amount"]["value"] == 123456
    text = render(second, BRAND).text
    lead = words["replaces"].split("{")[0]
    (line,) = [line for line in text.split("\n\n") if line.startswith(lead)]
    assert earlier in line and total in line
    if name == "invoice-payer":
        label = words["labels"]["amount"]
        assert [ln for ln in text.splitlines() if ln.startswith(label + _colon(tag))] == [
            f"{label}{_colon(tag)} {total}"
        ]


def _colon(tag: str) -> str:
    from pastdue.notices.catalog import colon

    return colon(tag[:2])


@pytest.mark.parametrize("tag", TAGS)
def test_invoice_payers_are_asked_one_amount_per_message_and_offered_their_credit_back(tag):
    for name in (
        "invoice-payer",
        "transfer-partial",
        "transfer-exact",
        "transfer-overpaid",
        "paid-one-still-suspended",
        "invoice-never-paid",
        "transfer-after-deletion",
    ):
        words = catalog(tag[:2])
        for event, email in _inbox(tag, name):
            heads = (words["owed"]["total"] + _colon(tag), words["labels"]["amount"] + _colon(tag))
            owed = [ln for ln in email.text.splitlines() if ln.startswith(heads)]
            if words["notices"]["payment_received"]["subject"].split("{")[0] not in email.subject:
                owed.append(email.subject)  # (a receipt's subject is what was paid, not asked)
            asked = _amounts("\n".join(owed))
            if email.inline:  # bank details: the amount beside them is the table's total and the subject's
                assert len(asked) == 1, (name, event, asked)
    receipt = [
        e
        for _, e in _inbox(tag, "transfer-overpaid")
        if e.subject.count(money({"value": 130000, "currency": "EUR"}, tag))
    ]
    assert len(receipt) == 1
    credit = money({"value": 130000 - 125801, "currency": "EUR"}, tag)
    refund = catalog(tag[:2])["refund"].split("{")[0]
    assert BRAND.support_email is not None
    assert credit in receipt[0].text and refund in receipt[0].text and BRAND.support_email in receipt[0].text
    if tag.startswith("de"):
        for flow in _flows(tag).values():
            for _, notice in flow.inbox:
                assert "Abbuchung" not in render(notice, BRAND).text


@pytest.mark.parametrize("tag", TAGS)
def test_whatever_is_still_owed_comes_with_what_by_when_and_the_pay_action(tag):
    """A write-off of one subscription and its reactivation, while the other is still suspended."""
    words = catalog(tag[:2])
    inbox = {notice.kind: notice for _, notice in _flows(tag)["write-off-then-reactivate"].inbox}
    pay = words["actions"]["pay"].format(amount=money({"value": 4999, "currency": "EUR"}, tag))
    for kind in (NoticeKind.CHARGE_WRITTEN_OFF, NoticeKind.REACTIVATED):
        email = render(inbox[kind], BRAND)
        (row,) = [ln for ln in email.text.splitlines() if ln.startswith("- Production")]
        assert words["owed"]["state"]["disabled"].split("{")[0] in row and "2027" in row  # its state, its date
        assert f">{html.escape(pay)}</a>" in email.html and BRAND.link("pay", "acct-1042") in email.html


@pytest.mark.parametrize("tag", TAGS)
def test_a_payment_that_brings_one_subscription_back_says_what_is_still_suspended_and_until_when(tag):
    """Both subscriptions suspended; the invoice payer pays Production's invoice only. The receipt says
    Production is active again, Staging still suspended with the date to pay by to keep its data, and asks
    for exactly what is left, with the bank details and a QR code for that amount."""
    words = catalog(tag[:2])
    event, receipt = _flows(tag)["paid-one-still-suspended"].inbox[-1]
    assert event.split()[1] == "PaymentReceived" and receipt.kind == "payment_received"
    email = render(receipt, BRAND)
    left = money({"value": 2345, "currency": "EUR"}, tag)
    assert money({"value": 123456, "currency": "EUR"}, tag) in email.subject
    lines = email.text.splitlines()
    (covered,) = [ln for ln in lines if ln.startswith("- ") and "Production" in ln]  # what it paid, not owed
    assert money({"value": 123456, "currency": "EUR"}, tag) in covered
    (staging,) = [ln for ln in lines if ln.startswith("- Staging")]
    from pastdue.notices.formatting import date

    keep = words["owed"]["state"]["disabled"].format(date=date(Date(2027, 7, 28), tag))
    assert keep in staging and left in staging, staging
    labels = words["labels"]
    assert f"{labels['amount']}{_colon(tag)} {left}" in lines and len(email.inline) == 1  # one QR, for what is left
    assert f"{labels['payee']}{_colon(tag)} Contoso Cloud Ltd" in lines  # the legal name, as in the footer


@pytest.mark.parametrize(
    "tag, subject, body",
    [
        ("en-US", "by April\u00a029", "by April\u00a029,\u00a02027"),
        ("fr-FR", "au plus tard le 29\u00a0avril", "au plus tard le 29\u00a0avril\u00a02027"),
        ("de-DE", "bis zum 29.\u00a0April", "bis zum 29.\u00a0April\u00a02027"),
        ("es-ES", "a más tardar el 29\u00a0de\u00a0abril", "a más tardar el 29\u00a0de\u00a0abril\u00a0de\u00a02027"),
    ],
)
def test_the_final_notice_names_one_date_to_act_by_in_subject_and_body(tag, subject, body):
    (final,) = [n for _, n in _flows(tag)["never-paid"].inbox if n.kind == "final_notice"]
    email = render(final, BRAND)
    assert subject in email.subject and body in email.text
    assert "avant le" not in email.subject  # "before the 29th" would be a day earlier


@pytest.mark.parametrize("tag", TAGS)
def test_a_transfer_must_reach_us_by_the_deadline_and_leave_a_business_day_before(tag):
    from pastdue.notices.formatting import date

    (first, *_) = [n for _, n in _flows(tag)["invoice-payer"].inbox]
    text = render(first, BRAND).text
    deadline = catalog(tag[:2])["deadline"]["transfer"]
    expected = deadline.format(payByDate=date(Date(2027, 4, 29), tag), sendByDate=date(Date(2027, 4, 28), tag))
    assert expected in text
    assert _business_day_before(Date(2027, 5, 3)) == Date(2027, 4, 30)  # a Monday: the Friday before


@pytest.mark.parametrize("tag", TAGS)
def test_a_card_declined_for_good_says_it_is_not_tried_again_and_a_new_card_is_charged_at_once(tag):
    (declined,) = [n for _, n in _flows(tag)["hard-decline"].inbox if n.kind == "card_declined_for_good"]
    text = render(declined, BRAND).text
    lines = catalog(tag[:2])["notices"]["card_declined_for_good"]["lines"]
    never_again = lines[0].rsplit(". ", 1)[-1]  # "We will not try this card again."
    assert never_again in text and lines[1].split("{")[0] in text
    assert {
        "en": "not be charged",
        "fr": "ne sera plus débitée",
        "de": "nicht erneut belastet.",
        "es": "no se volverá a cobrar",
    }[tag[:2]] not in text


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("kind", ["service_cancelled", "deletion_warning"])
def test_the_amount_in_a_sentence_is_the_amount_on_the_button(tag, kind):
    notice = [n for _, n in _flows(tag)["never-paid"].inbox if n.kind == kind][-1]
    email = render(notice, BRAND)
    button = re.search(r'class="button"[^>]*>([^<]+)</a>', email.html)
    assert button
    (on_button,) = _amounts(html.unescape(button.group(1)))
    lines = email.text.split("\n\n")[2:4]
    assert _amounts(" ".join(lines)) == {on_button}, lines


@pytest.mark.parametrize("tag", TAGS)
def test_the_authentication_notice_says_confirm_by_not_pay_by(tag):
    (confirm,) = [n for _, n in _flows(tag)["authentication"].inbox if n.kind == "confirm_payment"]
    text = render(confirm, BRAND).text
    words = catalog(tag[:2])
    assert words["owed"]["state"]["confirm"].split("{")[0] in text
    assert words["deadline"]["confirm"].split("{")[0] in text
    assert words["owed"]["state"]["pastDue"].split("{")[0] not in text


def _size(store, account_id: str) -> int:
    """The stored document's bytes, as the real encoder (adapters/documents.py) wrote it."""
    doc = store.documents[account_id]
    return len(json.dumps({k: v for k, v in doc.items() if not k.startswith("_")}, separators=(",", ":")))


def test_a_burst_of_300_invoices_paid_the_same_day_while_the_quota_holds_sends_one_receipt_and_stays_small():
    """An invoice payer whose 300 invoices each fail and are paid by transfer within one day, while the e-mail
    quota holds every notice back: nothing untrue waits (the overdue notices of paid invoices are withdrawn,
    recorded in the history), the receipts of the day wait as one, and the document stays under 64 KB."""
    deps, store, _ = world()
    store.create(account(mode=INVOICE))
    sender, sizes, spent = MemorySender(), [], MemoryQuota(per_minute=0, per_hour=0)
    for n in range(300):
        clock_of(deps).at = T0 + timedelta(minutes=2 * n)
        charge = ev.ChargeFailed(f"evt-f{n}", "sub-0", f"inv-{n:03d}", Money(1000 + n, "EUR"), None, deps.clock.now())
        assert record_event(deps, "acct-1", charge) == "processed"
        drain_account(deps, sender, spent, "acct-1")  # the quota grants nothing: it all waits
        clock_of(deps).at += timedelta(minutes=1)
        paid = ev.PaymentReceived(f"evt-t{n}", Money(1000 + n, "EUR"), f"VIR-{n:03d}")
        assert record_event(deps, "acct-1", paid) == "processed"
        drain_account(deps, sender, spent, "acct-1")
        sizes.append(_size(store, "acct-1"))
    waiting = [n for n in stored(store, "acct-1").outbox if n.status == QUEUED]
    assert [n.kind for n in waiting] == ["payment_received"] and not sender.sent
    assert max(sizes) <= 64 * 1024, max(sizes)
    drain_all(deps, sender, MemoryQuota())
    (receipt,) = sender.sent
    total = sum(1000 + n for n in range(300))
    assert money({"value": total, "currency": "EUR"}, "en-US") in receipt.subject
    assert "VIR-000, VIR-001" in receipt.text and "VIR-009 (+290)" in receipt.text  # the first ten, and how many more
    withdrawn = [
        r["detail"]
        for r in [*store.records["acct-1"].values(), *stored(store, "acct-1").history]
        if r["kind"] == "notice.withdrawn"
    ]
    reasons = Counter((w["notice"], w["reason"]) for w in withdrawn)
    assert reasons == {("invoice_overdue", "paid"): 300, ("payment_received", "merged"): 299}, reasons
    statuses = Counter(n.status for n in stored(store, "acct-1").outbox)
    assert statuses[SENT] == 1 and set(statuses) <= {SENT, WITHDRAWN}
    print(f"burst: largest document {max(sizes)} bytes, last {sizes[-1]} bytes")


def test_smtp_sends_the_qr_code_as_a_related_image_the_html_names_and_replies_go_to_support():
    """The MIME message as the SMTP sender builds it: Reply-To the support address (the sender stays the
    no-reply one), the HTML in multipart/related with the PNG its `cid:` names, and that PNG a QR code."""
    import io

    import zxingcpp
    from PIL import Image

    from pastdue.adapters.smtp_sender import SmtpSender

    sent = []

    class Connection:
        def send_message(self, message):
            sent.append(message)

    sender = SmtpSender("DoNotReply@contoso.example", "localhost", 25)
    # Connection stands in for smtplib.SMTP (the one method send uses), deliberately not of its type.
    sender._connection = lambda reuse: Connection()  # type: ignore[method-assign, return-value, assignment]
    (notice, *_) = [n for _, n in _flows("en-US")["invoice-payer"].inbox]
    sender.send(render(notice, BRAND))
    (message,) = sent
    assert message["Reply-To"] == BRAND.support_email and message["From"] == "DoNotReply@contoso.example"
    related = next(p for p in message.walk() if p.get_content_type() == "multipart/related")
    html_part, image = related.get_payload()
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content() and image.get_content_type() == "image/png"
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.get_content())))
    assert code.text.split("\n")[6:8] == ["FR7630006000011234567890189", "EUR1234.56"]


def _luminance(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_link_and_button_keeps_a_contrast_of_4_5_in_dark_mode():
    """The dark-mode style of a real notice: every link (the secondary action, invoices, the footer) and the
    button read at 4.5:1 or more against what is behind them (WCAG AA)."""
    (notice,) = [n for _, n in _flows("en-US")["paid-after-disable"].inbox if n.kind == "service_cancelled"]
    html_text = render(notice, BRAND).html
    dark = html_text[html_text.index("prefers-color-scheme: dark") : html_text.index("</style>")]
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", dark.split("{", 1)[1]))
    colors = {
        sel.strip(): dict(re.findall(r"(background|color):\s*(#[0-9a-f]{6})", body)) for sel, body in rules.items()
    }
    page = colors["body, .page"]["background"]
    assert 'class="link"' in html_text and 'class="button"' in html_text  # the rules below apply to this notice
    assert _contrast(colors[".link"]["color"], page) >= 4.5
    assert _contrast(colors[".muted, .muted a"]["color"], page) >= 4.5
    assert _contrast(colors[".button"]["color"], colors[".button"]["background"]) >= 4.5
    assert _contrast("#0f6cbd", "#ffffff") >= 4.5  # the light style's links and button


def test_the_gallery_shows_each_flows_inbox_in_order_with_the_plain_text_beside_the_html(tmp_path):
    from devhost.gallery import build

    pages = build(tmp_path)
    flow = _flows("en-US")["never-paid"]
    inbox = (tmp_path / "never-paid.en.html").read_text(encoding="utf-8")
    subjects = [html.unescape(s) for s in re.findall(r"<h3>\d+\. (.*?)</h3>", inbox)]
    assert subjects == [render(n, BRAND).subject for _, n in flow.inbox]  # every message, in order
    assert inbox.count("<iframe") == inbox.count("<pre") == len(flow.inbox)  # the plain text beside each
    for name in ("transfer-partial", "transfer-exact", "transfer-overpaid", "invoice-never-paid"):
        assert (tmp_path / f"{name}.de.html").exists()
    qr = [p for p in pages if "invoice-payer.fr" in p.name][0].read_text(encoding="utf-8")
    assert re.search(r'src="invoice-payer\.fr\.01-invoice_overdue\.epc-qr\.png"', qr)  # shown from its file
    assert (tmp_path / "invoice-payer.fr.01-invoice_overdue.epc-qr.png").read_bytes().startswith(b"\x89PNG")
