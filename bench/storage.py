"""Storage that holds for years: the account document's size as events pile up, and the Cosmos requests
and bytes each operation costs, beside the floor (one read, one write, the appended archive item).

Usage: python -m bench.storage [events]   (default 10,000)

RU are estimated from Microsoft's published figures for point operations ("Optimize request cost in
Azure Cosmos DB": a point read of a 1 KB item is 1 RU, of a 100 KB item 10 RU; in between, linear), and
a write as 5 times the read of the same size (the usual rule of thumb for a lightly indexed container).
The stand-in reports no RU, so these are estimates from the bytes measured here, not measurements.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import RequestCounter, counted_deps, machine, start_cosmos
from pastdue.policy import shipped

GOAL_BYTES = 16 * 1024
SIZES = (1, 5, 20, 40)


def _doc_size(container, account_id: str) -> int:
    from tests.support.busy import stored_size

    return stored_size(container, account_id)


def sizes(deps, db, events: int) -> dict[int, int]:
    """Document size after 0, 100, 1,000, ... events (written as the app writes: one write an event for
    the last two before each measure; the fast path writes every 10 before)."""
    from tests.support.busy import drive, new_account

    container, account_id = db.get_container_client("accounts"), f"size-{uuid.uuid4().hex[:6]}"
    account = deps.store.create(new_account(account_id))
    found, done, at = {0: _doc_size(container, account_id)}, 0, datetime(2026, 1, 1, tzinfo=UTC)
    for checkpoint in (c for c in (100, 1_000, 10_000, 100_000) if c <= events):
        account, at = drive(deps.store, shipped(), account, done, checkpoint - 2, at, write_every=10)
        account, at = drive(deps.store, shipped(), account, checkpoint - 2, checkpoint, at, write_every=1)
        found[checkpoint], done = _doc_size(container, account_id), checkpoint
    return found


BURST_GOAL_BYTES = 64 * 1024


def burst(deps, db, events: int) -> int:
    """Document size after `events` events within one day (each written as the app writes it)."""
    from tests.support.busy import drive, new_account

    container, account_id = db.get_container_client("accounts"), f"burst-{uuid.uuid4().hex[:6]}"
    account = deps.store.create(new_account(account_id))
    drive(
        deps.store,
        shipped(),
        account,
        0,
        events,
        datetime(2026, 1, 1, tzinfo=UTC),
        step=timedelta(seconds=86_400 / events),
    )
    return _doc_size(container, account_id)


def _counted(counter: RequestCounter, work) -> dict:
    counter.reset()
    work()
    return dict(counter.counts)


def operations(deps, db, counter: RequestCounter) -> list[tuple[str, dict, tuple[int, int]]]:
    """(operation, counts, (document writes, archive items) of its floor) for each operation on an account
    in its steady state. A webhook's floor is one write; a charge's is two (reserved before the processor
    is called, resolved after), each with the archive chunk of what the document held before it."""
    from pastdue.domain import events as ev
    from pastdue.domain.model import CARD, SETTLED
    from pastdue.domain.money import Money
    from pastdue.services.billing import put_account, put_subscription, record_event
    from pastdue.services.portal import pay_now
    from pastdue.services.sweep import run_sweep
    from tests.support.busy import drive, new_account

    rows = []
    quiet = dataclasses.replace(deps, after_notices_queued=None)
    account_id = f"ops-{uuid.uuid4().hex[:6]}"
    account = deps.store.create(new_account(account_id))
    drive(deps.store, shipped(), account, 0, 40, deps.clock.now() - timedelta(days=30))  # a past, archived
    now = deps.clock.now()
    # A first write moves what the past settled to the archive (a one-off after a quiet spell): not measured.
    record_event(quiet, account_id, ev.PaymentReceived(f"w-{uuid.uuid4().hex}", Money(1, "EUR"), "warm-up"))
    record_event(quiet, account_id, ev.PaymentReceived(f"w-{uuid.uuid4().hex}", Money(1, "EUR"), "warm-up"))
    rows.append(
        (
            "charge-failed webhook",
            _counted(
                counter,
                lambda: record_event(
                    quiet,
                    account_id,
                    ev.ChargeFailed(
                        f"e-{uuid.uuid4().hex}", "s0", "ch-x", Money(990, "EUR"), "insufficient_funds", now
                    ),
                ),
            ),
            (1, 1),
        )
    )
    rows.append(
        (
            "payment-received webhook",
            _counted(
                counter,
                lambda: record_event(
                    quiet, account_id, ev.PaymentReceived(f"p-{uuid.uuid4().hex}", Money(990, "EUR"), "ref-x")
                ),
            ),
            (1, 1),
        )
    )
    # A sweep day of one due account: its retry (declined), the notice, the resolve.
    swept = f"sweep-{uuid.uuid4().hex[:6]}"
    put_account(
        quiet,
        swept,
        ev.ProfileSet(new_account(swept).admin, CARD, "EUR", deps.gateway.describe("tok_chargeCustomerFail"), None),
    )
    put_subscription(quiet, swept, ev.SubscriptionSet("s0", "Production", "default"))
    record_event(
        quiet,
        swept,
        ev.ChargeFailed("e-s", "s0", "ch-s", Money(4999, "EUR"), "card_declined", now - timedelta(days=1, hours=1)),
    )
    counts = _counted(counter, lambda: run_sweep(quiet, 600))
    rows.append(("a sweep day (1 due account, a retry)", counts, (2, 2)))
    for subs in SIZES:
        payer = f"pay-{subs}-{uuid.uuid4().hex[:6]}"
        put_account(
            quiet,
            payer,
            ev.ProfileSet(new_account(payer).admin, CARD, "EUR", deps.gateway.describe("tok_chargeCustomerFail"), None),
        )
        for n in range(subs):
            put_subscription(quiet, payer, ev.SubscriptionSet(f"s{n}", f"Sub {n}", "default"))
            record_event(
                quiet,
                payer,
                ev.ChargeFailed(f"e-{n}", f"s{n}", f"{payer}-c{n}", Money(1000 + n, "EUR"), "card_declined", now),
            )
        method = deps.gateway.describe("tok_visa")

        def pay(payer=payer, method=method):
            account = deps.store.get(payer)  # the handler's one read (the caller's rights)
            answer = pay_now(quiet, payer, f"key-{uuid.uuid4().hex}", "h", method, "user:bench", account=account)
            assert answer.outcome == SETTLED, answer.outcome

        rows.append((f"update_payment, {subs} charge(s)", _counted(counter, pay), (2, 2)))
    return rows


def write_cost(deps, db, counter: RequestCounter, events: int) -> tuple[dict, dict]:
    """The same event written to a new account and to one with `events` events behind it."""
    from pastdue.domain import events as ev
    from pastdue.domain.money import Money
    from pastdue.services.change import change
    from tests.support.busy import drive, new_account

    quiet = dataclasses.replace(deps, after_notices_queued=None)
    found = {}
    recent = 40  # 20 days of the same activity for both, so only their age differs
    for label, past in (("new", 0), ("old", events)):
        account_id = f"cost-{label}-{uuid.uuid4().hex[:6]}"
        account = deps.store.create(new_account(account_id))
        if past:
            at = deps.clock.now() - timedelta(hours=12 * (past + recent) + 24)
            account, _ = drive(deps.store, shipped(), account, 0, past, at, write_every=10)
        # The same recent activity, written one event at a time as the app does, then the measured event.
        account, _ = drive(
            deps.store, shipped(), account, past, past + recent, deps.clock.now() - timedelta(hours=12 * recent)
        )
        found[label] = _counted(
            counter,
            lambda account_id=account_id: change(
                quiet, account_id, ev.PaymentReceived(f"m-{uuid.uuid4().hex}", Money(500, "EUR"), "ref-m")
            ),
        )
    return found["new"], found["old"]


def main(events: int) -> None:
    standins = start_cosmos()
    try:
        from pastdue import bootstrap

        counter = RequestCounter(container="accounts")  # the account store only; not the sandbox processor
        deps, db = counted_deps(counter, bootstrap.settings().cosmos_database)
        print(f"machine: {machine()}")
        started = time.monotonic()
        found = sizes(deps, db, events)
        print(
            f"\naccount document size (3 subscriptions; an event every 12 h: a charge fails, then is paid)"
            f" [{time.monotonic() - started:.0f} s]"
        )
        print(f"{'events':>8} {'bytes':>7} {'/ 16 KB goal':>13} {'/ size at 100':>14}")
        for n, size in found.items():
            base = found.get(100)
            print(f"{n:>8,} {size:>7,} {size / GOAL_BYTES:>13.2f} {(size / base if base and n else 0):>14.2f}")

        print("\nbursts: events within one day on one account (half failures, half transfers)")
        print(f"{'events':>8} {'bytes':>7} {'/ 64 KB goal':>13}")
        for n in (600, 2_000):
            size = burst(deps, db, n)
            print(f"{n:>8,} {size:>7,} {size / BURST_GOAL_BYTES:>13.2f}")

        print("\nCosmos requests per operation (steady state), beside the floor: 1 read + its writes + archive items")
        print(
            f"{'operation':<38} {'requests':>8} {'reads':>5} {'writes':>6} {'floor':>5} {'ratio':>5} "
            f"{'bytes written':>13} {'est. RU':>7}"
        )
        for name, counts, (writes, appended) in operations(deps, db, counter):
            floor = 1 + writes + appended
            requests = counts.get("requests", 0)
            print(
                f"{name:<38} {requests:>8} {counts.get('itemsRead', 0) + counts.get('queryPages', 0):>5} "
                f"{counts.get('writes', 0):>6} {floor:>5} {requests / floor:>5.2f} "
                f"{counts.get('bytesWritten', 0):>13,} {counts.get('estimatedRU', 0):>7.1f}"
            )

        new, old = write_cost(deps, db, counter, events)
        print(
            f"\nwrite cost of one event, same last 20 days of activity: new account "
            f"{new.get('bytesWritten', 0):,} bytes written "
            f"({new.get('estimatedRU', 0):.1f} RU est.), after {events:,} events "
            f"{old.get('bytesWritten', 0):,} bytes ({old.get('estimatedRU', 0):.1f} RU est.); "
            f"ratio {old.get('bytesWritten', 1) / max(1, new.get('bytesWritten', 1)):.2f} bytes, "
            f"{old.get('estimatedRU', 1) / max(0.1, new.get('estimatedRU', 1)):.2f} RU (goal ≤ 1.1)"
        )
    finally:
        if standins:
            standins.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
