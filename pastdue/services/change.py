"""The one read-decide-write loop every use case shares: decide on the account read, write it If-Match,
on a 412 read and decide again."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import NamedTuple

from pastdue.adapters.store import ConcurrencyConflict, EventSeen, StoreUnavailable
from pastdue.adapters.telemetry import current_account
from pastdue.domain.errors import Rejected
from pastdue.domain.events import Decidable, Effect
from pastdue.domain.lifecycle import decide_in_place
from pastdue.domain.model import Account
from pastdue.services.deps import AccountNotFound, Contention, Deps
from pastdue.services.observe import Before, observe

log = logging.getLogger("pastdue")
MAX_CONFLICTS = 12


class Changed(NamedTuple):
    """A written decision: the account as stored, what it asks to be carried out, and the history records
    the write added (a run counts what it did from them; the document keeps only those not yet archived)."""

    account: Account
    effects: list[Effect]
    records: list[dict]


def change(
    deps: Deps,
    account_id: str,
    event: Decidable | Callable[[Account], Decidable],
    account: Account | None = None,
    tries: int = MAX_CONFLICTS,
) -> Changed:
    """Decide and save; on a 412 re-read and decide again (at most `tries` times). `event` may be a callable
    of the account."""
    current_account.set(account_id)  # on every log line from here on (adapters/telemetry.py)
    for attempt in range(tries):
        try:
            if account is None:
                account = deps.store.get(account_id)
                if account is None:
                    raise AccountNotFound(account_id)
            decided_event = event(account) if callable(event) else event
            # The account is this loop's own (read here, or handed over by the caller, who takes the result
            # instead): decided in place, with only what the metrics compare kept of the state before. The
            # store writes nothing when the document comes out the same.
            before = Before.of(account)
            new, effects = decide_in_place(account, decided_event, deps.policy, deps.clock.now())
            written = deps.store.replace(new)
            log.debug("%s written", type(decided_event).__name__)
            observe(deps, before, new)
            return Changed(written, effects, [r for r in new.history if r["seq"] > before.history_seq])
        except (ConcurrencyConflict, StoreUnavailable):
            # Someone else wrote, or we cannot tell whether our write landed: read again, decide again.
            account = None
            # Jittered backoff, so writers racing on one account spread out instead of colliding again.
            time.sleep(random.uniform(0, 0.01 * 2 ** min(attempt, 5)))
    raise Contention(f"account {account_id} could not be updated after {tries} tries (busy or unavailable)")


def change_once(
    deps: Deps,
    account_id: str,
    event_id: str,
    event: Decidable | Callable[[Account], Decidable],
    account: Account | None = None,
) -> Changed | None:
    """change() for an event that carries an id: None when the id was processed before. No read is spent on
    asking first: the write of a decision creates the id's item with the document (one batch), and an id
    stored before (a redelivery, or a concurrent delivery that wrote first) fails it whole, EventSeen.
    Only a decision that refuses the event is checked against the ids seen (a redelivery after the
    account moved on is a duplicate, not an error)."""
    try:
        return change(deps, account_id, event, account=account)
    except EventSeen:
        return None
    except Rejected:
        if deps.store.seen_event(account_id, event_id):
            return None
        raise
