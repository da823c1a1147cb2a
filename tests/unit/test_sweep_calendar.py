from datetime import UTC, datetime, timedelta

from pastdue.domain import events as ev
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import DECLINED, DELETED, DISABLED, INVOICE, PAST_DUE, SUCCEEDED
from pastdue.domain.policy import Policy
from pastdue.policy import shipped
from tests.unit.builders import POLICY, T0, account, apply, days, deliver, failed, notice_kinds


def _resolve_declined(acc, effects, at):
    results = tuple(
        ev.AttemptResult(e.charge_id, e.key, DECLINED, "card_declined") for e in effects if isinstance(e, ev.TryCharge)
    )
    return decide(acc, ev.AttemptsResolved(results), POLICY, at)[0] if results else acc


def _walk(acc, last_day, hour=1):
    tries = {}
    for day in range(1, last_day + 1):
        at = T0 + days(day) + timedelta(hours=hour)
        acc, effects = decide(acc, ev.SweepTick(), POLICY, at)
        tries[day] = [e for e in effects if isinstance(e, ev.TryCharge)]
        acc = _resolve_declined(acc, effects, at)
        for purge in (e for e in effects if isinstance(e, ev.PurgeData)):  # the shell deletes, then reports
            acc, _ = decide(acc, ev.DataPurged(purge.subscription_id, 3), POLICY, at)
    return acc, tries


def test_the_default_calendar_day_by_day():
    acc, _ = apply(account(), failed())
    acc, tries = _walk(acc, 121)
    assert [d for d, t in tries.items() if t] == [1, 3, 5, 7, 14, 21]
    assert len({t[0].key for t in tries.values() if t}) == 6  # a new key for each attempt
    queued = [(h["at"][:10], h["detail"]["notice"]) for h in acc.history if h["kind"] == "notice.queued"]
    day = {n: (T0 + days(n)).date().isoformat() for n in range(121)}
    assert queued == [
        (day[0], "payment_failed"),
        (day[3], "reminder"),
        (day[7], "reminder"),
        (day[14], "reminder"),
        (day[21], "reminder"),
        (day[28], "final_notice"),
        (day[30], "service_cancelled"),
        (day[90], "deletion_warning"),
        (day[113], "deletion_warning"),
        (day[119], "deletion_warning"),
        (day[120], "data_deleted"),
    ]
    sub = acc.subscriptions["sub-0"]
    disabled = T0 + days(30) + timedelta(hours=1)
    assert sub.state == DELETED and sub.disabled_at == disabled
    assert sub.deletion_scheduled_at == disabled + days(90)
    assert sub.deleted_at == disabled + days(90)  # purged on the sweep of day 120, not a day earlier
    purge = [h for h in acc.history if h["kind"] == "subscription.deletion.started"]
    assert [h["at"][:10] for h in purge] == [day[120]]


def test_a_late_sweep_sends_only_the_latest_reminder_and_never_disables_early():
    acc, _ = apply(account(), failed())
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(15))
    assert notice_kinds(acc) == ["payment_failed", "reminder"]
    assert acc.outbox[-1].notice_id.endswith("reminder:14")
    superseded = [h["detail"]["step"] for h in acc.history if h["kind"] == "notice.superseded"]
    assert superseded == ["reminder:3", "reminder:7"]
    # Missed retry days fold into one attempt (day 14's), not four at once.
    assert [e.key for e in effects if isinstance(e, ev.TryCharge)] == ["ch-1:1"]
    assert acc.charges[0].retry_steps_done == 1  # one retry made; the missed days folded into it
    acc = _resolve_declined(acc, effects, T0 + days(15))
    assert acc.subscriptions["sub-0"].state == PAST_DUE
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(29.9))
    acc = _resolve_declined(acc, effects, T0 + days(29.9))
    assert acc.subscriptions["sub-0"].state == PAST_DUE
    assert notice_kinds(acc) == ["payment_failed", "reminder", "final_notice"]
    assert [h["detail"]["step"] for h in acc.history if h["kind"] == "notice.superseded"][-1] == "reminder:21"
    # Even a sweep that comes very late disables once, and deletion counts from that late disable.
    acc, _ = decide(acc, ev.SweepTick(), POLICY, T0 + days(45))
    sub = acc.subscriptions["sub-0"]
    assert sub.state == DISABLED and sub.disabled_at == T0 + days(45)
    assert sub.deletion_scheduled_at == T0 + days(135)


def test_running_twice_on_the_same_day_does_nothing_more():
    acc, _ = apply(account(), failed())
    first, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(3))
    first = _resolve_declined(first, effects, T0 + days(3))
    second, more = decide(first, ev.SweepTick(), POLICY, T0 + days(3) + timedelta(hours=5))
    assert second.outbox == first.outbox and not [e for e in more if isinstance(e, ev.TryCharge)]


def test_an_unanswered_attempt_is_retried_with_the_same_key_and_blocks_disable():
    acc, _ = apply(account(), failed())
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(21))
    attempt = effects[0]
    assert isinstance(attempt, ev.TryCharge)
    key = attempt.key
    acc, again = decide(acc, ev.SweepTick(), POLICY, T0 + days(40))
    assert [e.key for e in again if isinstance(e, ev.TryCharge)] == [key]
    assert acc.subscriptions["sub-0"].state == PAST_DUE  # never disabled on a guess


def test_a_paid_subscription_is_never_disabled():
    acc, _ = apply(account(), failed())
    acc, sent = deliver(acc, T0)
    acc, effects = decide(acc, ev.SweepTick(), POLICY, T0 + days(1))
    attempt = effects[0]
    assert isinstance(attempt, ev.TryCharge)
    acc, _ = decide(acc, ev.AttemptsResolved((ev.AttemptResult("ch-1", attempt.key, SUCCEEDED),)), POLICY, T0 + days(1))
    acc, _ = decide(acc, ev.SweepTick(), POLICY, T0 + days(45))
    assert acc.subscriptions["sub-0"].state == "active"
    # The failure notice went; after it, only the receipt (no reminder, no suspension).
    assert [n.kind for n in sent] == ["payment_failed"] and notice_kinds(acc) == ["payment_received"]
    # Nothing of the dunning is left: the next thing due is the card's expiry notice (12/2034).
    assert acc.next_action_at == datetime(2034, 12, 2, tzinfo=UTC)


def test_invoice_payers_get_no_retries():
    acc, _ = apply(account(INVOICE), failed())
    acc, tries = _walk(acc, 31)
    assert not any(tries.values())
    assert acc.subscriptions["sub-0"].state == DISABLED


def test_plan_overrides_move_the_calendar():
    policy = Policy.from_document({"plans": {"gold": {"disableDay": 45, "finalNoticeDay": 40}}}, base=shipped())
    acc = account()
    acc.subscriptions["sub-0"].plan = "gold"
    acc, _ = decide(acc, failed(), policy, T0)
    acc, effects = decide(acc, ev.SweepTick(), policy, T0 + days(31))
    acc = _resolve_declined(acc, effects, T0 + days(31))
    assert acc.subscriptions["sub-0"].state == PAST_DUE
    acc, _ = decide(acc, ev.SweepTick(), policy, T0 + days(45))
    assert acc.subscriptions["sub-0"].state == DISABLED
