"""The reference portal as a person uses it, in a real browser against the local host: sign in, the banner
and the owed table, paying, a decline in words, an invoice payer's transfer details, reactivation, and a
payment that happens once however often Pay is pressed."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import RUN_DIR
from tests.support.clients import Billing, Portal, Support
from tests.support.faulty_deps import taken


@pytest.fixture()
def admin():
    """An admin of their own for each test: their portal lists only the accounts the test made."""
    return f"00000000-0000-0000-0000-{uuid.uuid4().hex[:12]}"


def _past_due(host: str, admin: str, mode: str = "card", value: int = 12345) -> str:
    billing = Billing(host)
    account_id = f"web-{uuid.uuid4().hex[:10]}"
    token = "tok_chargeCustomerFail" if mode == "card" else None
    assert billing.account(account_id, mode=mode, token=token, admin_oid=admin).status_code == 201
    assert billing.subscription(account_id, "sub-prod", name="Production").status_code == 201
    assert billing.charge_failed(account_id, "sub-prod", "INV-0001", value).status_code == 200
    return account_id


def sign_in(page: Page, host: str, admin: str, roles: tuple[str, ...] = (), start: str = "/portal/") -> None:
    page.goto(host + start)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Object id").fill(admin)
    page.get_by_label("Name", exact=True).fill("Ada Admin")
    if roles:
        page.get_by_label("Support role (Billing.Support)").check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def open_account(page: Page, host: str, admin: str, account_id: str) -> None:
    sign_in(page, host, admin)
    page.get_by_role("link", name=account_id).click()
    expect(page.get_by_role("heading", name=f"Account {account_id}")).to_be_visible()


def test_signing_in_shows_my_accounts_the_banner_alerts_and_what_is_owed(page, host, admin):
    account_id = _past_due(host, admin)
    page.goto(f"{host}/portal/billing/{account_id}")
    expect(page).to_have_url(re.compile(r"/portal/signin$"))  # nobody signed in yet
    assert page.evaluate("document.documentElement.lang") == "en"
    sign_in(page, host, admin, start="/portal/signin")
    # Back where the person was going, with the account's screen.
    expect(page).to_have_url(re.compile(f"/portal/billing/{account_id}$"))
    banner = page.locator("#banner")
    expect(banner).to_contain_text("Payment past due: €123.45")
    expect(banner).to_contain_text("Pay by")
    expect(banner).to_contain_text("“Production” will be disabled")
    alert = page.locator("#alerts li[data-kind=pastDue]")
    expect(alert).to_contain_text("€123.45")
    # The alert's link is the portal page that clears it (PORTAL_BASE_URL defaults to the portal `make run` serves).
    expect(alert.get_by_role("link")).to_have_attribute(
        "href", f"http://localhost:7071/portal/billing/{account_id}/payment-method"
    )
    table = page.locator("#owed table")
    expect(table.locator("tbody tr")).to_have_count(1)
    row = table.locator("tbody tr").first
    expect(row.locator("th")).to_have_text("Production")
    expect(row.locator("td").nth(1)).to_have_text("€123.45")
    expect(row.locator("td").nth(2)).to_contain_text(re.compile(r"\(\d+ left\)"))
    expect(page.locator("#owed-total")).to_have_text("€123.45")
    # That page, opened here, is the account with its payment form in view.
    page.goto(f"{host}/portal/billing/{account_id}/payment-method")
    expect(page.get_by_role("heading", name="Pay now")).to_be_focused()
    # My accounts lists it, with what it owes.
    page.get_by_role("link", name="All my accounts").click()
    expect(page.get_by_role("link", name=account_id)).to_be_visible()
    expect(page.locator(".tiles li")).to_contain_text("€123.45")


def test_paying_with_a_good_card_settles_everything(page, host, admin):
    account_id = _past_due(host, admin)
    open_account(page, host, admin, account_id)
    page.get_by_label("Card").select_option("tok_visa")
    page.get_by_role("button", name="Pay €123.45").click()
    expect(page.locator("#pay-result")).to_have_text("Paid €123.45. Thank you.")
    expect(page.locator("#banner")).to_have_text("Nothing is owed on this account.")
    expect(page.locator("#pay-now")).to_contain_text("visa ending 4242")
    assert taken(account_id) == (1, 12345)
    assert Portal(host, object_id=admin).account(account_id).json()["balance"]["value"] == 0


def test_a_declined_card_is_explained_in_words_and_nothing_changes(page, host, admin):
    account_id = _past_due(host, admin)
    open_account(page, host, admin, account_id)
    page.get_by_label("Card").select_option("tok_chargeDeclinedInsufficientFunds")
    page.get_by_role("button", name="Pay €123.45").click()
    message = page.get_by_role("alert")
    expect(message).to_have_text(
        "Your bank declined this card: insufficient funds. Nothing was charged; try another card."
    )
    expect(page.locator("#banner")).to_contain_text("€123.45")
    assert taken(account_id) == (0, 0)
    # Another card then pays: the declined intent ended, the new one has a key of its own.
    page.get_by_label("Card").select_option("tok_mastercard")
    page.get_by_role("button", name="Pay €123.45").click()
    expect(page.locator("#pay-result")).to_have_text("Paid €123.45. Thank you.")
    assert taken(account_id) == (1, 12345)


def test_an_invoice_payer_sees_where_to_send_the_transfer_with_its_qr_code(page, host, admin):
    import base64
    import io

    import zxingcpp
    from PIL import Image

    account_id = _past_due(host, admin, mode="invoice", value=4999)
    open_account(page, host, admin, account_id)
    transfer = page.locator("#transfer")
    expect(transfer).to_contain_text("Send €49.99")
    expect(page.locator("#iban")).to_have_text("FR76 3000 6000 0112 3456 7890 189")
    expect(page.locator("#reference")).to_have_text(f"INV-{account_id}")
    expect(transfer.get_by_role("button", name="Copy IBAN")).to_be_visible()
    expect(transfer.get_by_role("button", name="Copy Reference")).to_be_visible()
    expect(page.locator("#pay-now")).to_have_count(0)  # no card form for an invoice payer
    image = page.locator("#epc-qr")
    expect(image).to_have_attribute("alt", re.compile("banking app"))
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    png = base64.b64decode(image.get_attribute("src").split(",", 1)[1])
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    lines = codes[0].text.splitlines()
    assert lines[0] == "BCD" and "FR7630006000011234567890189" in lines and "EUR49.99" in lines
    # The copy button puts the IBAN, without its spaces, on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=host)
    transfer.get_by_role("button", name="Copy IBAN").click()
    expect(transfer.get_by_role("status")).to_have_text("IBAN copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "FR7630006000011234567890189"


def test_a_paid_disabled_subscription_is_reactivated(page, host, admin, tools):
    account_id = _past_due(host, admin)
    tools.advance("P31D")
    tools.run("daily_sweep")
    support = Support(host)
    assert support.write_off(account_id, "INV-0001", "goodwill", notify=False).status_code == 200
    states = Portal(host, object_id=admin).account(account_id).json()["subscriptions"]
    assert [(s["state"], s["balance"]["value"]) for s in states] == [("disabled", 0)]
    open_account(page, host, admin, account_id)
    page.get_by_role("button", name="Reactivate Production").click()
    expect(page.locator("#subs-result")).to_have_text("Production is active again.")
    expect(page.locator("[data-subscription=sub-prod] .state")).to_have_text("Active")
    assert Portal(host, object_id=admin).account(account_id).json()["subscriptions"][0]["state"] == "active"


def _pay_requests(page: Page) -> list[dict]:
    sent: list[dict] = []
    page.on(
        "request",
        lambda request: (
            sent.append(request.headers)
            if request.method == "PUT" and request.url.endswith("/payment-method")
            else None
        ),
    )
    return sent


def test_a_double_click_on_pay_pays_once(page, host, admin):
    account_id = _past_due(host, admin)
    open_account(page, host, admin, account_id)
    sent = _pay_requests(page)
    page.get_by_label("Card").select_option("tok_visa")
    page.get_by_role("button", name="Pay €123.45").dblclick()
    expect(page.locator("#pay-result")).to_have_text("Paid €123.45. Thank you.")
    assert len({headers["idempotency-key"] for headers in sent}) == 1
    assert taken(account_id) == (1, 12345)


def test_a_lost_answer_keeps_the_input_and_the_retry_pays_once(page, host, admin):
    """The payment goes through but its answer is lost (a 503 reaches the browser): the portal says try
    again, keeps the chosen card, and the retry sends the same Idempotency-Key, so nothing is paid twice."""
    account_id = _past_due(host, admin)
    open_account(page, host, admin, account_id)
    sent = _pay_requests(page)
    lost: list[int] = []

    def lose_first_answer(route):
        answer = route.fetch()
        if not lost:
            lost.append(answer.status)
            problem = {"type": "https://pastdue.example/problems/unavailable", "title": "x", "status": 503}
            route.fulfill(status=503, content_type="application/problem+json", body=json.dumps(problem))
        else:
            route.fulfill(response=answer)

    page.route(re.compile(r".*/api/accounts/[^/]+/payment-method$"), lose_first_answer)
    page.get_by_label("Card").select_option("tok_visa")
    page.get_by_role("button", name="Pay €123.45").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Something went wrong on our side. Please try again later; what you entered is kept."
    )
    assert lost == [200]
    expect(page.get_by_label("Card")).to_have_value("tok_visa")
    page.get_by_role("button", name="Pay €123.45").click()
    expect(page.locator("#pay-result")).to_contain_text("Thank you.")
    assert len(sent) == 2 and sent[0]["idempotency-key"] == sent[1]["idempotency-key"]
    assert taken(account_id) == (1, 12345)


def test_a_401_sends_the_person_to_sign_in(page, host, admin):
    account_id = _past_due(host, admin)
    open_account(page, host, admin, account_id)
    problem = {"type": "https://pastdue.example/problems/unauthorized", "title": "Unauthorized", "status": 401}
    page.route(
        re.compile(r".*/api/accounts/[^/]+$"),
        lambda route: route.fulfill(status=401, content_type="application/problem+json", body=json.dumps(problem)),
    )
    page.reload()
    expect(page).to_have_url(re.compile(r"/portal/signin$"))
    expect(page.get_by_role("status").last).to_have_text("Your session has ended. Please sign in again.")


def test_the_account_fits_a_phone_in_dark_mode_and_speaks_french(browser, host, admin):
    account_id = _past_due(host, admin)
    context = browser.new_context(viewport={"width": 375, "height": 740}, color_scheme="dark", locale="fr-FR")
    try:
        page = context.new_page()
        sign_in_fr = page.goto(f"{host}/portal/signin")
        assert sign_in_fr is not None and sign_in_fr.status == 200
        expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "fr"
        page.get_by_label("Identifiant d’objet").fill(admin)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        page.get_by_role("link", name=account_id).click()
        expect(page.locator("#banner")).to_contain_text("Paiement en retard : 123,45\u00a0€")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)"
        wider = page.evaluate(
            """[...document.querySelectorAll('body *')]
                 .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5 && !el.closest('.scroll'))
                 .map(el => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)"""
        )
        assert wider == [], "wider than a phone (only the tables scroll sideways)"
        page.screenshot(path=str(RUN_DIR / "portal-phone-dark.png"), full_page=True)
        # Every form control has a label a screen reader reads.
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('input, select')].filter(el =>
                   !el.labels || !el.labels.length).map(el => el.id || el.name)"""
        )
        assert unlabelled == []
    finally:
        context.close()


def test_the_support_console_pauses_dunning_and_writes_off_with_reasons(page, host, admin, tools):
    account_id = _past_due(host, admin)
    email = f"admin@{account_id}.example"
    sign_in(page, host, "00000000-0000-0000-0000-00000000beef", roles=("Billing.Support",))
    expect(page.get_by_role("heading", name="Support console")).to_be_visible()
    page.get_by_label("Admin e-mail").fill(email)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=f"Open {account_id}").click()
    page.get_by_label("Reason (kept in the history)").first.fill("customer asked for a week")
    page.locator("#pause-form").get_by_role("button", name="Pause dunning").click()
    expect(page.locator("#support-result")).to_have_text("Done. The history records it.")
    listed = Support(host).accounts(email=email).json()["accounts"][0]
    assert listed["dunningPausedUntil"] is not None
    form = page.locator("form.write-off")
    form.get_by_label("Reason (kept in the history)").fill("goodwill after an outage")
    form.get_by_role("button").click()
    expect(page.locator("#banner")).to_have_text("Nothing is owed on this account.")
    history = Portal(host, object_id=admin).history(account_id).json()["entries"]
    reasons = {entry["kind"]: entry["detail"].get("reason") for entry in history}
    assert "customer asked for a week" in reasons.values() and "goodwill after an outage" in reasons.values()


def test_the_portal_files_and_links_are_served_by_the_local_host(host):
    assert httpx.get(f"{host}/portal", follow_redirects=False).headers["location"] == "/portal/"
    page = httpx.get(f"{host}/portal/billing/acct-x/pay")  # a notice's link: the portal's page
    assert page.status_code == 200 and '<html lang="en">' in page.text
    script = httpx.get(f"{host}/portal/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert httpx.get(f"{host}/portal/missing.js").status_code == 404
    assert httpx.get(f"{host}/portal/..%2Fpastdue%2Fsettings.py").status_code == 404
    config = httpx.get(f"{host}/portal/config.json").json()
    assert config["signIn"] == "local" and config["demoUsers"]
