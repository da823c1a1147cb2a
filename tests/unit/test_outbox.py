from datetime import timedelta

from pastdue.domain.events import ClaimNotices, NoticesSent, SendResult
from pastdue.domain.lifecycle import decide
from pastdue.domain.outbox import MAX_TRIES
from tests.unit.builders import POLICY, T0, account, apply, failed


def _attempt(acc, at, outcome, claim="c", **extra):
    acc, _ = decide(acc, ClaimNotices(10, claim), POLICY, at)
    mine = [n.notice_id for n in acc.outbox if n.claim_id == claim and n.status == "sending"]
    results = tuple(SendResult(i, outcome, **extra) for i in mine)
    acc, _ = decide(acc, NoticesSent(claim, results), POLICY, at)
    return acc, mine


def test_a_failing_notice_backs_off_then_fails_with_its_reason_in_the_history():
    acc, _ = apply(account(), failed())
    at = T0
    for _ in range(MAX_TRIES):
        acc, mine = _attempt(acc, at, "failed", error="smtp 451")
        assert mine, "the notice was claimable again after its backoff"
        at = acc.outbox[0].next_try_at if acc.outbox[0].status == "queued" else at
    notice = acc.outbox[0]
    assert notice.status == "failed" and notice.last_error == "smtp 451" and notice.tries == MAX_TRIES
    assert [h["kind"] for h in acc.history].count("notice.retry") == MAX_TRIES - 1
    assert [h["kind"] for h in acc.history].count("notice.failed") == 1
    assert acc.notices_due_at is None


def test_backoff_grows_and_a_throttle_keeps_the_tries():
    acc, _ = apply(account(), failed())
    acc, _ = _attempt(acc, T0, "failed", error="x")
    first_wait = acc.outbox[0].next_try_at - T0
    acc, _ = _attempt(acc, acc.outbox[0].next_try_at, "failed", error="x")
    assert acc.outbox[0].next_try_at - (T0 + first_wait) > first_wait
    tries = acc.outbox[0].tries
    acc, _ = _attempt(acc, acc.outbox[0].next_try_at, "throttled", retry_after_seconds=90)
    assert acc.outbox[0].tries == tries and acc.outbox[0].status == "queued"


def test_two_drains_never_hold_the_same_notice_and_a_stale_answer_is_ignored():
    acc, _ = apply(account(), failed())
    acc, _ = decide(acc, ClaimNotices(10, "first"), POLICY, T0)
    again, _ = decide(acc, ClaimNotices(10, "second"), POLICY, T0 + timedelta(minutes=1))
    assert [n.claim_id for n in again.outbox] == ["first"]  # leased: not claimable
    late, _ = decide(acc, ClaimNotices(10, "second"), POLICY, T0 + timedelta(minutes=6))
    assert [n.claim_id for n in late.outbox] == ["second"]  # the first drain died: lease ran out
    stale, _ = decide(late, NoticesSent("first", (SendResult(late.outbox[0].notice_id, "sent"),)), POLICY, T0)
    assert stale.outbox[0].status == "sending"
