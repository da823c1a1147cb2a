"""Bulkheads: what happens to an account whose processing fails. Pure rules; the store applies them.

A failure on one account never stops a run: it is counted on the account, the account is tried again
after a backoff, and after MAX_FAILURES (or at once, for a document that no longer loads) it is
quarantined: out of the sweep and the notice drain until someone repairs it and clears the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pastdue.domain.events import Effect, RunSucceeded

if TYPE_CHECKING:  # (the model and the policy import this module)
    from pastdue.domain.model import Account
    from pastdue.domain.policy import Policy

MAX_FAILURES = 5
FIRST_BACKOFF = timedelta(minutes=5)
LONGEST_BACKOFF = timedelta(hours=12)


@dataclass(frozen=True)
class FailureDecision:
    failures: int
    quarantined: bool
    retry_at: datetime | None


def after_failure(previous_failures: int, now: datetime, permanent: bool) -> FailureDecision:
    failures = max(0, previous_failures) + 1
    if permanent or failures >= MAX_FAILURES:
        return FailureDecision(failures, True, None)
    return FailureDecision(failures, False, now + min(FIRST_BACKOFF * 4 ** (failures - 1), LONGEST_BACKOFF))


def run_succeeded(account: Account, event: RunSucceeded, policy: Policy, now: datetime) -> list[Effect]:
    account.failures = 0
    return []
