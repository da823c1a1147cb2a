"""What a written decision did to money, as metrics (charges failed, collected, recovered): measured
against what change() kept of the account before deciding on it."""

from __future__ import annotations

import logging
from typing import NamedTuple

from pastdue.domain import retries
from pastdue.domain.model import PAID, Account
from pastdue.services.deps import Deps

log = logging.getLogger("pastdue")


class Before(NamedTuple):
    """What change() keeps of an account before deciding on it: its newest history record (what came
    after is what the write added) and what each charge had collected (for the metrics)."""

    history_seq: int
    paid: dict[str, tuple[str, int]]  # charge id -> (status, minor units collected)
    handed_over: frozenset[str]  # charges already moved to the archive list

    @classmethod
    def of(cls, account: Account) -> Before:
        return cls(
            account.history_seq,
            {c.charge_id: (c.status, c.paid.value if c.paid else 0) for c in account.charges},
            frozenset(c.charge_id for c in account.archive_charges),
        )


def observe(deps: Deps, before: Before, after: Account) -> None:
    """What a written decision did to money, as metrics: charges failed, collected (in part or whole), and
    recovered with the days it took. Never fails the write it follows; a test account counts in none."""
    if after.synthetic:
        return
    try:
        for charge in after.charges + after.archive_charges:
            old = before.paid.get(charge.charge_id)
            reason = retries.retry_class(charge.decline_code)
            if old is None and charge.charge_id not in before.handed_over:
                deps.metrics.emit("pastdue_charges_failed", 1, currency=charge.amount.currency, category=reason)
            collected = (charge.paid.value if charge.paid else 0) - (old[1] if old else 0)
            if collected > 0:
                deps.metrics.emit("pastdue_amount_recovered", collected, currency=charge.amount.currency)
            if charge.status == PAID and old is not None and old[0] != PAID:
                days = (charge.paid_at - charge.failed_at).days if charge.paid_at else 0
                deps.metrics.emit("pastdue_charges_recovered", 1, daysSinceFailure=max(0, days), category=reason)
        for entry in after.history:
            if (
                entry["seq"] > before.history_seq
                and entry["kind"] == "charge.succeeded"
                and entry["detail"].get("unexpected")
            ):
                # Money taken after a decline or an error was answered: applied, and operators look at why.
                deps.metrics.emit("pastdue_unexpected_success", 1, previous=entry["detail"].get("previousOutcome"))
            if entry["seq"] > before.history_seq and entry["kind"] == "payment.unexpected":
                # Money taken for a charge already settled here: kept as credit, and operators look at why.
                deps.metrics.emit("pastdue_unexpected_payment", 1, reason=entry["detail"].get("reason"))
    except Exception:
        log.exception("metrics of account %s not emitted", after.account_id)
