from datetime import UTC, datetime

from pastdue.domain.codec import dump, format_time, load, parse_time
from pastdue.domain.model import Account
from tests.unit.builders import account, apply, failed


def test_times_have_a_fixed_width_so_they_compare_as_strings():
    whole, fraction = datetime(2026, 1, 1, 9, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 9, 0, 0, 500, tzinfo=UTC)
    assert format_time(whole) == "2026-01-01T09:00:00.000000Z"
    assert (format_time(whole) < format_time(fraction)) == (whole < fraction)
    assert parse_time("2026-01-01T10:00:00+01:00") == whole


def test_an_account_survives_a_round_trip_through_its_document():
    acc, _ = apply(account(), failed())
    doc = dump(acc)
    assert "etag" not in doc and doc["charges"][0]["amount"] == {"value": 1000, "currency": "EUR"}
    assert load(Account, doc) == acc


def test_records_written_before_they_were_typed_still_load_and_mean_the_same():
    from pastdue.domain.model import AUTHENTICATION_REQUIRED, PAY_NOW_DECLINED, SETTLED

    doc = dump(account())
    doc["idempotency"] = {
        "k-ok": {
            "hash": "h",
            "status": "done",
            "at": "2026-01-05T09:00:00.000000Z",
            "attempts": [["ch-1", "ch-1:1"]],
            "onSession": True,
            "response": {
                "status": 200,
                "settled": [{"chargeId": "ch-1", "amount": {"value": 1000, "currency": "EUR"}}],
            },
        },
        "k-sca": {
            "hash": "h",
            "status": "done",
            "at": "2026-01-05T09:00:00Z",
            "attempts": [],
            "response": {"status": 402, "code": "authentication_required", "chargeId": "ch-2"},
        },
        "k-no": {
            "hash": "h",
            "status": "done",
            "at": "2026-01-05T09:00:00Z",
            "attempts": [],
            "response": {"status": 402, "code": "insufficient_funds"},
        },
    }
    doc["dunningPaused"] = {
        "until": "2026-02-01T00:00:00.000000Z",
        "reason": "call",
        "actor": "s:1",
        "at": "2026-01-05T09:00:00.000000Z",
    }
    doc["quarantine"] = {"at": "2026-01-05T09:00:00.000000Z", "where": "sweep", "reason": "Broken", "failures": 5}
    acc = load(Account, doc)
    keys = acc.idempotency
    assert keys["k-ok"].response.kind == SETTLED and keys["k-ok"].attempts == [("ch-1", "ch-1:1")]
    assert keys["k-ok"].response.settled[0].amount.value == 1000
    assert (keys["k-sca"].response.kind, keys["k-sca"].response.charge_id) == (AUTHENTICATION_REQUIRED, "ch-2")
    assert (keys["k-no"].response.kind, keys["k-no"].response.code) == (PAY_NOW_DECLINED, "insufficient_funds")
    assert acc.dunning_paused.until == datetime(2026, 2, 1, tzinfo=UTC) and acc.quarantine.failures == 5


def test_a_notice_kind_stored_under_its_earlier_name_is_read_as_todays():
    """`card_declined` (the card refused for good) is `card_declined_for_good` now: documents written before
    keep loading, and the next write stores the new name."""
    from devhost.notice_flows import flows
    from pastdue.adapters.documents import from_document, to_document
    from pastdue.domain.model import NoticeKind

    (hard,) = [flow for flow in flows("en-US") if flow.name == "hard-decline"]
    doc = to_document(hard.account)
    (notice,) = [n for n in doc["outbox"] if n["kind"] == "card_declined_for_good"]
    notice["kind"] = "card_declined"  # as an earlier release stored it
    loaded = from_document(doc)
    assert NoticeKind.CARD_DECLINED_FOR_GOOD in [n.kind for n in loaded.outbox]
    assert "card_declined" not in [n["kind"] for n in to_document(loaded)["outbox"]]


def test_a_history_record_that_names_a_notice_by_its_earlier_name_is_shown_by_todays():
    """The record stays as written (an audit log is not rewritten); the history the API answers names the
    notice as the outbox does, so a client knows one name for it."""
    from devhost.notice_flows import flows
    from pastdue.adapters.store import HistoryPage
    from pastdue.http.views import history_view

    (hard,) = [flow for flow in flows("en-US") if flow.name == "hard-decline"]
    records = [r for r in hard.account.history if (r.get("detail") or {}).get("notice") == "card_declined_for_good"]
    assert records, "the hard decline queues its notice with a history record"
    old = [
        {**r, "detail": {**r["detail"], "notice": "card_declined"}} for r in records
    ]  # as an earlier release wrote it
    shown = history_view(hard.account.account_id, HistoryPage(old + [{"kind": "x", "detail": None}], None))
    assert [e["detail"]["notice"] for e in shown["entries"][:-1]] == ["card_declined_for_good"] * len(records)
    assert shown["entries"][-1] == {"kind": "x", "detail": None}
    assert all(r["detail"]["notice"] == "card_declined" for r in old)  # the records themselves are untouched
