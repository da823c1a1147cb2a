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
