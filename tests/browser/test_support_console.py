"""The support console as a support agent uses it, in a real browser against a local host: resend a notice
the mail server refused, transfer an account's admin, pause and resume dunning; each action asks for a
reason and shows the history record it wrote, and each refusal is said in words. The portal's main screens
are photographed here too, at phone and desktop width, into the gallery (docs/gallery/portal/).

The host of this module sends its mail through a gate in front of maildev: an SMTP server that refuses the
recipients a test names (550, a permanent failure: the notice ends `failed`) and hands every other message
on to maildev, where tests read it as tests/e2e do."""

from __future__ import annotations

import html
import os
import re
import smtplib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from tests.browser.test_portal import sign_in
from tests.conftest import RUN_DIR
from tests.support.card_like import card_like, grouped
from tests.support.clients import SUPPORT_OID, Billing, Portal, Support
from tests.support.host_tools import HostTools
from tests.support.stack import free_port, start_host
from tests.support.waiting import until

ROOT = Path(__file__).resolve().parents[2]
# Where the portal's screenshots go: beside the notices `python -m devhost.gallery` writes.
GALLERY = Path(os.environ.get("PASTDUE_GALLERY") or ROOT / "docs" / "gallery") / "portal"
REASON = "Reason (kept in the history)"


class Gate:
    """SMTP in front of maildev: a recipient in `refused` gets 550 (mailbox unavailable); the rest is
    handed on to maildev unchanged."""

    def __init__(self, maildev_port: int):
        self.refused: set[str] = set()
        self.maildev_port = maildev_port
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address.lower() in self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        with smtplib.SMTP("127.0.0.1", self.maildev_port, timeout=10) as smtp:
            smtp.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.content)
        return "250 OK"


@pytest.fixture(scope="module")
def gate(standins):
    opened = Gate(standins.smtp_port)
    opened.controller.start()
    yield opened
    opened.controller.stop()


@pytest.fixture(scope="module")
def console_host(app_env, gate):
    """A local host of this module's own, on the tests' database, sending its mail through the gate."""
    process, base = start_host({**app_env, "SMTP_PORT": str(gate.controller.port)}, RUN_DIR / "host-console.log")
    yield base
    process.terminate()
    process.wait(10)


@pytest.fixture()
def tools(console_host, standins):
    helper = HostTools(console_host, standins.maildev_web_port)
    helper.set_clock(datetime.now(UTC).isoformat())
    return helper


def _past_due(host: str, mode: str = "card", admin: str | None = None) -> tuple[str, str]:
    """An account whose first charge failed, and its admin's e-mail address."""
    billing = Billing(host)
    account_id = f"con-{uuid.uuid4().hex[:10]}"
    token = "tok_chargeCustomerFail" if mode == "card" else None
    extra = {"admin_oid": admin} if admin else {}
    assert billing.account(account_id, mode=mode, token=token, **extra).status_code == 201
    assert billing.subscription(account_id, "sub-prod", name="Production").status_code == 201
    assert billing.charge_failed(account_id, "sub-prod", "INV-0001", 4999).status_code == 200
    return account_id, f"admin@{account_id}.example"


def _undelivered(host: str, gate: Gate, tools: HostTools) -> tuple[str, str, dict]:
    """An account whose payment_failed notice the mail server refused: it ended failed."""
    account_id = f"con-{uuid.uuid4().hex[:10]}"
    address = f"admin@{account_id}.example"
    gate.refused.add(address)
    assert _past_due_with_id(host, account_id)
    tools.settle()
    support = Support(host)

    def failed():
        listed = support.notices(account_id).json()["notices"]
        return next((n for n in listed if n["status"] == "failed"), None)

    notice = until(failed, 30)
    assert notice is not None, support.notices(account_id).text
    assert notice["resendable"] and "recipient refused" in notice["lastError"]
    return account_id, address, notice


def _past_due_with_id(host: str, account_id: str) -> bool:
    billing = Billing(host)
    return (
        billing.account(account_id, token="tok_chargeCustomerFail").status_code == 201
        and billing.subscription(account_id, "sub-prod", name="Production").status_code == 201
        and billing.charge_failed(account_id, "sub-prod", "INV-0001", 4999).status_code == 200
    )


def _open_as_support(page: Page, host: str, account_id: str) -> None:
    sign_in(page, host, SUPPORT_OID, roles=("Billing.Support",), start=f"/portal/support/{account_id}")
    expect(page.get_by_role("heading", name=f"Account {account_id}")).to_be_visible()


def _expect_record(page: Page, kind: str, reason: str) -> None:
    """The console shows the history record the action wrote: its kind, who, the reason and when."""
    record = page.locator("#audit-record")
    expect(record.locator(".audit-kind")).to_have_text(kind)
    expect(record.locator(".audit-reason")).to_have_text(reason)
    expect(record.locator(".audit-actor")).to_have_text(f"user:{SUPPORT_OID}")
    expect(record.locator(".audit-at time")).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT"))
    expect(page.locator("#support-result")).to_have_text("Done. The history records it.")


def _history(host: str, account_id: str) -> list[dict]:
    return Support(host).http.get(f"/api/accounts/{account_id}/history", params={"limit": 500}).json()["entries"]


def test_support_resends_a_notice_the_mail_server_refused(page, console_host, gate, tools):
    account_id, address, notice = _undelivered(console_host, gate, tools)
    assert tools.inbox(address) == []  # refused: nothing reached the mailbox
    gate.refused.discard(address)  # the customer's mailbox works again
    sign_in(page, console_host, SUPPORT_OID, roles=("Billing.Support",))
    page.get_by_label("Admin e-mail").fill(address)
    page.get_by_role("button", name="Search").press("Enter")
    page.get_by_role("link", name=f"Open {account_id}").click()
    listed = page.locator(f"li[data-notice='{notice['noticeId']}']")
    expect(listed.locator(".notice-status")).to_have_text("Not delivered")
    expect(listed).to_contain_text("recipient refused")
    listed.get_by_label(REASON).fill("mailbox fixed by the customer's IT")
    listed.get_by_role("button", name="Resend this notice (payment_failed)").click()
    _expect_record(page, "notice.resent", "mailbox fixed by the customer's IT")
    expect(page.locator("#support-outcome")).to_be_focused()
    # The SMTP catcher receives it this time: one message, the notice that had failed.
    received = tools.emails_arrived(address)
    assert [m["subject"] for m in received] == ["pastdue: Payment failed, €49.99 past due"]

    def notice_kinds():
        kinds = [e["kind"] for e in _history(console_host, account_id) if e["kind"].startswith("notice.")]
        return kinds if kinds[:1] == ["notice.sent"] else None  # its record follows the delivery

    kinds = until(notice_kinds) or []
    assert kinds[:3] == ["notice.sent", "notice.resent", "notice.failed"], kinds
    # Sent now, it offers no resend any more.
    page.reload()
    expect(listed.locator(".notice-status")).to_contain_text("Sent")
    expect(listed.get_by_role("button")).to_have_count(0)


def test_support_transfers_the_admin_and_the_new_admin_sees_the_account(browser, page, console_host):
    old_admin = f"00000000-0000-0000-0000-{uuid.uuid4().hex[:12]}"
    new_admin = f"00000000-0000-0000-0000-{uuid.uuid4().hex[:12]}"
    account_id, _ = _past_due(console_host, admin=old_admin)
    _open_as_support(page, console_host, account_id)
    form = page.locator("#transfer-form")
    expect(form).to_contain_text("The admin is now Ada Admin")
    form.get_by_label("New admin's object ID (Microsoft Entra ID)").fill(new_admin)
    form.get_by_label("New admin's name").fill("Bea Nouvel")
    form.get_by_label("New admin's e-mail address").fill("bea@example.com")
    form.get_by_label("Language of their notices").select_option("fr-FR")
    form.get_by_label(REASON).fill("Ada left the company; Bea is the new finance lead")
    form.get_by_role("button", name="Transfer the admin role").click()
    _expect_record(page, "admin.transferred", "Ada left the company; Bea is the new finance lead")
    expect(page.locator("#transfer-form")).to_contain_text("The admin is now Bea Nouvel (bea@example.com)")
    # The new admin signs in and finds the account under My accounts; the old one no longer may open it.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        theirs = context.new_page()
        sign_in(theirs, console_host, new_admin)
        expect(theirs.get_by_role("heading", name="My billing accounts")).to_be_visible()
        expect(theirs.get_by_role("link", name=account_id)).to_be_visible()
    finally:
        context.close()
    assert Portal(console_host, object_id=old_admin).account(account_id).status_code == 404


def test_support_pauses_then_resumes_dunning_and_sees_each_record(page, console_host):
    account_id, email = _past_due(console_host)
    _open_as_support(page, console_host, account_id)
    page.locator("#pause-form").get_by_label(REASON).fill("customer in hospital")
    page.locator("#pause-form").get_by_role("button", name="Pause dunning").click()
    _expect_record(page, "dunning.paused", "customer in hospital")
    assert Support(console_host).accounts(email=email).json()["accounts"][0]["dunningPausedUntil"]
    resume = page.locator("#resume-form")
    resume.get_by_label(REASON).fill("customer is back and pays this week")
    resume.get_by_role("button", name="Resume dunning").click()
    _expect_record(page, "dunning.resumed", "customer is back and pays this week")
    assert Support(console_host).accounts(email=email).json()["accounts"][0]["dunningPausedUntil"] is None
    # Resumed already: a second resume changes nothing, and the console says so instead of showing a record.
    resume = page.locator("#resume-form")
    resume.get_by_label(REASON).fill("double-check")
    resume.get_by_role("button", name="Resume dunning").click()
    expect(page.locator("#support-result")).to_have_text(
        "Dunning was not paused, so nothing changed and nothing was recorded."
    )
    expect(page.locator("#audit-record")).to_be_empty()
    assert [e["kind"] for e in _history(console_host, account_id)].count("dunning.resumed") == 1


def test_refusals_are_said_in_words(page, console_host, gate, tools):
    account_id, address, notice = _undelivered(console_host, gate, tools)
    gate.refused.discard(address)
    _open_as_support(page, console_host, account_id)
    before = len(_history(console_host, account_id))
    # A reason of blanks only passes the browser's `required` but not the API: said in words, nothing written.
    resume = page.locator("#resume-form")
    resume.get_by_label(REASON).fill("   ")
    resume.get_by_role("button", name="Resume dunning").click()
    expect(resume.get_by_role("alert")).to_have_text("Please give a reason: the history keeps it with your name.")
    expect(resume.get_by_label(REASON)).to_be_focused()
    transfer = page.locator("#transfer-form")
    transfer.get_by_label("New admin's object ID (Microsoft Entra ID)").fill(f"00000000-0000-0000-0000-{'b' * 12}")
    transfer.get_by_label("New admin's name").fill(f"Bea {grouped(card_like())}")  # a card number, pasted by mistake
    transfer.get_by_label("New admin's e-mail address").fill("bea@example.com")
    transfer.get_by_label(REASON).fill("Ada left")
    transfer.get_by_role("button", name="Transfer the admin role").click()
    expect(transfer.get_by_role("alert")).to_have_text("Please check the new admin's name.")
    # Another agent resends the notice meanwhile: this page's Resend is refused (409), in words.
    assert Support(console_host).resend(account_id, notice["noticeId"], "resent by a colleague").status_code == 200
    listed = page.locator(f"li[data-notice='{notice['noticeId']}']")
    listed.get_by_label(REASON).fill("customer asked again")
    listed.get_by_role("button", name="Resend this notice (payment_failed)").click()
    expect(listed.get_by_role("alert")).to_have_text(
        "This notice cannot be resent: only a notice that could not be delivered can be sent again, "
        "and this one has been sent or queued since."
    )
    expect(page.locator("body")).not_to_contain_text('"type"')  # never the problem's JSON
    kinds = [e["kind"] for e in _history(console_host, account_id)]
    assert kinds.count("notice.resent") == 1 and "admin.transferred" not in kinds and "dunning.resumed" not in kinds
    assert len(kinds) >= before + 1


WIDTHS = {"phone": 390, "desktop": 1280}


def _shoot(browser, host: str, name: str, user: str, path: str, ready, roles: tuple[str, ...] = ()) -> None:
    """The screen at `path`, signed in as `user`, at each width: full-page PNGs into the gallery. On a phone
    nothing but the tables' scrolling boxes may be wider than the screen."""
    GALLERY.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
        try:
            page = context.new_page()
            sign_in(page, host, user, roles=roles, start=path)
            ready(page)
            wider = page.evaluate(
                """[...document.querySelectorAll('body *')]
                     .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest('.scroll'))
                     .map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)"""
            )
            assert wider == [], f"{name} is wider than {width} px"
            page.screenshot(path=str(GALLERY / f"portal-{name}.{label}.png"), full_page=True)
        finally:
            context.close()


def _gallery_page() -> None:
    """docs/gallery/portal/index.html: every portal screenshot there, phone beside desktop."""
    rows = []
    for phone in sorted(GALLERY.glob("portal-*.phone.png")):
        name = phone.name.removeprefix("portal-").removesuffix(".phone.png")
        desktop = phone.with_name(f"portal-{name}.desktop.png")
        cells = "".join(
            f"<td><a href='{html.escape(p.name)}'><img src='{html.escape(p.name)}' alt='{html.escape(name)}, {w}'"
            f" style='width: {'240' if w == 'phone' else '640'}px; border: 1px solid #ccc'></a></td>"
            for p, w in ((phone, "phone"), (desktop, "desktop"))
            if p.exists()
        )
        rows.append(f"<tr style='vertical-align: top'><th>{html.escape(name)}</th>{cells}</tr>")
    (GALLERY / "index.html").write_text(
        "<!DOCTYPE html><html lang='en'><meta charset='utf-8'><title>pastdue portal screens</title>"
        "<body style='font-family: sans-serif'><h1>The portal's screens, 390 px and 1280 px wide</h1>"
        "<p><a href='../index.html'>Notices</a>. Taken by tests/browser/test_support_console.py from a local "
        "host with accounts made through the API, as the browser tests make them.</p>"
        f"<table cellpadding='8'>{''.join(rows)}</table></body></html>",
        encoding="utf-8",
    )


def test_the_main_screens_fit_a_phone_and_a_desktop_and_go_to_the_gallery(browser, console_host):
    admin = f"00000000-0000-0000-0000-{uuid.uuid4().hex[:12]}"
    card, _ = _past_due(console_host, admin=admin)
    invoice, _ = _past_due(console_host, mode="invoice", admin=admin)

    def account_ready(page: Page) -> None:
        expect(page.locator("#banner")).to_contain_text("Payment past due: €49.99")
        expect(page.locator("#owed table tbody tr")).to_have_count(1)

    def transfer_ready(page: Page) -> None:
        expect(page.locator("#iban")).to_have_text("FR76 3000 6000 0112 3456 7890 189")
        expect(page.locator("#epc-qr")).to_have_js_property("complete", True)

    def console_ready(page: Page) -> None:
        expect(page.locator("#notices-list li").first).to_be_visible()
        expect(page.locator("#transfer-form")).to_be_visible()

    _shoot(browser, console_host, "account-past-due", admin, f"/portal/billing/{card}", account_ready)
    _shoot(browser, console_host, "invoice-transfer", admin, f"/portal/billing/{invoice}", transfer_ready)
    _shoot(
        browser,
        console_host,
        "support-console",
        SUPPORT_OID,
        f"/portal/support/{card}",
        console_ready,
        roles=("Billing.Support",),
    )
    _gallery_page()
    shots = sorted(p.name for p in GALLERY.glob("portal-*.png"))
    for name in ("account-past-due", "invoice-transfer", "support-console"):
        assert f"portal-{name}.phone.png" in shots and f"portal-{name}.desktop.png" in shots
