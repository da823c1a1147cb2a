"""The sweep with a processor that cannot be used (its secret unresolved): retries are reserved and wait,
nothing is charged, the account is neither failed nor quarantined, and the next run with the processor back
sends the same attempt with its key."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from pastdue import bootstrap
from pastdue.adapters.gateway import UnavailableGateway
from pastdue.domain import events as ev
from pastdue.domain.money import Money
from pastdue.services.billing import record_event
from pastdue.services.sweep import run_sweep
from tests.support.busy import new_account
from tests.support.stored import stored


def test_a_sweep_without_the_processor_keeps_its_retries_reserved_then_sends_them(clock, app_env):
    deps = dataclasses.replace(bootstrap.deps(), after_notices_queued=None)
    account_id = f"nogw-{uuid.uuid4().hex[:8]}"
    deps.store.create(new_account(account_id))
    record_event(
        deps, account_id, ev.ChargeFailed("e-1", "s0", "ch-1", Money(1500, "EUR"), "card_declined", clock.now())
    )
    clock.advance(timedelta(days=3, hours=1))
    down = dataclasses.replace(deps, gateway=UnavailableGateway("stripe", "STRIPE_SECRET_KEY: unresolved"))
    run_sweep(down, 600)
    account = stored(deps.store, account_id)
    attempt = account.charge_of("ch-1").pending
    assert attempt is not None and attempt.outcome is None  # reserved, never sent
    assert account.failures == 0 and account.quarantine is None
    # The processor is back: the same attempt (same key) is sent and pays.
    clock.advance(timedelta(hours=1))
    run_sweep(deps, 600)
    account = stored(deps.store, account_id)
    charge = account.charge_of("ch-1")
    assert charge.status == "paid" and [a.key for a in charge.attempts] == [attempt.key]
