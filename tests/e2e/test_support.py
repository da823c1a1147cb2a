"""Support's API through the local host, as a support agent would use it (and as anyone else may not)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pastdue import bootstrap
from tests.support.clients import Portal, Support


@pytest.fixture()
def support(host):
    return Support(host)


def _later(tools, days: float) -> str:
    return (datetime.fromisoformat(tools.now().replace("Z", "+00:00")) + timedelta(days=days)).isoformat()


def _past_due(billing, new_id, value=4999, token="tok_chargeCustomerFail"):
    account_id, sub_id, charge_id = new_id(), new_id("sub"), new_id("ch")
    assert billing.account(account_id, token=token).status_code == 201
    assert billing.subscription(account_id, sub_id).status_code == 201
    assert billing.charge_failed(account_id, sub_id, charge_id, value).status_code == 200
    return account_id, sub_id, charge_id


def _all(support, **params) -> list[dict]:
    found, page = [], support.accounts(limit=200, **params)
    while True:
        assert page.status_code == 200, page.text
        found += page.json()["accounts"]
        if not page.json()["next"]:
            return found
        page = support.accounts(limit=200, cursor=page.json()["next"], **params)


def _kinds(portal, account_id):
    return [e["kind"] for e in portal.history(account_id).json()["entries"]]


def test_support_lists_pauses_extends_resends_and_writes_off(billing, portal, support, tools, new_id):
    doomed, doomed_sub, _ = _past_due(billing, new_id)
    paused, _, _ = _past_due(billing, new_id)
    extended, extended_sub, _ = _past_due(billing, new_id)
    forgiven, forgiven_sub, forgiven_charge = _past_due(billing, new_id, value=1500)

    # A pause of dunning: no reminder while it lasts, and the history says who and why.
    assert support.pause(paused, _later(tools, 10), "customer in hospital").status_code == 200
    # A grace extension: the disable date moves by the days given.
    before = portal.account(extended).json()["alerts"][0]["deadline"]
    answer = support.extend(extended, extended_sub, 7, "purchase order on its way")
    assert answer.status_code == 200, answer.text
    after = answer.json()["alerts"][0]["deadline"]
    assert datetime.fromisoformat(after.replace("Z", "+00:00")) - datetime.fromisoformat(
        before.replace("Z", "+00:00")
    ) == timedelta(days=7)
    # A write-off: the balance and the alerts follow, and the service is back.
    answer = support.write_off(forgiven, forgiven_charge, "goodwill after an outage")
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["balance"]["value"] == 0 and view["alerts"] == [] and view["subscriptions"][0]["state"] == "active"
    entry = next(e for e in portal.history(forgiven).json()["entries"] if e["kind"] == "charge.written_off")
    assert entry["actor"].endswith("beef") and entry["detail"]["reason"] == "goodwill after an outage"
    assert any("written off" in m["subject"] for m in tools.emails_to(f"admin@{forgiven}.example"))

    tools.advance("P7DT1H")
    tools.run("daily_sweep")
    assert "notice.queued" in _kinds(portal, extended) and _kinds(portal, paused).count("notice.queued") == 1
    pause = next(e for e in portal.history(paused).json()["entries"] if e["kind"] == "dunning.paused")
    assert pause["actor"].endswith("beef") and pause["detail"]["reason"] == "customer in hospital"
    assert {a["accountId"] for a in _all(support, state="pastDue")} >= {paused, extended, doomed}
    listed = {a["accountId"]: a for a in _all(support, state="pastDue")}
    assert listed[paused]["dunningPausedUntil"] is not None and listed[extended]["nextDisableAt"] == after

    # 23 days later the first is disabled; 84 days after that its deletion is within the week.
    tools.advance("P24D")
    tools.run("daily_sweep")
    assert portal.account(doomed).json()["subscriptions"][0]["state"] == "disabled"
    assert portal.account(extended).json()["subscriptions"][0]["state"] == "pastDue"  # 7 days more
    tools.advance("P84D")
    soon = _all(support, deleteBefore=_later(tools, 7))
    assert doomed in {a["accountId"] for a in soon} and forgiven not in {a["accountId"] for a in soon}

    # A notice that ended failed (its six tries refused by the mail server) is sent again, and delivered once.
    container, now = bootstrap.container("accounts"), tools.now()
    doc = container.read_item(doomed, partition_key=doomed)
    notice = {
        "noticeId": f"{doomed_sub}:resend-check",
        "kind": "final_notice",
        "to": f"admin@{doomed}.example",
        "locale": "en-US",
        "createdAt": now,
        "nextTryAt": now,
        "subscriptionId": doomed_sub,
        "status": "failed",
        "tries": 6,
        "lastError": "smtp: 550 mailbox unavailable",
        "params": {
            "accountId": doomed,
            "paymentMode": "card",
            "adminName": "Ada Admin",
            "subscriptionName": "Production",
            "balance": {"value": 4999, "currency": "EUR"},
            "cancellationDate": now,
        },
    }
    doc["outbox"].append(notice)
    container.replace_item(doomed, doc)

    def finals():
        return [m for m in tools.emails_to(f"admin@{doomed}.example") if "Final notice" in m["subject"]]

    before = len(finals())
    answer = support.resend(doomed, notice["noticeId"])
    assert answer.status_code == 200, answer.text
    assert len(finals()) == before + 1
    tools.run("send_notices")  # the timer's drain finds nothing more to send
    assert len(finals()) == before + 1
    assert support.resend(doomed, notice["noticeId"]).status_code == 409  # sent now: not failed any more
    assert "notice.resent" in _kinds(portal, doomed)


def test_support_sees_an_accounts_notices_and_each_action_keeps_its_reason(host, billing, support, tools, new_id):
    account_id, _, charge_id = _past_due(billing, new_id)
    tools.settle()
    listed = support.notices(account_id)
    assert listed.status_code == 200, listed.text
    notices = listed.json()["notices"]
    first = next(n for n in notices if n["status"] == "sent")
    assert first["kind"] == "payment_failed" and first["sentAt"] and not first["resendable"]
    # A notice that was delivered is not sent again, whatever the reason.
    refused = support.resend(account_id, first["noticeId"], "customer lost the e-mail")
    assert refused.status_code == 409 and refused.json()["type"].endswith("/conflict")
    assert support.notices("acct-missing-000").status_code == 404
    assert support.pause(account_id, _later(tools, 3), "asked for time").status_code == 200
    assert (
        support.http.post(
            f"/api/support/accounts/{account_id}/dunning/resume", json={"reason": "paid by phone"}
        ).status_code
        == 200
    )
    new_admin = "00000000-0000-0000-0000-0000000000b2"
    transfer = {"principalId": new_admin, "email": "bea@example.com", "name": "Bea", "reason": "Ada left"}
    answer = support.http.post(f"/api/accounts/{account_id}/transfer-admin", json=transfer)
    assert answer.status_code == 200, answer.text
    entries = Portal(host, object_id=new_admin).history(account_id).json()["entries"]
    reasons = {e["kind"]: e["detail"].get("reason") for e in entries}
    assert reasons["dunning.resumed"] == "paid by phone" and reasons["admin.transferred"] == "Ada left"
    # A reason, when given, is held to the rule of every reason: not blank.
    blank = support.http.post(f"/api/support/accounts/{account_id}/dunning/resume", json={"reason": "  "})
    assert blank.status_code == 400 and blank.json()["field"] == "reason"


def test_everyone_but_support_gets_403_on_each_support_route(host, billing, new_id, tools):
    account_id, sub_id, charge_id = _past_due(billing, new_id)
    for stranger in (
        Support(host, roles=()),
        Support(host, object_id="00000000-0000-0000-0000-0000000000aa", roles=("Billing.Reader",)),
    ):
        answers = [
            stranger.accounts(),
            stranger.notices(account_id),
            stranger.resend(account_id, f"{charge_id}:failed"),
            stranger.pause(account_id, _later(tools, 3)),
            stranger.resume(account_id),
            stranger.extend(account_id, sub_id, 3),
            stranger.write_off(account_id, charge_id),
        ]
        assert [a.status_code for a in answers] == [403] * 7
        assert all(a.headers["content-type"].startswith("application/problem+json") for a in answers)


def test_support_input_is_checked_at_the_door(host, billing, support, new_id, tools):
    account_id, sub_id, charge_id = _past_due(billing, new_id)
    assert support.accounts(state="late").status_code == 400
    assert support.accounts(cursor="not a cursor!").status_code == 400
    assert support.accounts(cursor="eyJub3QiOiJvdXJzIn0").status_code == 400
    assert support.pause(account_id, _later(tools, 90)).status_code == 422  # beyond maxPauseDays
    assert support.pause(account_id, "tomorrow").status_code == 400
    assert support.extend(account_id, sub_id, 31).status_code == 422  # beyond maxGraceExtensionDays
    assert support.extend(account_id, sub_id, 0).status_code == 400
    assert support.write_off(account_id, "ch-unknown").status_code == 404
    assert support.resend("acct-missing-000", "n").status_code == 404
    answer = support.http.post(f"/api/support/accounts/{account_id}/dunning/resume", json={"please": True})
    assert answer.status_code == 400


def test_the_support_cli_lists_shows_and_acts_through_the_api(host, billing, new_id, tools):
    import io

    from pastdue.support_cli import main
    from tests.support.clients import SUPPORT_OID

    account_id, sub_id, charge_id = _past_due(billing, new_id, value=123456)
    base = ["--api", f"{host}/api", "--local-principal", SUPPORT_OID]

    def cli(*args) -> str:
        out = io.StringIO()
        assert main([*base, *args], out=out) == 0
        return out.getvalue()

    assert account_id in cli("list", "--state", "pastDue", "--disable-within", "31")
    assert "pause: done" in cli("pause", account_id, "--days", "5", "--reason", "bank delay")
    assert "extend: done" in cli("extend", account_id, sub_id, "--days", "3", "--reason", "PO")
    shown = cli("show", account_id)
    assert "1,234.56 EUR" in shown and "dunning.paused" in shown and "bank delay" in shown
    assert "subscription.grace.extended" in shown and sub_id in shown
    assert "write-off: done" in cli("write-off", account_id, charge_id, "--reason", "goodwill", "--no-notice")
    assert "charge.written_off" in cli("show", account_id)
    assert main([*base, "resend", account_id, "no-such-notice"], out=io.StringIO()) == 1  # 404, said on stderr
