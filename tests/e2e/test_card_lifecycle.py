"""A card payer walked through the whole dunning calendar on the local host's test clock."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date

from pastdue import bootstrap


def _history_kinds(portal, account_id: str) -> Counter:
    return Counter(e["kind"] for e in portal.history(account_id).json()["entries"])


def _sub(portal, account_id):
    return portal.account(account_id).json()["subscriptions"][0]


def _notices(portal, account_id) -> list[str]:
    entries = portal.history(account_id).json()["entries"]
    return [e["detail"]["notice"] for e in reversed(entries) if e["kind"] == "notice.queued"]


@pytest.mark.slow
def test_failing_card_goes_through_every_step_to_deletion(billing, portal, tools, new_id, app_env):
    account_id, sub_id = new_id(), new_id("sub")
    assert billing.account(account_id, token="tok_chargeCustomerFail").status_code == 201
    assert billing.subscription(account_id, sub_id).status_code == 201
    data = bootstrap.container("customerData")
    for n in range(3):
        data.create_item({"id": f"{sub_id}-{n}", "subscriptionId": sub_id, "payload": n})

    answer = billing.charge_failed(account_id, sub_id, new_id("ch"), value=4999)
    assert answer.json() == {"status": "processed"}
    view = portal.account(account_id).json()
    assert view["subscriptions"][0]["state"] == "pastDue"
    assert view["balance"] == {"value": 4999, "currency": "EUR"}
    assert [a["kind"] for a in view["alerts"]] == ["pastDue"]
    mails = tools.emails_to(f"admin@{account_id}.example")
    assert len(mails) == 1 and mails[0]["subject"] == "pastdue: Payment failed, €49.99 past due"
    assert "If you add another card, we'll charge it €49.99 straight away." in mails[0]["text"]
    # The one action leads to the portal's page for it, and the deadline is a date.
    assert f"http://localhost:7071/portal/billing/{account_id}/payment-method" in mails[0]["text"]
    # Suspended 30 days after the failure: "pay by" the last full day before (the account's zone is UTC).
    disable_on = format_date((datetime.now(UTC) + timedelta(days=29)).date(), format="long", locale="en_US").replace(
        " ", "\u00a0"
    )  # dates keep to one line
    assert f"If we haven't received payment by {disable_on}, we'll suspend the service." in mails[0]["text"]

    retries_by_day, notices_by_day, summaries = {}, {}, {}
    for day in range(1, 121):
        tools.advance("P1D")
        summary = summaries[day] = tools.run("daily_sweep")["summary"]
        assert "notices" in summary and "seconds" in summary
        kinds = _history_kinds(portal, account_id)
        retries_by_day[day] = kinds["charge.declined"]
        notices_by_day[day] = len(_notices(portal, account_id))
        if day == 29:
            assert _sub(portal, account_id)["state"] == "pastDue"
            assert list(
                data.query_items(
                    "SELECT * FROM c WHERE c.subscriptionId = @s",
                    parameters=[{"name": "@s", "value": sub_id}],
                    partition_key=sub_id,
                )
            )
        if day == 30:
            sub = _sub(portal, account_id)
            assert sub["state"] == "disabled" and "deletionScheduledAt" in sub
            assert any(a["kind"] == "disabled" for a in portal.account(account_id).json()["alerts"])
        if day == 119:
            assert _sub(portal, account_id)["state"] == "disabled"

    # Retries on days 1, 3, 5, 7, 14 and 21 only, one attempt each.
    steps = [d for d in range(1, 121) if retries_by_day[d] != retries_by_day.get(d - 1, 0)]
    assert steps == [1, 3, 5, 7, 14, 21]
    assert retries_by_day[120] == 6
    assert _notices(portal, account_id) == [
        "payment_failed",
        "reminder",
        "reminder",
        "reminder",
        "reminder",
        "final_notice",
        "service_cancelled",
        "deletion_warning",
        "deletion_warning",
        "deletion_warning",
        "data_deleted",
    ]
    notice_days = [d for d in range(1, 121) if notices_by_day[d] != notices_by_day.get(d - 1, 1)]
    assert notice_days == [3, 7, 14, 21, 28, 30, 90, 113, 119, 120]
    # Each run's summary counts what it did to this account (other tests' accounts on this host's database may
    # add to the counts, never take from them): seen, retried, noticed, suspended, deleted, in measured time.
    for day in sorted({*steps, *notice_days, 30, 120}):
        summary = summaries[day]
        assert summary["accountsSeen"] >= 1 and summary["seconds"] > 0, (day, summary)
        assert summary.get("chargesDeclined", 0) >= retries_by_day[day] - retries_by_day.get(day - 1, 0), (day, summary)
        assert summary.get("noticesQueued", 0) >= notices_by_day[day] - notices_by_day.get(day - 1, 1), (day, summary)
    assert summaries[30].get("subscriptionsDisabled", 0) >= 1, summaries[30]
    assert summaries[120].get("dataPurged", 0) >= 1, summaries[120]
    sub = _sub(portal, account_id)
    assert sub["state"] == "deleted"
    assert not list(
        data.query_items(
            "SELECT * FROM c WHERE c.subscriptionId = @s",
            parameters=[{"name": "@s", "value": sub_id}],
            partition_key=sub_id,
        )
    )
    purge = [e for e in portal.history(account_id).json()["entries"] if e["kind"] == "subscription.data.deleted"]
    assert purge and purge[0]["detail"]["itemsDeleted"] == 3
    tools.run("send_notices")
    subjects = [m["subject"] for m in tools.emails_to(f"admin@{account_id}.example")]
    expected = [
        r"^pastdue: Payment failed, €49\.99 past due$",
        *[r"^pastdue: Payment reminder, €49\.99 past due$"] * 4,
        r"^pastdue: Final notice, pay €49\.99 by ",
        r"^pastdue: Service suspended, €49\.99 past due$",
        *[r"^pastdue: Data deleted (on|tomorrow) .+ unless paid$"] * 3,
        r"^pastdue: Your data has been deleted$",
    ]
    assert len(subjects) == len(expected)
    assert all(re.search(p, s) for p, s in zip(expected, subjects, strict=True)), subjects
    # Every delivered mail leads to the portal page that settles it, says what is owed for which
    # subscription, and names its deadline as a date: the disable date until day 30, then the deletion date.
    delete_on = format_date((datetime.now(UTC) + timedelta(days=120)).date(), format="long", locale="en_US").replace(
        " ", "\u00a0"
    )
    for n, mail in enumerate(tools.emails_to(f"admin@{account_id}.example")):
        for part in (mail["text"], mail["html"]):
            assert f"http://localhost:7071/portal/billing/{account_id}/payment-method" in part, (n, part)
            assert "What is owed" in part and "Production" in part and "€49.99" in part, (n, part)
        if 1 <= n <= 5:
            assert disable_on in mail["text"], (n, mail["text"])
        if 6 <= n <= 9:
            assert delete_on in mail["text"], (n, mail["text"])
        if n == 10:
            assert "You still owe €49.99" in mail["text"], mail["text"]
    assert portal.reactivate(account_id, sub_id).status_code == 410
