"""GET history through the local host: newest first, a page at a time, filtered by subscription, and every
bad query a 400 problem."""

from __future__ import annotations


def test_history_pages_newest_first_and_filters_by_subscription(billing, portal, new_id):
    account_id, first, second = new_id(), new_id("sub"), new_id("sub")
    billing.account(account_id)
    billing.subscription(account_id, first)
    billing.subscription(account_id, second)
    billing.charge_failed(account_id, first, new_id("ch"), 1000)
    billing.charge_failed(account_id, second, new_id("ch"), 2000)
    # The failures' notices are being sent meanwhile (a drain after each webhook), each sent one a new record:
    # a page continues below its cursor, so what is written after the first page is simply newer.
    pages, cursor = [], None
    while True:
        answer = portal.history_page(account_id, limit=3, **({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.text
        pages.append([e["seq"] for e in answer.json()["entries"]])
        cursor = answer.json()["next"]
        if cursor is None:
            break
    everything = portal.history(account_id).json()["entries"]
    seqs = [e["seq"] for e in everything]
    assert seqs == list(range(len(seqs), 0, -1))  # newest first, every record once
    paged = [s for page in pages for s in page]
    assert paged == list(range(pages[0][0], 0, -1)) and all(len(p) == 3 for p in pages[:-1])
    assert len(paged) >= 4  # the account, two subscriptions, two failures: several pages of 3
    only = portal.history_page(account_id, subscriptionId=second).json()["entries"]
    assert only and {e["subscriptionId"] for e in only} == {second}


def test_a_bad_history_query_is_a_400_problem(billing, portal, new_id):
    account_id = new_id()
    billing.account(account_id)
    for params in (
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"cursor": "h0"},
        {"cursor": "x1"},
        {"subscriptionId": "bad id"},
        {"page": "2"},
    ):
        answer = portal.history_page(account_id, **params)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
