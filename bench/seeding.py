"""What both sweep benchmarks (bench/sweep.py, bench/fanout.py) seed: accounts of which the same DUE are due."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from pastdue.policy import shipped

DUE = 1_000


def seed(container, total: int, now: datetime) -> None:
    from pastdue.adapters.documents import to_document
    from pastdue.domain.lifecycle import decide
    from pastdue.domain.model import INVOICE, Account, Admin, Remittance, Subscription
    from tests.unit.builders import failed

    def make(n: int) -> dict:
        account = Account(
            f"bench-{n:06d}",
            Admin("oid", f"admin{n}@example.com", "Ada"),
            payment_mode=INVOICE,
            remittance=Remittance("FR76", "AGRIFRPP", f"INV-{n}"),
        )
        account.subscriptions["sub-0"] = Subscription("sub-0", "Production")
        if n < DUE:  # past due for 3 days: the day-3 reminder is due
            account, _ = decide(
                account, failed(at=now - timedelta(days=3, hours=1)), shipped(), now - timedelta(days=3, hours=1)
            )
            account.outbox.clear()
            account.notices_due_at = None
            account.processed_events.clear()  # as the store writes it: event ids are items, not in the document
        return to_document(account)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: container.create_item(make(n)), range(total)))
