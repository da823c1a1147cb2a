"""An account driven through many billing events, straight through the domain and the real store: what
the storage tests and bench/storage.py measure (the document stays lean, the archive holds the rest)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from pastdue.domain import events as ev
from pastdue.domain.events import ClaimNotices, NoticesSent, SendResult
from pastdue.domain.lifecycle import decide
from pastdue.domain.model import SENDING, Account, Admin, PaymentMethod, Subscription
from pastdue.domain.money import Money

SUBSCRIPTIONS = 3
STEP = timedelta(hours=12)


def new_account(account_id: str) -> Account:
    account = Account(
        account_id,
        Admin("oid-busy", f"{account_id}@example.com", "Ada"),
        payment_method=PaymentMethod("tok_visa", "visa", "4242", 12, 2034),
    )
    for n in range(SUBSCRIPTIONS):
        account.subscriptions[f"s{n}"] = Subscription(f"s{n}", f"Subscription {n}")
    return account


def nth_event(n: int, now: datetime):
    """Events alternate: a charge fails (on one of the three subscriptions), then a transfer pays it."""
    i, value = n // 2, 1000 + (n // 2) % 7
    if n % 2 == 0:
        return ev.ChargeFailed(
            f"e{i}", f"s{i % SUBSCRIPTIONS}", f"c{i}", Money(value, "EUR"), "insufficient_funds", now
        )
    return ev.PaymentReceived(f"p{i}", Money(value, "EUR"), f"ref-{i}")


def drain(account: Account, policy, now: datetime) -> Account:
    """What send_notices does to the document: claim what is due, then record each as sent."""
    account, _ = decide(account, ClaimNotices(50, f"claim-{now.isoformat()}"), policy, now)
    claimed = tuple(SendResult(n.notice_id, "sent") for n in account.outbox if n.status == SENDING)
    if claimed:
        account, _ = decide(account, NoticesSent(f"claim-{now.isoformat()}", claimed), policy, now)
    return account


def drive(
    store,
    policy,
    account: Account,
    start: int,
    stop: int,
    at: datetime,
    write_every: int = 1,
    after_write: Callable[[Account, int], None] | None = None,
    step: timedelta = STEP,
) -> tuple[Account, datetime]:
    """Apply events start..stop-1, `step` apart (12 hours), writing the document every `write_every` events (and
    draining the notices before each write). Returns the stored account and the time reached."""
    for n in range(start, stop):
        account, _ = decide(account, nth_event(n, at), policy, at)
        at += step
        if (n + 1) % write_every == 0 or n + 1 == stop:
            account = store.replace(drain(account, policy, at))
            if after_write:
                after_write(account, n + 1)
    return account, at


def stored_size(container, account_id: str) -> int:
    """The account document's size in bytes, as stored (JSON, the service's own fields left out)."""
    doc = container.read_item(account_id, partition_key=account_id)
    return len(json.dumps({k: v for k, v in doc.items() if not k.startswith("_")}, separators=(",", ":")))
