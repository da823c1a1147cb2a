"""The account's audit timeline and the event ids it has processed: records are written once, numbered."""

from __future__ import annotations

from datetime import datetime

from pastdue.domain.codec import dump, format_time
from pastdue.domain.model import Account


def record(
    account: Account, now: datetime, kind: str, actor: str, subscription_id: str | None = None, **detail
) -> None:
    account.history_seq += 1
    account.history.append(
        {
            "seq": account.history_seq,
            "at": format_time(now),
            "kind": kind,
            "actor": actor,
            "detail": dump(detail),
            "subscriptionId": subscription_id,
        }
    )


def seen(account: Account, event_id: str, now: datetime) -> None:
    account.processed_events[event_id] = format_time(now)
